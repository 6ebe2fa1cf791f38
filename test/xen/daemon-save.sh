# shellcheck shell=sh
# virsh-save: save and restore, managed save, an aborted save, and dump of a guest counting
# on its console. Sourced by daemon-checks.sh, whose helpers it uses.

# last_count NAME: the last counter guest NAME printed (DOMU-COUNT N), and its log's size
last_count() {
	COUNT=$(grep -a -o 'DOMU-COUNT [0-9]*' "$CONLOG/guest-$1.log" 2>/dev/null | tail -n 1 | cut -d' ' -f2)
	LOGSIZE=$(wc -c <"$CONLOG/guest-$1.log")
}
# counts_on NAME WHAT: after the log's size LOGSIZE the guest prints a counter (within 60 s)
# above COUNT, and no boot marker: it went on where it stopped
counts_on() {
	_j=0
	_c=
	until [ -n "$_c" ]; do
		[ $_j -lt 60 ] || { WHY="$2: the guest printed no counter within 60 s"; return 1; }
		sleep 1
		_j=$((_j + 1))
		_c=$(tail -c +$((LOGSIZE + 1)) "$CONLOG/guest-$1.log" | grep -a -o 'DOMU-COUNT [0-9]*' | head -n 1 | cut -d' ' -f2)
	done
	[ "$_c" -gt "$COUNT" ] || { WHY="$2: the counter went from $COUNT to $_c"; return 1; }
	! tail -c +$((LOGSIZE + 1)) "$CONLOG/guest-$1.log" | grep -a -q DOMU-MARKER-OK || { WHY="$2: the guest booted again"; return 1; }
	CONT="$COUNT->$_c"
}
# vsave_abort NAME: virsh save into a fifo that a slow reader drains (16 KiB each half second),
# domjobabort once the job shows: the save fails as aborted and the guest runs on
vsave_abort() {
	_f=$TMPD/save-fifo
	rm -f "$_f"
	mkfifo "$_f"
	(while [ "$(dd bs=16k count=1 2>/dev/null | wc -c)" -gt 0 ]; do sleep 0.5; done <"$_f") &
	_r=$!
	V save "$1" "$_f" >$TMPD/save-abort.out 2>&1 &
	_s=$!
	_j=0
	until V domjobinfo "$1" 2>/dev/null | grep -q -E 'Job type: +(Unbounded|Bounded)'; do
		[ $_j -lt 40 ] || { WHY="domjobinfo showed no job during the save"; kill $_s $_r 2>/dev/null; return 1; }
		sleep 0.5
		_j=$((_j + 1))
	done
	sleep 2
	step "virsh domjobabort $1" V domjobabort "$1" || return 1
	_rc=0
	wait $_s || _rc=$?
	kill $_r 2>/dev/null || true
	rm -f "$_f"
	[ $_rc != 0 ] && grep -q "canceled by client" $TMPD/save-abort.out ||
		{ WHY="aborted save: rc=$_rc: $(tr '\n' ' ' <$TMPD/save-abort.out)"; return 1; }
	state "$1" running 30 || return 1
}
# full_save NAME: virsh save into a filesystem with no room for the stream (a 512 KiB tmpfs)
# fails, before libxl starts (the daemon's log names the backend's fallocate of the stream's
# start: a failed write of libxl's own start would crash libxl), and the guest runs on
full_save() {
	_d=$TMPD/save-full
	mkdir -p "$_d"
	mount -t tmpfs -o size=512k tmpfs "$_d" || { WHY="cannot mount a 512 KiB tmpfs on $_d"; return 1; }
	_l=$(wc -l <$DLOG)
	_rc=0
	V save "$1" "$_d/img" >$TMPD/save-full.out 2>&1 || _rc=$?
	umount "$_d" || true
	[ $_rc != 0 ] && grep -q "Failed to save domain" $TMPD/save-full.out ||
		{ WHY="save into a full filesystem: rc=$_rc: $(tr '\n' ' ' <$TMPD/save-full.out)"; return 1; }
	tail -n +$((_l + 1)) $DLOG | grep -a -q 'fallocate .*no space left on device' ||
		{ WHY="save into a full filesystem: the daemon's log does not say fallocate found no space"; return 1; }
	state "$1" running 30
}
# watch_events NAME: virsh event --all --loop on guest NAME into $TMPD/events.out in the
# background ($EVW), once it is seen to receive: a title set live until its metadata change shows
watch_events() {
	timeout 600 virsh -q -c "$URI" event --domain "$1" --all --loop >$TMPD/events.out 2>&1 &
	EVW=$!
	_j=0
	until grep -q "metadata-change" $TMPD/events.out; do
		[ $_j -lt 30 ] || { WHY="virsh event on $1 saw no metadata change in 30 s"; kill $EVW 2>/dev/null; return 1; }
		V desc "$1" --live --title "events $_j" >/dev/null 2>&1 || true
		sleep 1
		_j=$((_j + 1))
	done
}
# saved_events: the watcher (watch_events) got the save's job-completed event (operation 2,
# VIR_DOMAIN_JOB_OPERATION_SAVE), as libvirt's QEMU driver sends it, before its Stopped Saved
saved_events() {
	_j=0
	until grep -q "Stopped Saved" $TMPD/events.out; do
		[ $_j -lt 30 ] || break
		sleep 1
		_j=$((_j + 1))
	done
	kill $EVW 2>/dev/null || true
	_job=$(grep -n "event 'job-completed'" $TMPD/events.out | head -n 1 | cut -d: -f1)
	_stop=$(grep -n "Stopped Saved" $TMPD/events.out | head -n 1 | cut -d: -f1)
	[ -n "$_job" ] && [ -n "$_stop" ] && [ "$_job" -lt "$_stop" ] &&
		sed -n "$((_job + 1))p" $TMPD/events.out | grep -q "operation: 2" ||
		{ WHY="virsh event during the save: $(tr '\n\t' '  ' <$TMPD/events.out)"; return 1; }
}
# elf_core FILE: FILE starts as an ELF core file (ELFCLASS64, ELFDATA2LSB, e_type ET_CORE)
elf_core() {
	_h=$(od -A n -t x1 -N 18 "$1" | tr -d ' \n')
	[ "$(echo "$_h" | cut -c1-12)" = 7f454c460201 ] && [ "$(echo "$_h" | cut -c33-36)" = 0400 ]
}

# virsh-save: the PV guest counting on its console is saved (virsh event sees its job-completed
# event, then Stopped Saved) and restored, managed-saved and
# started, and goes on counting from where it stopped; an aborted save, and one into a full
# filesystem, leave it running; dump
# writes an ELF core; and xl save / xl restore of the same guest for the figures
check_virsh_save() {
	DEBUG_FN="vguest_debug vx-save"
	forget vx-save
	_img=$TMPD/vx-save.img
	step "virsh define" V define $XT/guests/vx-save.xml || return 1
	vstart vx-save || return 1
	_real=${VX_BACKEND:-libxl}
	[ "$_real" != libxl ] || wait_con vx-save 'DOMU-COUNT 2([^0-9]|$)' 1 60 || return 1
	last_count vx-save
	watch_events vx-save || return 1
	_t=$(now)
	step "virsh save" V save vx-save "$_img" || return 1
	_ts=$(since "$_t")
	saved_events || return 1
	_size=$(($(wc -c <"$_img") / 1024))
	state vx-save "shut off" 10 || return 1
	step "virsh save-image-dumpxml" V save-image-dumpxml "$_img" || return 1
	grep -q '<name>vx-save</name>' $TMPD/step.out || { WHY="save-image-dumpxml: $(head -c 200 $TMPD/step.out)"; return 1; }
	_t=$(now)
	step "virsh restore" V restore "$_img" || return 1
	_tr=$(since "$_t")
	state vx-save running 10 || return 1
	rm -f "$_img"
	if [ "$_real" = libxl ]; then counts_on vx-save "restore" || return 1; fi
	_c1=${CONT:-}
	last_count vx-save
	step "virsh managedsave" V managedsave vx-save || return 1
	V dominfo vx-save | grep -q 'Managed save: *yes' || { WHY="dominfo shows no managed save image"; return 1; }
	step "virsh start (from the managed save)" V start vx-save || return 1
	state vx-save running 10 || return 1
	if [ "$_real" = libxl ]; then counts_on vx-save "managed save and start" || return 1; fi
	_c2=${CONT:-}
	V dominfo vx-save | grep -q 'Managed save: *no' || { WHY="the managed save image outlived the start"; return 1; }
	vsave_abort vx-save || return 1
	_full=
	if [ "$_real" = libxl ]; then
		full_save vx-save || return 1
		_full="; save into a full filesystem: refused, running on"
	fi
	last_count vx-save
	if [ "$_real" = libxl ]; then counts_on vx-save "aborted and refused saves" || return 1; fi
	step "virsh dump" V dump vx-save $TMPD/vx-save.core || return 1
	elf_core $TMPD/vx-save.core || { WHY="the dump is no ELF core: $(od -A n -t x1 -N 18 $TMPD/vx-save.core)"; return 1; }
	_core=$(($(wc -c <$TMPD/vx-save.core) / 1024))
	rm -f $TMPD/vx-save.core
	state vx-save running 10 || return 1
	_xl=
	if [ "$_real" = libxl ]; then
		# xl on the same guest, for the figures: xl save destroys it behind the daemon's back
		# (seen as destroyed), xl restore makes a domain the daemon does not know
		_t=$(now)
		step "xl save" xl save vx-save "$_img" || return 1
		_xs=$(since "$_t")
		_xsize=$(($(wc -c <"$_img") / 1024))
		state vx-save "shut off" 30 || return 1
		_t=$(now)
		step "xl restore" xl restore "$_img" || return 1
		_xr=$(since "$_t")
		rm -f "$_img"
		xl destroy vx-save >/dev/null 2>&1 || true
		_xl="; xl save ${_xs} s (${_xsize} KiB), xl restore ${_xr} s"
		echo "TIME save: virsh save ${_ts} s (${_size} KiB), virsh restore ${_tr} s$_xl"
	fi
	forget vx-save
	DETAIL="save ${_ts} s (${_size} KiB), restore ${_tr} s, counter $_c1; managed save and start: counter $_c2; domjobabort: running on$_full; dump: ELF core of ${_core} KiB$_xl"
}

# save_rounds NAME CMD: SAVE_ROUNDS saves and restores of vx-save into $_img through CMD (V or
# xl), each timed; one TIME line
save_rounds() {
	_s= _r= _n=0
	while [ $_n -lt "${SAVE_ROUNDS:-3}" ]; do
		_t=$(now)
		$2 save vx-save "$_img" >/dev/null 2>&1 || { echo "TIME save rounds: $1 save failed"; break; }
		_s="$_s $(since "$_t")"
		_t=$(now)
		$2 restore "$_img" >/dev/null 2>&1 || { echo "TIME save rounds: $1 restore failed"; break; }
		_r="$_r $(since "$_t")"
		rm -f "$_img"
		_n=$((_n + 1))
	done
	echo "TIME save rounds: $1 save$_s s, $1 restore$_r s"
}

# TIME line (run.sh ONLY=save): SAVE_ROUNDS saves and restores of the booted PV guest vx-save,
# each timed through virsh, then as many through xl, in the same boot
time_save() {
	forget vx-save
	_img=$TMPD/vx-save.img
	_b=$(grep -a -c -E 'DOMU-COUNT 2([^0-9]|$)' "$CONLOG/guest-vx-save.log" 2>/dev/null || true)
	V define $XT/guests/vx-save.xml >/dev/null 2>&1 && V start vx-save >/dev/null 2>&1 ||
		{ echo "TIME save rounds: vx-save did not start"; forget vx-save; return 0; }
	[ "${VX_BACKEND:-libxl}" != libxl ] || wait_con vx-save 'DOMU-COUNT 2([^0-9]|$)' $((${_b:-0} + 1)) 60 ||
		{ echo "TIME save rounds: vx-save did not boot: $WHY"; forget vx-save; return 0; }
	save_rounds virsh V
	[ "${VX_BACKEND:-libxl}" = libxl ] || { forget vx-save; return 0; }
	save_rounds xl xl
	rm -f "$_img"
	xl destroy vx-save >/dev/null 2>&1 || true
	forget vx-save
}
