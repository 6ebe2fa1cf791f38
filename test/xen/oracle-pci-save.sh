# shellcheck shell=sh
# test/xen/oracle-pci-save.sh: the oracle's areas that involve more than the daemon: PCI
# (with a libvirtd beside ours for node devices) and save images read and restored across
# the two daemons.
# Sourced by oracle.sh, whose settings and session helpers (sec, run_batch, SIDE, URI,
# OD) it uses.

# ---- PCI (issue 16): nodedev-detach, -reset, -reattach of the NIC run.sh gives dom0, by
# node device name, with their errors; a PV guest started paused with it as a managed
# hostdev (when Xen has an IOMMU), its live XML, the device in use, and its return at
# destroy. libvirt's libxl driver takes these calls itself and asks libvirtd's node device
# driver for the device; ours asks a libvirtd beside it (start_beside), as virsh-pci.
area_pci() {
	_a=$(pci_find "$PCI_ID") || { echo "oracle: $SIDE: dom0 has no PCI device $PCI_ID"; return 0; }
	_nat=$(pci_driver "$_a")
	_nd=pci_$(echo "$_a" | tr ':.' '__')
	[ "$SIDE" != virtxend ] || start_beside || { echo "oracle: $SIDE: $WHY"; return 0; }
	sec pci/list "nodedev-list --cap pci"
	sec pci/dumpxml "nodedev-dumpxml $_nd"
	sec pci/reattach-attached "nodedev-reattach $_nd; nodedev-dumpxml $_nd"
	sec pci/reset-attached "nodedev-reset $_nd"
	sec pci/detach "nodedev-detach $_nd; nodedev-dumpxml $_nd"
	sec pci/detach-again "nodedev-detach $_nd"
	sec pci/reset "nodedev-reset $_nd"
	sec pci/reattach "nodedev-reattach $_nd; nodedev-dumpxml $_nd"
	sec pci/detach-driver-xen "nodedev-detach --driver xen $_nd; nodedev-dumpxml $_nd; nodedev-reattach $_nd"
	sec pci/detach-driver-vfio "nodedev-detach --driver vfio $_nd; nodedev-dumpxml $_nd; nodedev-reattach $_nd"
	sec pci/unknown "nodedev-detach pci_0000_09_00_0; nodedev-reset pci_0000_09_00_0; nodedev-reattach pci_0000_09_00_0; nodedev-detach nosuch"
	sec pci/not-pci "nodedev-detach computer; nodedev-reset computer; nodedev-reattach computer"
	if timeout 30 xl info | grep '^virt_caps' | grep -q -w pv_directio; then
		sed -e "s|<name>vx-pv</name>|<name>o-pci</name>|" -e "s|<devices>|<devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x${_a%%:*}' bus='0x$(echo "$_a" | cut -d: -f2)' slot='0x$(echo "$_a" | cut -d: -f3 | cut -d. -f1)' function='0x${_a##*.}'/></source></hostdev>|" \
			$G/vx-pv.xml >$TMPD/o-pci.xml
		sec pci/hostdev-start "define $TMPD/o-pci.xml; start --paused o-pci; domstate --reason o-pci; nodedev-dumpxml $_nd"
		sec pci/hostdev-dumpxml "dumpxml o-pci; dumpxml --inactive o-pci"
		sec pci/hostdev-in-use "nodedev-reattach $_nd; nodedev-reset $_nd; nodedev-detach $_nd"
		sec pci/hostdev-destroy "destroy o-pci; nodedev-dumpxml $_nd; undefine o-pci"
	else
		echo "oracle: $SIDE: Xen has no IOMMU: no guest with the device"
	fi
	pci_one_cpu # both sides alike
	run_batch pci
	pci_all_cpus
	# the next side starts from the device on its own driver
	[ "$(pci_driver "$_a")" = "$_nat" ] || { echo "oracle: $SIDE: $_a left on '$(pci_driver "$_a")'"; pci_bind "$_a" "$_nat" || echo "oracle: $WHY"; }
	[ "$SIDE" != virtxend ] || stop_beside
}
# start_beside, stop_beside: Debian's libvirtd (no libxl driver) on virtxend's run directory,
# where virtxend looks for libvirt's node device driver; BPID is its pid
start_beside() {
	mkdir -p /etc/libvirt $VR/run/libvirt
	printf 'unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' $VR/run/libvirt >/etc/libvirt/libvirtd-beside.conf
	libvirtd -f /etc/libvirt/libvirtd-beside.conf -p /run/libvirtd-beside.pid >>/var/log/libvirtd-beside.log 2>&1 &
	BPID=$!
	_i=0
	# (through virtxend, as virsh-net-vol: libvirtd has no driver of its own for xen:///)
	until V nodedev-list --cap pci >/dev/null 2>&1; do
		kill -0 $BPID 2>/dev/null || { WHY="libvirtd beside virtxend exited: $(tail -n 2 /var/log/libvirtd-beside.log | tr '\n' ' ')"; return 1; }
		[ $_i -lt 120 ] || { WHY="libvirtd beside virtxend did not serve within 60 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
stop_beside() {
	kill $BPID 2>/dev/null || true
	wait $BPID 2>/dev/null || true
}

# ---- save images across the daemons (issue 15): both write libvirt's libxl save header, the
# domain XML and libxl's stream. Each side keeps its own managed save image of vx-pv
# (keep_image) and reads it (area_xchg_own: libvirt 9.0's libxl driver has no
# save-image-dumpxml, which is listed); the other daemon then reads it and restores it, ours
# at its session's start (area_xchg_in, before any save of its own), libvirt's in a short
# session of its own after ours (side_xchg). The sections are named by whose image they
# read, so each compares the two daemons on the same image.
area_xchg_own() {
	[ -f "$TMPD/oracle-xchg-$SIDE.save" ] || return 0
	sec "xchg/image-$SIDE" "save-image-dumpxml $TMPD/oracle-xchg-$SIDE.save"
	run_batch xchg
}
area_xchg_in() {
	_o=libvirt
	[ "$SIDE" = virtxend ] || _o=virtxend
	[ -f "$TMPD/oracle-xchg-$_o.save" ] || return 0
	mv "$TMPD/oracle-xchg-$_o.save" $XCHG
	sec "xchg/image-$_o" "save-image-dumpxml $XCHG"
	sec xchg/restore "restore $XCHG; domstate --reason vx-pv; dominfo vx-pv; dumpxml vx-pv; list --all"
	run_batch xchg
	# a guest that did not survive its resume (on_crash destroy) is gone by now
	sleep 2
	sec xchg/restored "domstate --reason vx-pv; destroy vx-pv; list --all"
	run_batch xchg
	rm -f $XCHG
}
# side_xchg: after ours, libvirt's daemon again, on ours' image alone
side_xchg() {
	SIDE=$1
	OD=$O/$1
	_ts=$(now)
	area_xchg_in
	echo "oracle: $1: save image of virtxend read and restored in $(since "$_ts") s"
}
