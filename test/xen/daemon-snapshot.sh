# shellcheck shell=sh
# virsh-snapshot: domain snapshots of a running PV guest with a qcow2 disk (libxl's qdisk
# backend, QEMU's block layer), through virsh and the daemon. Sourced by daemon-checks.sh,
# whose helpers it uses (and lib.sh's guest_write, guest_read, img_word; daemon-save.sh's
# last_count).

SNAP_IMG=/root/vx-snap.qcow2

# count_back NAME BEFORE: guest NAME, reverted, prints a counter below BEFORE (within 60 s)
# after its log's size LOGSIZE, in FIRST: it came back from an older memory (counters it
# printed before the revert took effect are above); fails if it booted again meanwhile
count_back() {
	_j=0
	FIRST=
	until [ -n "$FIRST" ]; do
		[ $_j -lt 60 ] || { WHY="$1 printed no counter below $2 within 60 s of the revert"; return 1; }
		sleep 1
		_j=$((_j + 1))
		FIRST=$(tail -c +$((LOGSIZE + 1)) "$CONLOG/guest-$1.log" | grep -a -o 'DOMU-COUNT [0-9]*' |
			awk -v b="$2" '$2 < b { print $2; exit }')
	done
	! tail -c +$((LOGSIZE + 1)) "$CONLOG/guest-$1.log" | grep -a -q DOMU-MARKER-OK || { WHY="$1 booted again instead of coming back from its memory"; return 1; }
}

# want_read NAME SECTOR WORD: guest NAME reads WORD ("-": nothing) in sector SECTOR of xvda
want_read() {
	guest_read "$1" xvda "$2" || return 1
	[ "$READ" = "$3" ] || { WHY="$4: the guest reads '$READ' in sector $2, want '$3'"; return 1; }
}

# qdisk_stats NAME: guest NAME's xvda, which QEMU serves (libxl's qdisk), has QEMU's counters,
# which libvirt's libxl driver refuses ("unsupported disk driver qemu"): domblkstat has reads
# and writes (the guest wrote a sector just before; within 30 s for the simulated host, whose
# counters follow CPU time) and no errs (QEMU keeps none), and domstats' block group QEMU's
# times. QSTATS says what they were.
qdisk_stats() {
	_i=0
	while :; do
		step "virsh domblkstat $1 xvda" V domblkstat "$1" xvda || return 1
		_rd=$(statv $TMPD/step.out rd_req)
		_wr=$(statv $TMPD/step.out wr_req)
		[ "${_rd:-0}" -gt 0 ] && [ "${_wr:-0}" -gt 0 ] && break
		[ $_i -lt 30 ] || { WHY="domblkstat of the qdisk xvda: $(tr -s ' \n' ' ' <$TMPD/step.out)"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	[ -z "$(statv $TMPD/step.out errs)" ] || { WHY="domblkstat of the qdisk xvda has errs: $(tr -s ' \n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh domstats --block $1" V domstats --block "$1" || return 1
	_wt=$(statv $TMPD/step.out block.0.wr.times)
	[ "$(statv $TMPD/step.out block.0.wr.reqs)" -ge "$_wr" ] && [ -n "$_wt" ] ||
		{ WHY="domstats --block of the qdisk: $(tr -s ' \n' ' ' <$TMPD/step.out | cut -c1-300)"; return 1; }
	QSTATS="rd_req $_rd, wr_req $_wr, then block.0.wr.times $_wt ns"
}

# virsh-snapshot: the guest writes MARK1, and its disk has QEMU's counters (qdisk_stats); a
# disk-only snapshot d1 switches its disk to an
# overlay while it is paused (the base keeps MARK1 alone); it writes MARK2; a full snapshot f1
# (memory in a file, the disk on a second overlay); it writes MARK3 and counts on; revert to f1:
# it runs from f1's memory (its counter went back, no reboot) on a disk with MARK1 and MARK2 but
# not MARK3. Then an internal snapshot r1 of the running guest (memory beside the metadata, the
# qcow2 snapshot taken by QEMU), MARK4, revert to r1: MARK4 gone. virsh list --with-snapshot
# names it, and virsh migrate is refused; blockresize; blkdeviotune reaches QEMU (iotune_snap);
# an external snapshot deleted while the guest runs (delete_running_snap); the backup routine,
# blockcommit --active --pivot (blockcommit_snap).
# Times of each step.
check_virsh_snapshot() {
	DEBUG_FN="vguest_debug vx-snap"
	forget_snap
	rm -f /root/vx-snap.*
	step "qemu-img create" qemu-img create -q -f qcow2 "$SNAP_IMG" 16M || return 1
	step "virsh define" V define $XT/guests/vx-snap.xml || return 1
	vstart vx-snap || return 1
	wait_con vx-snap 'DOMU-COUNT 2([^0-9]|$)' 1 60 || return 1
	guest_write vx-snap xvda 1 MARK1 || return 1
	qdisk_stats vx-snap || return 1
	_t=$(now)
	step "virsh snapshot-create-as --disk-only" V snapshot-create-as vx-snap d1 --disk-only || return 1
	_td=$(since "$_t")
	state vx-snap running 10 || return 1
	_ov=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	[ "$_ov" = /root/vx-snap.d1 ] || { WHY="after d1 xvda is '$_ov'"; return 1; }
	[ "$(xl_disk vx-snap xvda)" = /root/vx-snap.d1 ] || { WHY="after d1 xl list -l says xvda is $(xl_disk vx-snap xvda)"; return 1; }
	guest_write vx-snap xvda 2 MARK2 || return 1
	[ "$(img_word "$SNAP_IMG" 1)" = MARK1 ] && [ "$(img_word "$SNAP_IMG" 2)" = - ] ||
		{ WHY="the base image after d1: sector 1 '$(img_word "$SNAP_IMG" 1)', sector 2 '$(img_word "$SNAP_IMG" 2)'"; return 1; }
	[ "$(img_word /root/vx-snap.d1 2)" = MARK2 ] || { WHY="the overlay d1 lacks MARK2"; return 1; }
	_t=$(now)
	step "virsh snapshot-create-as --memspec" V snapshot-create-as vx-snap f1 --memspec file=/root/vx-snap.f1mem || return 1
	_tf=$(since "$_t")
	state vx-snap running 10 || return 1
	guest_write vx-snap xvda 3 MARK3 || return 1
	wait_con vx-snap 'DOMU-COUNT' 1 5 || true
	sleep 3
	last_count vx-snap
	_before=$COUNT
	_t=$(now)
	step "virsh snapshot-revert f1" V snapshot-revert vx-snap f1 || return 1
	_tr=$(since "$_t")
	state vx-snap running 10 || return 1
	count_back vx-snap "$_before" || return 1
	want_read vx-snap 1 MARK1 "revert to f1" || return 1
	want_read vx-snap 2 MARK2 "revert to f1" || return 1
	want_read vx-snap 3 - "revert to f1" || return 1
	# dom0's root is a tmpfs in its 512 MiB: f1's memory image goes (its metadata with it)
	# before r1's is written
	step "virsh snapshot-delete f1 --metadata" V snapshot-delete vx-snap f1 --metadata || return 1
	rm -f /root/vx-snap.f1mem
	delete_running_snap || return 1
	blockcommit_snap || return 1
	_t=$(now)
	step "virsh snapshot-create-as (internal, running)" V snapshot-create-as vx-snap r1 || return 1
	_ti=$(since "$_t")
	guest_write vx-snap xvda 4 MARK4 || return 1
	step "virsh snapshot-revert r1" V snapshot-revert vx-snap r1 || return 1
	state vx-snap running 10 || return 1
	want_read vx-snap 4 - "revert to r1" || return 1
	want_read vx-snap 2 MARK2 "revert to r1" || return 1
	step "virsh snapshot-list --tree" V snapshot-list vx-snap --tree || return 1
	_tree=$(tr -s ' \n' ' ' <$TMPD/step.out)
	# virsh list's filter sees them, and they keep the guest on its host, as libvirt's QEMU
	# driver keeps it (qemuMigrationSrcIsAllowed: refused at Begin, before any destination acts)
	_with=$(V list --with-snapshot --name | tr -d ' \n')
	[ "$_with" = vx-snap ] || { WHY="virsh list --with-snapshot: '$_with'"; return 1; }
	if V migrate --live vx-snap "$URI" >$TMPD/step.out 2>&1; then
		WHY="virsh migrate of a guest with snapshots was not refused"
		return 1
	fi
	grep -q 'cannot migrate domain with 2 snapshots' $TMPD/step.out ||
		{ WHY="virsh migrate with snapshots: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	# blockresize of its qcow2 disk (which libvirt's libxl driver lacks): QEMU's block_resize,
	# whose xen-block device tells the guest's blkfront (16 to 32 MiB: 32768 to 65536 sectors)
	_b=$(con_count vx-snap 'xvda: detected capacity change')
	_t=$(now)
	step "virsh blockresize" V blockresize vx-snap xvda 32M || return 1
	guest_sees vx-snap 'xvda: detected capacity change from 32768 to 65536' "$_b" 60 || return 1
	_tz=$(since "$_t")
	iotune_snap || return 1
	forget_snap
	DETAIL="QEMU's counters of the qdisk: $QSTATS; disk-only ${_td} s, full ${_tf} s, revert ${_tr} s (counter $_before -> $FIRST), external deleted running ${_te} s, blockcommit --active --pivot ${_tb} s, internal ${_ti} s; tree: $_tree; blockresize seen by the guest in ${_tz} s; blkdeviotune reached QEMU; a blockpull followed across a kill -9 of the daemon"
	echo "TIME snapshot: disk-only ${_td} s, full (memory to a file) ${_tf} s, revert to it ${_tr} s, external deleted while running ${_te} s, blockcommit --active --pivot ${_tb} s, internal with memory ${_ti} s"
}

# delete_running_snap: an external snapshot deleted while vx-snap runs, as libvirt's QEMU driver
# deletes it: e1 (disk-only) puts an overlay over xvda's image; the guest writes MARK5 into it;
# deleting e1 has QEMU block-commit the overlay into the image below (an active commit, completed
# once ready), which xvda then reads (domblklist, xl list -l), holding MARK5; the overlay is gone.
# Sets _te, the delete's time.
delete_running_snap() {
	_below=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	step "virsh snapshot-create-as e1 --disk-only" V snapshot-create-as vx-snap e1 --disk-only || return 1
	guest_write vx-snap xvda 5 MARK5 || return 1
	_t=$(now)
	step "virsh snapshot-delete e1 (running)" V snapshot-delete vx-snap e1 || return 1
	_te=$(since "$_t")
	state vx-snap running 10 || return 1
	_now=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	[ "$_now" = "$_below" ] || { WHY="after deleting e1 xvda is '$_now', want '$_below'"; return 1; }
	[ "$(xl_disk vx-snap xvda)" = "$_below" ] || { WHY="after deleting e1 xl list -l says xvda is $(xl_disk vx-snap xvda)"; return 1; }
	[ ! -e /root/vx-snap.e1 ] || { WHY="e1's overlay /root/vx-snap.e1 is still there"; return 1; }
	[ "$(img_word "$_below" 5)" = MARK5 ] || { WHY="$_below lacks MARK5 after the commit: '$(img_word "$_below" 5)'"; return 1; }
	want_read vx-snap 5 MARK5 "after deleting e1" || return 1
}

# blockcommit_snap: the backup routine on vx-snap, as backup tools run it through virsh: a
# disk-only snapshot without metadata puts an overlay over xvda's image (which could then be
# copied whole); the guest writes MARK6 into the overlay; blockcommit --active --shallow --pivot
# --wait has QEMU mirror the overlay into the image right below (without --shallow, libvirt's base
# is the bottom of the chain) and switch the disk to it (domblklist, xl list -l), which then holds
# MARK6; then blockpull makes that image stand alone (across a kill -9 of the daemon), and
# blockcopy moves the disk onto a copy of it. Sets _tb, the commit's time.
blockcommit_snap() {
	_below=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	step "virsh snapshot-create-as --disk-only --no-metadata" V snapshot-create-as vx-snap bk --disk-only --no-metadata || return 1
	_ov=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	[ "$_ov" != "$_below" ] || { WHY="the backup snapshot left xvda on $_below"; return 1; }
	guest_write vx-snap xvda 6 MARK6 || return 1
	_t=$(now)
	step "virsh blockcommit --active --shallow --pivot --wait" V blockcommit vx-snap xvda --active --shallow --pivot --wait || return 1
	_tb=$(since "$_t")
	state vx-snap running 10 || return 1
	_now=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	[ "$_now" = "$_below" ] || { WHY="after blockcommit --pivot xvda is '$_now', want '$_below'"; return 1; }
	[ "$(xl_disk vx-snap xvda)" = "$_below" ] || { WHY="after blockcommit --pivot xl list -l says xvda is $(xl_disk vx-snap xvda)"; return 1; }
	[ "$(img_word "$_below" 6)" = MARK6 ] || { WHY="$_below lacks MARK6 after the commit: '$(img_word "$_below" 6)'"; return 1; }
	want_read vx-snap 6 MARK6 "after blockcommit --pivot" || return 1
	rm -f "$_ov"
	# blockpull: QEMU's block-stream copies the whole chain into xvda's image, which then stands
	# alone and still reads what every layer held: a new overlay, whose backing image holds MARK6
	# (the image below may stand alone already, and a pull of nothing ends at once). Held at 1
	# byte a second after its first chunk, the job outlives a kill -9 of the daemon: the next
	# daemon finds it in the status file and, once its speed is lifted, follows it to its end.
	step "virsh snapshot-create-as --disk-only --no-metadata" V snapshot-create-as vx-snap pl --disk-only --no-metadata || return 1
	_pl=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	step "virsh blockpull --bandwidth 1 --bytes" V blockpull vx-snap xvda --bandwidth 1 --bytes || return 1
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	start_daemon || return 1
	V blockjob vx-snap xvda --info >$TMPD/bj.out 2>&1
	grep -q 'Block Pull' $TMPD/bj.out || { WHY="after a kill -9 of the daemon blockjob --info says: $(tr '\r\n' '  ' <$TMPD/bj.out)"; return 1; }
	step "virsh blockjob --bandwidth 0" V blockjob vx-snap xvda --bandwidth 0 || return 1
	_i=0
	while V blockjob vx-snap xvda --info 2>&1 | grep -q 'Block Pull'; do
		[ $_i -lt 120 ] || { WHY="the pull followed again did not end in 60 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	qemu-img info -U "$_pl" >$TMPD/qi.out 2>&1 && ! grep -q '^backing file:' $TMPD/qi.out ||
		{ WHY="after blockpull $_pl: $(tr '\n' ' ' <$TMPD/qi.out)"; return 1; }
	want_read vx-snap 1 MARK1 "after blockpull" || return 1
	want_read vx-snap 6 MARK6 "after blockpull" || return 1
	# blockcopy --transient-job (vx-snap is persistent): QEMU's drive-mirror into a new image, then
	# --pivot: xvda is the copy (domblklist, xl list -l), which holds MARK6
	step "virsh blockcopy --transient-job --wait --pivot" V blockcopy vx-snap xvda /root/vx-snap.copy --transient-job --wait --pivot || return 1
	_now=$(V domblklist vx-snap | awk '$1 == "xvda" { print $2 }')
	[ "$_now" = /root/vx-snap.copy ] || { WHY="after blockcopy --pivot xvda is '$_now'"; return 1; }
	[ "$(xl_disk vx-snap xvda)" = /root/vx-snap.copy ] || { WHY="after blockcopy --pivot xl list -l says xvda is $(xl_disk vx-snap xvda)"; return 1; }
	[ "$(img_word /root/vx-snap.copy 6)" = MARK6 ] || { WHY="the copy lacks MARK6: '$(img_word /root/vx-snap.copy 6)'"; return 1; }
	want_read vx-snap 6 MARK6 "after blockcopy --pivot" || return 1
}

# iotune_snap: blkdeviotune of vx-snap's qcow2 disk (which libvirt's libxl driver lacks): the
# limit its definition has (<iotune>, 64 MiB/s) was given to QEMU's block throttling when the
# revert to r1 restored it, as a start gives it; a live change reaches QEMU and virsh reads it
# back; all 0 lifts it. QEMU's own account: HMP info block, through xl qemu-monitor-command.
iotune_snap() {
	qemu_throttle vx-snap 'bps=67108864 ' "after the revert" || return 1
	step "virsh blkdeviotune --live" V blkdeviotune vx-snap xvda --live --total-iops-sec 5000 || return 1
	qemu_throttle vx-snap 'bps=67108864 .* iops=5000 ' "after blkdeviotune --total-iops-sec 5000" || return 1
	step "virsh blkdeviotune" V blkdeviotune vx-snap xvda || return 1
	grep -q -E '^total_iops_sec *: 5000$' $TMPD/step.out && grep -q -E '^total_bytes_sec *: 67108864$' $TMPD/step.out ||
		{ WHY="blkdeviotune: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "virsh blkdeviotune --live (all 0)" V blkdeviotune vx-snap xvda --live --total-bytes-sec 0 --total-iops-sec 0 || return 1
	step "xl qemu-monitor-command info block" xl qemu-monitor-command vx-snap "info block" || return 1
	! grep -q 'I/O throttling' $TMPD/step.out || { WHY="after all 0 QEMU still throttles: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
}

# qemu_throttle NAME PATTERN WHEN: HMP info block of guest NAME's device model (xl
# qemu-monitor-command) shows I/O throttling that matches PATTERN (an extended regex)
qemu_throttle() {
	step "xl qemu-monitor-command info block" xl qemu-monitor-command "$1" "info block" || return 1
	grep -q -E "I/O throttling: *$2" $TMPD/step.out || { WHY="$3, QEMU's info block: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
}

# forget_snap: vx-snap gone, with its snapshots' metadata and files
forget_snap() {
	V destroy vx-snap >/dev/null 2>&1 || true
	V undefine vx-snap --snapshots-metadata >/dev/null 2>&1 || true
	rm -f /root/vx-snap.*
}
