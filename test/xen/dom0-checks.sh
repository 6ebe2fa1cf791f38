#!/bin/sh
# The checks of Xen itself and of its stock toolstack (xl), run by dom0's /init.
# Each prints one "CHECK PASS|FAIL|SKIP name: detail" line (see lib.sh).
set -eu
set -o pipefail
. /xt/lib.sh
. /xt/pci-probe.sh
XL_TIMES=${XL_TIMES:-3}

check_dom0_boot() {
	[ "$(cat /sys/hypervisor/type 2>/dev/null)" = xen ] || { WHY="/sys/hypervisor/type is not xen"; return 1; }
	DETAIL="dom0 $(uname -r) reached /init under Xen $(cat /sys/hypervisor/version/major).$(cat /sys/hypervisor/version/minor)$(cat /sys/hypervisor/version/extra), up $(now) s"
}

# guest NAME created from xl config CFG shows its marker
xl_up() {
	DEBUG_FN="guest_debug $1"
	timeout 60 xl destroy "$1" >/dev/null 2>&1 || true # left over by an earlier failed check?
	_t=$(now)
	step "xl create $2" timeout 180 xl create "$2" || return 1
	XL_CREATE=$(since "$_t")
	wait_con "$1" DOMU-MARKER-OK 1 120 || return 1
	XL_MARKER=$(since "$_t")
}
xl_destroy() {
	step "xl destroy $1" timeout 60 xl destroy "$1" || return 1
	wait_gone "$1" 30
}

check_xl_pv() {
	xl_up xt-pv /xt/guests/xt-pv.cfg || return 1
	xl_destroy xt-pv || return 1
	DETAIL="created in $XL_CREATE s, marker at $XL_MARKER s, destroyed"
}
check_xl_pv_shutdown() {
	xl_up xt-pv /xt/guests/xt-pv.cfg || return 1
	_t=$(now)
	step "xl shutdown -w xt-pv" timeout 90 xl shutdown -w xt-pv || return 1
	wait_gone xt-pv 30 || return 1
	DETAIL="created, marker, clean shutdown in $(since "$_t") s"
}
check_xl_pvh() {
	xl_up xt-pvh /xt/guests/xt-pvh.cfg || return 1
	xl_destroy xt-pvh || return 1
	DETAIL="created in $XL_CREATE s, marker at $XL_MARKER s, destroyed"
}
check_xl_pv_dev() {
	xl_up xt-dev /xt/guests/xt-dev.cfg || return 1
	wait_con xt-dev 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-xt-dev.log || { WHY="guest did not read the disk's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-xt-dev.log || { WHY="guest could not ping dom0 over xenbr0"; return 1; }
	step "xl block-list" timeout 30 xl block-list xt-dev || return 1
	grep -q '^51712 ' $TMPD/step.out || { WHY="xl block-list shows no xvda"; return 1; }
	step "xl network-list" timeout 30 xl network-list xt-dev || return 1
	[ "$(wc -l <$TMPD/step.out)" -ge 2 ] || { WHY="xl network-list shows no vif"; return 1; }
	xl_destroy xt-dev || return 1
	DETAIL="created in $XL_CREATE s, marker at $XL_MARKER s, disk read, ping over xenbr0, destroyed"
}

# An HVM guest: hvmloader, SeaBIOS and the device model (qemu-system-xen). Under nested TCG
# its Linux takes about 90 s to boot (SeaBIOS's option ROM alone reads the kernel through
# fw_cfg for some 40 s), so this check stops once SeaBIOS boots the kernel; virsh-hvm
# boots it all the way. hvmloader and SeaBIOS log on Xen's debug port, hence xl dmesg.
check_xl_hvm() {
	DEBUG_FN="hvm_debug xt-hvm"
	timeout 60 xl destroy xt-hvm >/dev/null 2>&1 || true
	_t=$(now)
	step "xl create xt-hvm.cfg" timeout 180 xl create /xt/guests/xt-hvm.cfg || return 1
	_c=$(since "$_t")
	_id=$(xl domid xt-hvm) || { WHY="xl domid xt-hvm: no such domain after create"; return 1; }
	dm_up "$_id" 10 || return 1
	_dm=$DM
	_i=0
	# (not "xl dmesg | grep -q": with pipefail an early grep exit would fail the pipeline)
	until timeout 30 xl dmesg >$TMPD/xl-dmesg.out 2>&1 && grep -q "(d$_id) .*Booting from ROM" $TMPD/xl-dmesg.out; do
		[ $_i -lt 120 ] || { WHY="no 'Booting from ROM' from SeaBIOS of d$_id in xl dmesg within 120 s"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	_b=$(since "$_t")
	_rss=$(dm_rss "$_dm")
	xl_destroy xt-hvm || return 1
	dm_gone "$_id" 15 || return 1
	DETAIL="created in $_c s (device model pid $_dm, RSS $_rss), hvmloader and SeaBIOS ran, SeaBIOS booted the kernel at $_b s, destroyed"
}

# xl-snapshot: the mechanism under a running guest's disk snapshots, with xl, qemu-img and QMP
# (socat) alone. xt-snap's disk is a qcow2 image, which libxl serves with its qdisk backend:
# QEMU's xen-block in the guest's device model, whose root node for it is "xvda-qcow2"
# (VDEV-FORMAT). The guest writes a marker; paused, the disk gets an internal snapshot (HMP
# snapshot_blkdev_internal, through xl qemu-monitor-command), then switches to an overlay made
# by qemu-img over the image (QMP blockdev-snapshot-sync, mode existing: HMP's snapshot_blkdev
# finds a disk only by its BlockBackend's name, and xen-block's has none); unpaused, the guest
# writes a second marker, which only the overlay has, and reads it back through the device
# model; paused again, the overlay gets an internal snapshot. libxl's configuration still names
# the base image (the backend's SwitchDisks updates it; nothing here does), as the line says.
# Last the disk is unplugged, and the device model lets go of both images.
SNAP_BASE=/root/snap-base.qcow2 SNAP_OV=/root/snap-ov.qcow2
check_xl_snapshot() {
	DEBUG_FN="snap_debug xt-snap"
	rm -f $SNAP_BASE $SNAP_OV
	step "qemu-img create $SNAP_BASE" qemu-img create -q -f qcow2 $SNAP_BASE 16M || return 1
	xl_up xt-snap /xt/guests/xt-snap.cfg || return 1
	_id=$(xl domid xt-snap)
	hmp xt-snap 'info block' || return 1
	grep -q "^xvda-qcow2: $SNAP_BASE (qcow2)" $TMPD/step.out || { WHY="info block: $(head -n 1 $TMPD/step.out)"; return 1; }
	guest_write xt-snap xvda 2048 XTSNAP1 || return 1
	# an internal snapshot of the base, paused
	_t=$(now)
	step "xl pause" xl pause xt-snap || return 1
	hmp xt-snap 'snapshot_blkdev_internal xvda-qcow2 xtsnap1' || return 1
	step "xl unpause" xl unpause xt-snap || return 1
	_wi=$(since "$_t")
	step "qemu-img snapshot -l -U $SNAP_BASE" qemu-img snapshot -l -U $SNAP_BASE || return 1
	grep -q ' xtsnap1 ' $TMPD/step.out || { WHY="qemu-img snapshot -l lists no xtsnap1 in $SNAP_BASE"; return 1; }
	# the switch to an overlay, paused
	step "qemu-img create $SNAP_OV" qemu-img create -q -f qcow2 -F qcow2 -b $SNAP_BASE $SNAP_OV || return 1
	_t=$(now)
	step "xl pause" xl pause xt-snap || return 1
	_q=$(now)
	qmp "$_id" '{"execute": "blockdev-snapshot-sync", "arguments": {"node-name": "xvda-qcow2", "snapshot-file": "'$SNAP_OV'", "snapshot-node-name": "xvda-ov1", "format": "qcow2", "mode": "existing"}}' || return 1
	_wq=$(since "$_q")
	step "xl unpause" xl unpause xt-snap || return 1
	_we=$(since "$_t")
	hmp xt-snap 'info block' || return 1
	grep -q "^xvda-ov1: $SNAP_OV (qcow2)" $TMPD/step.out && grep -q "Backing file: *$SNAP_BASE " $TMPD/step.out ||
		{ WHY="info block after the switch: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ' | cut -c1-200)"; return 1; }
	guest_write xt-snap xvda 4096 XTSNAP2 || return 1
	_w=$(img_word $SNAP_BASE 2048)/$(img_word $SNAP_BASE 4096)/$(img_word $SNAP_OV 2048)/$(img_word $SNAP_OV 4096)
	[ "$_w" = XTSNAP1/-/XTSNAP1/XTSNAP2 ] || { WHY="markers at sectors 2048 and 4096 of the base, then through the overlay: $_w, want XTSNAP1/-/XTSNAP1/XTSNAP2"; return 1; }
	guest_read xt-snap xvda 4096 || return 1
	[ "$READ" = XTSNAP2 ] || { WHY="the guest reads '$READ' at sector 4096, want XTSNAP2"; return 1; }
	step "qemu-img info --backing-chain" qemu-img info -U --backing-chain $SNAP_OV || return 1
	grep -q "^backing file: $SNAP_BASE\$" $TMPD/step.out || { WHY="qemu-img info: $SNAP_OV has no backing file $SNAP_BASE"; return 1; }
	# an internal snapshot of the overlay: the root node now
	step "xl pause" xl pause xt-snap || return 1
	hmp xt-snap 'snapshot_blkdev_internal xvda-ov1 xtsnap2' || return 1
	step "xl unpause" xl unpause xt-snap || return 1
	step "qemu-img snapshot -l -U $SNAP_OV" qemu-img snapshot -l -U $SNAP_OV || return 1
	grep -q ' xtsnap2 ' $TMPD/step.out || { WHY="qemu-img snapshot -l lists no xtsnap2 in $SNAP_OV"; return 1; }
	_p=$(timeout 30 xl list -l xt-snap | sed -n 's/.*"pdev_path": "\(.*\)",*$/\1/p' | head -n 1)
	# the switched disk unplugs: xen-block deletes the node it made (now the overlay's backing)
	# once the device, and with it the overlay, is gone
	step "xl block-detach xt-snap xvda" timeout 60 xl block-detach xt-snap xvda || return 1
	wait_con xt-snap 'DOMU-BLK-DEL xvda' 1 30 || return 1
	hmp xt-snap 'info block -n' || return 1
	! grep -q -E 'snap-(base|ov)' $TMPD/step.out || { WHY="after the unplug the device model still has: $(grep -E 'snap-(base|ov)' $TMPD/step.out | tr '\n' ' ')"; return 1; }
	xl_destroy xt-snap || return 1
	dm_gone "$_id" 15 || return 1
	rm -f $SNAP_BASE $SNAP_OV
	DETAIL="markers through xen-block (node xvda-qcow2): the base has the first, its overlay both; paused $_wi s for the internal snapshot, $_we s for the switch (QMP $_wq s); xl list -l still names ${_p:-?}; unplugged"
}
snap_debug() {
	guest_debug "$1"
	echo "--- info block"
	timeout 30 xl qemu-monitor-command "$1" 'info block' 2>&1
	echo "--- QMP's last answers"
	tail -n 3 $TMPD/qmp.out 2>/dev/null | cut -c1-600
	echo "--- device model log"
	tail -n 10 "/var/log/xen/qemu-dm-$1.log" 2>/dev/null
	timeout 60 xl destroy "$1" >/dev/null 2>&1 || true
	rm -f $SNAP_BASE $SNAP_OV
}

# TIME lines: create+destroy of the device-less PV guest through xl (no wait for the marker)
time_xl() {
	_c=0 _d=0 _n=0
	while [ $_n -lt "$XL_TIMES" ]; do
		_t=$(now)
		timeout 180 xl create /xt/guests/xt-pv.cfg >/dev/null 2>&1 || { echo "TIME xl: create failed"; return 0; }
		_c=$(awk -v s="$_c" -v d="$(since "$_t")" 'BEGIN { print s + d }')
		_t=$(now)
		timeout 60 xl destroy xt-pv >/dev/null 2>&1 || { echo "TIME xl: destroy failed"; return 0; }
		_d=$(awk -v s="$_d" -v d="$(since "$_t")" 'BEGIN { print s + d }')
		_n=$((_n + 1))
	done
	awk -v c="$_c" -v d="$_d" -v n="$_n" 'BEGIN { printf "TIME xl: PV guest create %.2f s, destroy %.2f s (mean of %d)\n", c / n, d / n, n }'
}

run_check dom0-boot check_dom0_boot
run_check toolstack check_toolstack
case ${XT_ONLY:-} in oracle | save)
	# run.sh ONLY=oracle or ONLY=save: the toolstack is all they need of this script
	for c in xl-pv xl-pv-shutdown xl-pvh xl-pv-disk-nic xl-hvm xl-pci xl-snapshot; do skip $c "not run (ONLY=$XT_ONLY)"; done
	exit 0
	;;
esac
run_check xl-pv check_xl_pv
run_check xl-pv-shutdown check_xl_pv_shutdown
if has_hap; then
	run_check xl-pvh check_xl_pvh
else
	skip xl-pvh "Xen reports no HAP (the emulated CPU lacks SVM+NPT); Debian's Xen has no shadow paging"
fi
run_check xl-pv-disk-nic check_xl_pv_dev
if has_hap; then
	run_check xl-hvm check_xl_hvm
else
	skip xl-hvm "Xen reports no HAP (the emulated CPU lacks SVM+NPT); Debian's Xen has no shadow paging"
fi
run_check xl-pci check_xl_pci
run_check xl-snapshot check_xl_snapshot
time_xl
