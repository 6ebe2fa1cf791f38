# shellcheck shell=sh
# virsh-pci: PCI passthrough through the daemon, with Debian's libvirtd beside it for the node
# device driver. Sourced by daemon-checks.sh, whose helpers it uses, after daemon-net-vol.sh
# (start_libvirtd) and pci-probe.sh (the device run.sh gives dom0, pci_driver, pci_modules).

pci_guest_debug() {
	vguest_debug "$1"
	pci_debug
	echo "--- hostdevs.json"
	cat $VR/run/libvirt/libxl/hostdevs.json 2>/dev/null
}

# vx_pci_xml NAME XT_PCI [HOSTDEV]: a PV guest whose init lists its PCI devices (xt.pci=SECS
# waits that long for one), with HOSTDEV among its devices. Xen gives a guest a device later
# only if it was created with an IOMMU context, which libxl makes for a guest that starts with
# PCI devices, or asks for one: <passthrough state='on'/> (without it, a hotplug fails with
# libxl's "xc_assign_device failed ... operation not supported").
vx_pci_xml() {
	sed -e "s|<name>vx-pv</name>|<name>$1</name>|" -e "s|<cmdline>console=hvc0</cmdline>|<cmdline>console=hvc0 xt.pci=$2</cmdline>|" \
		-e "s|</os>|</os><features><xen><passthrough state='on'/></xen></features>|" \
		-e "s|<devices>|<devices>${3:-}|" $XT/guests/vx-pv.xml
}

# The device: nodedev-detach binds it to pciback, nodedev-reset resets it (a PM reset: no
# FLR, PM without No_Soft_Reset), nodedev-reattach returns it to its driver; a PV guest with it
# as a managed hostdev sees it bound to its driver, and its destroy returns it; then the same
# device hot-plugged into a running guest, seen, unplugged and returned.
check_virsh_pci() {
	pci_one_cpu
	_rc=0
	virsh_pci_steps || _rc=$?
	pci_all_cpus
	DETAIL="${DETAIL:-}; $ONE_CPU"
	return $_rc
}

virsh_pci_steps() {
	DEBUG_FN=pci_debug
	pci_modules || return 1
	_a=$(pci_find "$PCI_ID") || { WHY="dom0 has no PCI device $PCI_ID"; return 1; }
	_nat=$(pci_driver "$_a")
	_nd=pci_$(echo "$_a" | tr ':.' '__')
	_h="<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x${_a%%:*}' bus='0x$(echo "$_a" | cut -d: -f2)' slot='0x$(echo "$_a" | cut -d: -f3 | cut -d. -f1)' function='0x${_a##*.}'/></source></hostdev>"
	start_libvirtd || return 1
	step "virsh nodedev-list --cap pci" V nodedev-list --cap pci || return 1
	grep -q "^$_nd\$" $TMPD/step.out || { WHY="nodedev-list lacks $_nd: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	_t=$(now)
	step "virsh nodedev-detach $_nd" V nodedev-detach "$_nd" || return 1
	_det=$(since "$_t")
	[ "$(pci_driver "$_a")" = pciback ] || { WHY="after nodedev-detach, $_a is on '$(pci_driver "$_a")'"; return 1; }
	_t=$(now)
	step "virsh nodedev-reset $_nd" V nodedev-reset "$_nd" || return 1
	_rst=$(since "$_t")
	step "virsh nodedev-reattach $_nd" V nodedev-reattach "$_nd" || return 1
	[ "$(pci_driver "$_a")" = "$_nat" ] || { WHY="after nodedev-reattach, $_a is on '$(pci_driver "$_a")', not $_nat"; return 1; }
	if ! timeout 30 xl info | grep '^virt_caps' | grep -q -w pv_directio; then
		DETAIL="$_nd: detach ${_det}s, reset ${_rst}s, reattach to $_nat; no guest: Xen has no IOMMU"
		return 0
	fi
	DEBUG_FN="pci_guest_debug vx-pci"
	forget vx-pci
	vx_pci_xml vx-pci 30 "$_h" >$TMPD/vx-pci.xml
	step "virsh define" V define $TMPD/vx-pci.xml || return 1
	vstart vx-pci || return 1
	wait_con vx-pci 'DOMU-PCI-DONE' 1 120 || return 1
	_g=$(grep -a -m 1 -E "^DOMU-PCI [0-9a-f:.]+ 0x${PCI_ID%:*}:0x${PCI_ID#*:} " "$CONLOG/guest-vx-pci.log" | tr -d '\r') ||
		{ WHY="the guest did not list $PCI_ID among its PCI devices"; return 1; }
	case $_g in *" driver=$PCI_NATIVE") ;; *) WHY="in the guest: '$_g'"; return 1 ;; esac
	[ "$(pci_driver "$_a")" = pciback ] || { WHY="while the guest runs, $_a is on '$(pci_driver "$_a")'"; return 1; }
	if V nodedev-reattach "$_nd" >$TMPD/step.out 2>&1; then
		WHY="nodedev-reattach of the device a running guest has succeeded"
		return 1
	fi
	grep -q "is in use by driver xenlight, domain vx-pci" $TMPD/step.out || { WHY="nodedev-reattach while in use: $(cat $TMPD/step.out)"; return 1; }
	step "virsh destroy vx-pci" V destroy vx-pci || return 1
	wait_gone vx-pci 30 || return 1
	[ "$(pci_driver "$_a")" = "$_nat" ] || { WHY="after the guest's destroy, $_a is on '$(pci_driver "$_a")', not $_nat"; return 1; }
	V undefine vx-pci >/dev/null
	# hotplug: a guest booted without it waits for a PCI device
	DEBUG_FN="pci_guest_debug vx-pcihp"
	forget vx-pcihp
	vx_pci_xml vx-pcihp 120 >$TMPD/vx-pcihp.xml
	step "virsh define" V define $TMPD/vx-pcihp.xml || return 1
	vstart vx-pcihp || return 1
	echo "$_h" >$TMPD/hostdev.xml
	_t=$(now)
	step "virsh attach-device --live" V attach-device vx-pcihp $TMPD/hostdev.xml --live || return 1
	_att=$(since "$_t")
	wait_con vx-pcihp 'DOMU-PCI-DONE' 1 150 || return 1
	grep -a -q -E "^DOMU-PCI [0-9a-f:.]+ 0x${PCI_ID%:*}:0x${PCI_ID#*:} .*driver=$PCI_NATIVE" "$CONLOG/guest-vx-pcihp.log" ||
		{ WHY="the guest did not see the hot-plugged device: $(grep -a DOMU-PCI "$CONLOG/guest-vx-pcihp.log" | tr '\r\n' '  ')"; return 1; }
	_t=$(now)
	step "virsh detach-device --live" V detach-device vx-pcihp $TMPD/hostdev.xml --live || return 1
	_dtt=$(since "$_t")
	[ "$(pci_driver "$_a")" = "$_nat" ] || { WHY="after detach-device, $_a is on '$(pci_driver "$_a")', not $_nat"; return 1; }
	step "virsh destroy vx-pcihp" V destroy vx-pcihp || return 1
	V undefine vx-pcihp >/dev/null
	kill "$LPID" 2>/dev/null || true
	wait "$LPID" 2>/dev/null || true
	DETAIL="$_nd: detach ${_det}s, reset ${_rst}s, reattach to $_nat; managed hostdev: guest saw '${_g#DOMU-PCI }', returned at destroy; hotplug ${_att}s seen, unplug ${_dtt}s returned"
}
