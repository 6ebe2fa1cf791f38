# shellcheck shell=sh
# PCI passthrough in dom0 by plain sysfs and xl, for dom0-checks.sh (xl-pci) and the
# daemon's PCI checks: sourced after lib.sh, under busybox sh with set -eu.
#
# run.sh gives dom0 one device for this: QEMU's e1000e (8086:10d3, the 82574L NIC, no network
# behind it) behind a pcie-root-port, so 0000:01:00.0 in dom0, its native driver e1000e. It has
# no FLR; its PM capability has No_Soft_Reset clear, so libvirt's rules pick a PM reset
# (D3hot and back), and, not being on bus 0, a secondary bus reset of its root port would do
# too: Linux's reset_method says "pm bus", and its sysfs reset works with either. The IOMMU
# Xen needs to assign it to a guest is QEMU's intel-iommu (VT-d), hence run.sh's q35 machine.
#
# By hand in dom0 (what pci_modules, pci_find and pci_bind do):
#   insmod /lib/modules/e1000e.ko; insmod /lib/modules/xen-pciback.ko
#   A=0000:01:00.0; D=/sys/bus/pci/devices/$A      # readlink $D/driver: .../e1000e
#   echo pciback >$D/driver_override; echo $A >$D/driver/unbind; echo $A >/sys/bus/pci/drivers_probe
#   echo >$D/driver_override                       # now on pciback, listed in its slots
#   echo $A >$D/driver/unbind; echo $A >/sys/bus/pci/drivers_probe   # back on e1000e
#   cat $D/reset_method; echo 1 >$D/reset          # "pm bus"; a PM reset

PCI_ID=${PCI_ID:-8086:10d3} # vendor:device of the device to pass through
PCI_NATIVE=${PCI_NATIVE:-e1000e}
SYSPCI=/sys/bus/pci

# pci_one_cpu, pci_all_cpus: QEMU 7.2's multi-threaded TCG can crash when one vCPU makes an
# MMIO access while another changes the memory map, which binding, resetting and reprobing a
# passed-through device does again and again (README.md, Known limits: it struck virsh-pci four
# times). While a check does that, Xen's second CPU leaves its pool and idles, so that dom0 and
# the guests run on one QEMU vCPU and the other makes next to no MMIO.
pci_one_cpu() {
	ONE_CPU="Xen's CPU 1 out of its pool meanwhile"
	timeout 30 xl cpupool-cpu-remove Pool-0 1 >$TMPD/cpupool.out 2>&1 || ONE_CPU="both CPUs ($(tr '\n' ' ' <$TMPD/cpupool.out))"
}
pci_all_cpus() { timeout 30 xl cpupool-cpu-add Pool-0 1 >/dev/null 2>&1 || true; }

# pci_modules: load the native driver and xen-pciback (both modules in Debian's kernel)
pci_modules() {
	for _m in "$PCI_NATIVE" xen-pciback; do
		[ -d "/sys/module/$(echo "$_m" | tr - _)" ] && continue
		step "insmod $_m" insmod "/lib/modules/$_m.ko" || return 1
	done
	[ -d $SYSPCI/drivers/pciback ] || { WHY="no $SYSPCI/drivers/pciback after loading xen-pciback"; return 1; }
}

# pci_find VENDOR:DEVICE: the address (0000:01:00.0) of the first such device
pci_find() {
	for _d in $SYSPCI/devices/*; do
		[ "$(cat "$_d/vendor"):$(cat "$_d/device")" = "0x${1%:*}:0x${1#*:}" ] && { echo "${_d##*/}"; return 0; }
	done
	return 1
}

# pci_driver ADDR: the driver bound to the device, or nothing
pci_driver() {
	_l=$(readlink "$SYSPCI/devices/$1/driver" 2>/dev/null) || return 0
	echo "${_l##*/}"
}

# pci_bind ADDR DRIVER: bind the device to DRIVER (pciback, or its native driver), as
# libvirt's virPCIDeviceBindToStub does: driver_override, unbind from the current
# driver, drivers_probe; then driver_override is cleared again. Sets WHY on failure.
pci_bind() {
	_d=$SYSPCI/devices/$1
	[ "$(pci_driver "$1")" = "$2" ] && return 0
	echo "$2" >"$_d/driver_override" || { WHY="$1: could not write driver_override"; return 1; }
	if [ -e "$_d/driver" ]; then
		echo "$1" >"$_d/driver/unbind" || { WHY="$1: could not unbind from $(pci_driver "$1")"; return 1; }
	fi
	echo "$1" >$SYSPCI/drivers_probe || true # (its error says only that no driver took it)
	echo >"$_d/driver_override"
	[ "$(pci_driver "$1")" = "$2" ] || { WHY="$1: bound to '$(pci_driver "$1")' after probing, not $2"; return 1; }
}

# pci_caps ADDR: the config space's capabilities (PM and its No_Soft_Reset bit, PCIe and its
# FLR bit, AF FLR) and the reset libvirt's rules pick: FLR (none needed), else a PM reset
# without No_Soft_Reset, else a secondary bus reset when the device is not on bus 0, else none
pci_caps() {
	od -An -tu1 -v "$SYSPCI/devices/$1/config" | awk -v bus="$(echo "$1" | cut -d: -f2)" '
	{ for (i = 1; i <= NF; i++) b[n++] = $i + 0 }
	function w(o) { return b[o] + 256 * b[o + 1] }
	function d(o) { return w(o) + 65536 * w(o + 2) }
	END {
		out = ""; flr = 0; pm = 0
		if (and(b[6], 16)) {
			p = b[52]; g = 0
			while (p >= 64 && g++ < 48) {
				id = b[p]
				if (id == 1) { nsr = and(w(p + 4), 8) ? 1 : 0; pm = !nsr; out = out sprintf(" pm(no_soft_reset=%d)", nsr) }
				else if (id == 16) { f = and(d(p + 4), 268435456) ? 1 : 0; flr = flr || f; out = out sprintf(" pcie(flr=%d)", f) }
				else if (id == 19) { f = and(b[p + 3], 2) ? 1 : 0; flr = flr || f; out = out sprintf(" af(flr=%d)", f) }
				else if (id == 5) out = out " msi"
				else if (id == 17) out = out " msix"
				else out = out sprintf(" cap%02x", id)
				p = b[p + 1]
			}
		}
		print "caps" (out == "" ? " none" : out) " libvirt_reset=" (flr ? "flr" : pm ? "pm" : bus != "00" ? "bus" : "none")
	}'
}

# pci_reset_method ADDR: what Linux can reset the device with (reset_method: "pm bus"), or
# "none" (no reset file either; libxl then logs "The kernel doesn't support reset from sysfs")
pci_reset_method() {
	cat "$SYSPCI/devices/$1/reset_method" 2>/dev/null || echo none
}

# check_xl_pci: the device in dom0, its native driver, bound to pciback by sysfs and back; then,
# if Xen has an IOMMU, through xl: pci-assignable-add, a PV guest with pci=[it] whose init
# lists it bound to its driver (domu-init.sh's xt.pci), destroy, the device back in pciback,
# pci-assignable-remove -r, its native driver again
check_xl_pci() {
	DEBUG_FN=pci_debug
	pci_modules || return 1
	PCI_ADDR=$(pci_find "$PCI_ID") || { WHY="dom0 has no PCI device $PCI_ID (run.sh's QEMU should give it one)"; return 1; }
	_a=$PCI_ADDR
	_nat=$(pci_driver "$_a")
	[ "$_nat" = "$PCI_NATIVE" ] || { WHY="$_a is bound to '$_nat', not $PCI_NATIVE"; return 1; }
	_caps=$(pci_caps "$_a")
	_rm=$(pci_reset_method "$_a")
	pci_bind "$_a" pciback || return 1
	grep -q "$_a" $SYSPCI/drivers/pciback/slots || { WHY="pciback bound $_a but does not list it in its slots"; return 1; }
	pci_bind "$_a" "$_nat" || return 1
	DETAIL="$_a ($PCI_ID) on $_nat, $_caps, reset_method $_rm; sysfs: to pciback and back to $_nat"
	if ! timeout 30 xl info | grep '^virt_caps' | grep -q -w pv_directio; then
		DETAIL="$DETAIL; no passthrough: Xen has no IOMMU (no pv_directio in virt_caps)"
		return 0
	fi
	step "xl pci-assignable-add $_a" timeout 60 xl pci-assignable-add "$_a" || return 1
	[ "$(pci_driver "$_a")" = pciback ] || { WHY="after xl pci-assignable-add, $_a is on '$(pci_driver "$_a")'"; return 1; }
	timeout 60 xl destroy xt-pci >/dev/null 2>&1 || true
	sed -e 's/^name .*/name = "xt-pci"/' -e 's/^extra .*/extra = "console=hvc0 xt.pci"/' /xt/guests/xt-pv.cfg >$TMPD/xt-pci.cfg
	echo "pci = [ '$_a' ]" >>$TMPD/xt-pci.cfg
	DEBUG_FN="guest_debug xt-pci"
	step "xl create xt-pci (pci = $_a)" timeout 180 xl create $TMPD/xt-pci.cfg || return 1
	wait_con xt-pci 'DOMU-PCI-DONE' 1 120 || return 1
	_g=$(grep -a -m 1 -E "^DOMU-PCI [0-9a-f:.]+ 0x${PCI_ID%:*}:0x${PCI_ID#*:} " "$CONLOG/guest-xt-pci.log" | tr -d '\r') ||
		{ WHY="the guest's init did not list $PCI_ID among its PCI devices"; return 1; }
	case $_g in *" driver=$PCI_NATIVE") ;; *) WHY="in the guest: '$_g', not bound to $PCI_NATIVE"; return 1 ;; esac
	step "xl pci-list xt-pci" timeout 30 xl pci-list xt-pci || return 1
	grep -q "$_a" $TMPD/step.out || { WHY="xl pci-list xt-pci does not list $_a"; return 1; }
	step "xl destroy xt-pci" timeout 60 xl destroy xt-pci || return 1
	wait_gone xt-pci 30 || return 1
	[ "$(pci_driver "$_a")" = pciback ] || { WHY="after the guest's destroy, $_a is on '$(pci_driver "$_a")', not pciback"; return 1; }
	DEBUG_FN=pci_debug
	step "xl pci-assignable-remove -r $_a" timeout 60 xl pci-assignable-remove -r "$_a" || return 1
	[ "$(pci_driver "$_a")" = "$_nat" ] || { WHY="after xl pci-assignable-remove -r, $_a is on '$(pci_driver "$_a")'"; return 1; }
	DETAIL="$DETAIL; xl: assignable, PV guest saw '${_g#DOMU-PCI }', destroyed, back on pciback, then on $_nat"
}
pci_debug() {
	cat $TMPD/step.out 2>/dev/null
	for _d in $SYSPCI/devices/*; do
		echo "${_d##*/} $(cat "$_d/vendor"):$(cat "$_d/device") driver=$(pci_driver "${_d##*/}")"
	done
	timeout 20 xl pci-assignable-list
	timeout 20 xl dmesg | grep -i -E 'iommu|vt-d|pci' | tail -n 15
	dmesg | tail -n 10
}
