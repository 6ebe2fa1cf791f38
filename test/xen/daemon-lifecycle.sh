# shellcheck shell=sh
# virsh-pv and virsh-pvh: a guest's life through the daemon (define, start, console,
# reboot, shutdown, destroy, undefine). Sourced by daemon-checks.sh, whose helpers it uses.

# vrestart NAME SECS VIRSH-ARGS...: a virsh call that makes the running guest NAME (id in ID)
# boot again, as a new domain: reboot (the driver destroys it and starts it again, for on_reboot
# = restart), reset (which libvirt's libxl driver lacks: Xen cannot reset a domain in place, so
# the driver destroys it and boots it again at once), send-key's Ctrl+Alt+Delete; wait up to
# SECS for the next marker, check the new id with xl and that the old domain is gone. RESTART is
# how long from the call to the marker.
vrestart() {
	_vrn=$1 _vrs=$2
	shift 2
	_m=$(($(markers "$_vrn") + 1))
	_old=$ID
	_t=$(now)
	step "virsh $*" V "$@" || return 1
	wait_con "$_vrn" DOMU-MARKER-OK $_m "$_vrs" || return 1
	state "$_vrn" running 30 || return 1
	ID=$(V domid "$_vrn")
	[ "$ID" != "$_old" ] || { WHY="after virsh $1 the guest kept id $ID"; return 1; }
	[ "$(xl domid "$_vrn" 2>/dev/null)" = "$ID" ] || { WHY="after virsh $1 virsh says id $ID, xl says $(xl domid "$_vrn" 2>&1)"; return 1; }
	! xl list "$_old" >/dev/null 2>&1 || { WHY="after virsh $1 the old domain $_old is still there"; return 1; }
	RESTART=$(since "$_t")
}

# vtty NAME: virsh ttyconsole names the pty xenconsoled gave the guest's console (the daemon
# records it a moment after the start, as libvirt does); the simulated host's console daemon
# gives one too
vtty() {
	TTY=
	_i=0
	while [ $_i -lt 20 ]; do
		TTY=$(V ttyconsole "$1" 2>/dev/null | head -n 1)
		[ -n "$TTY" ] && break
		sleep 0.5
		_i=$((_i + 1))
	done
	[ -n "$TTY" ] || { WHY="virsh ttyconsole $1 names no pty within 10 s"; return 1; }
	[ -c "$TTY" ] || { WHY="virsh ttyconsole $1: '$TTY' is not a character device"; return 1; }
}

# con_has FILE REGEX SECS: wait until FILE (a console session's output) has a line matching REGEX
con_has() {
	_j=0
	until grep -a -q -E "$2" "$1" 2>/dev/null; do
		[ $_j -lt "$3" ] || { WHY="virsh console printed no '$2' within $3 s: $(tail -c 300 "$1" 2>/dev/null | tr -d '\r' | tr '\n' '|')"; return 1; }
		sleep 1
		_j=$((_j + 1))
	done
}

# vconsole NAME [FIRST]: virsh console through the daemon, on script(1)'s pty as a user runs it: it
# shows the boot output the guest printed before anyone connected (xenconsoled keeps it in
# the pty) with the guest's marker, then the guest's answer to a typed line; ^] ends it. The
# simulated guest prints its own banner and answers a line with the line.
vconsole() {
	_out=$TMPD/console-$1.out
	_in=$TMPD/console-$1.in
	_tok=vx-console-$$
	if [ "${VX_BACKEND:-libxl}" = libxl ]; then
		_boot=DOMU-MARKER-OK _answer="^DOMU-ECHO $_tok"
	else
		_boot="Booting simulated Xen guest '$1'" _answer="^$_tok"
	fi
	[ -z "${2:-}" ] || _boot=$2 # what shows first, when the boot output is not replayed
	rm -f "$_out" "$_in"
	mkfifo "$_in"
	_t=$(now)
	script -q -f -c "virsh -c '$URI' console $1" "$_out" <"$_in" >/dev/null 2>&1 &
	_sp=$!
	exec 3>"$_in"
	_rc=0
	con_has "$_out" "Escape character" 60 && con_has "$_out" "$_boot" 60 &&
		printf '%s\r' "$_tok" >&3 && con_has "$_out" "$_answer" 60 || _rc=1
	printf '\035' >&3 # ^]
	exec 3>&-
	_j=0
	while kill -0 $_sp 2>/dev/null; do
		[ $_j -lt 20 ] || { kill $_sp; WHY="${WHY:-virsh console did not end on ^]}"; _rc=1; break; }
		sleep 0.5
		_j=$((_j + 1))
	done
	wait $_sp 2>/dev/null || true
	rm -f "$_in"
	[ $_rc = 0 ] || return 1
	CONSOLE="console: '$_boot' and '${_answer#^}' in $(since "$_t") s"
}

# vfollow_open NAME: a virsh console session on NAME, on script(1)'s pty, held open in the
# background (its input on fd 7, its output $TMPD/follow-NAME.out) across what comes next,
# until vfollow_check
vfollow_open() {
	_fo=$TMPD/follow-$1.out _fi=$TMPD/follow-$1.in
	FOLLOW_IN=$_fi
	rm -f "$_fo" "$_fi"
	mkfifo "$_fi"
	script -q -f -c "virsh -c '$URI' console $1" "$_fo" <"$_fi" >/dev/null 2>&1 &
	FOLLOW_PID=$!
	exec 7>"$_fi"
	con_has "$_fo" "Escape character" 60 || { vfollow_end; return 1; }
}
# vfollow_check NAME BOOTS: the session vfollow_open opened is still open after the guest
# booted again BOOTS times (a new domain each time on Xen), printed each new boot's marker
# and answers a typed line from the boot that runs now; ^] ends it. FOLLOW says what was seen.
vfollow_check() {
	_fo=$TMPD/follow-$1.out _tok=vx-follow-$$
	if [ "${VX_BACKEND:-libxl}" = libxl ]; then
		_boot=DOMU-MARKER-OK _answer="^DOMU-ECHO $_tok"
	else
		_boot="Booting simulated Xen guest '$1'" _answer="^$_tok"
	fi
	kill -0 "$FOLLOW_PID" 2>/dev/null || { WHY="the console session ended: $(tail -c 300 "$_fo" 2>/dev/null | tr -d '\r' | tr '\n' '|')"; vfollow_end; return 1; }
	_n=$(grep -a -c "$_boot" "$_fo" || true)
	[ "$_n" -ge "$2" ] || { WHY="the console session printed $_n boot markers, want $2: $(tail -c 300 "$_fo" | tr -d '\r' | tr '\n' '|')"; vfollow_end; return 1; }
	printf '%s\r' "$_tok" >&7
	con_has "$_fo" "$_answer" 60 || { vfollow_end; return 1; }
	FOLLOW="one console session across $2 boots: $_n markers and the answer"
	vfollow_end
}
# vfollow_end: ^] into the held session; until it exits (10 s)
vfollow_end() {
	printf '\035' >&7 2>/dev/null
	exec 7>&-
	_j=0
	while kill -0 "$FOLLOW_PID" 2>/dev/null; do
		[ $_j -lt 20 ] || { kill "$FOLLOW_PID"; break; }
		sleep 0.5
		_j=$((_j + 1))
	done
	wait "$FOLLOW_PID" 2>/dev/null || true
	rm -f "$FOLLOW_IN"
}

# lifecycle NAME [reboot]: define, start, dominfo, dumpxml, marker, shutdown (with reboot: reboot,
# reset, and a reboot set-lifecycle-action made a poweroff instead), start, destroy, undefine;
# with reboot, domrename too (vrename)
lifecycle() {
	DEBUG_FN="vguest_debug $1"
	REBOOT= RESET_S= CONSOLE= FOLLOW=
	forget "$1"
	forget "$1-renamed"
	step "virsh define" V define "$XT/guests/$1.xml" || return 1
	state "$1" "shut off" 5 || return 1
	vstart "$1" || return 1
	_id1=$ID
	step "virsh dominfo" V dominfo "$1" || return 1
	grep -q -E '^State: +running' $TMPD/step.out || { WHY="dominfo: $(grep State $TMPD/step.out)"; return 1; }
	grep -q -E "^Id: +$ID\$" $TMPD/step.out || { WHY="dominfo: $(grep Id: $TMPD/step.out), want $ID"; return 1; }
	step "virsh dumpxml" V dumpxml "$1" || return 1
	grep -q "<domain type='xen' id='$ID'>" $TMPD/step.out || { WHY="dumpxml: $(head -n 1 $TMPD/step.out)"; return 1; }
	grep -q "<name>$1</name>" $TMPD/step.out || { WHY="dumpxml has no <name>$1</name>"; return 1; }
	vtty "$1" || return 1
	if [ "${2:-}" = reboot ]; then
		vconsole "$1" || return 1
		# a console session stays open across the reboot and the reset (a new domain each)
		vfollow_open "$1" || return 1
		vrestart "$1" 120 reboot "$1" || { vfollow_end; return 1; }
		REBOOT=$RESTART _idr=$ID
		vrestart "$1" 120 reset "$1" || { vfollow_end; return 1; }
		RESET_S=$RESTART
		vfollow_check "$1" 2 || return 1
	fi
	_id2=$ID
	if [ "${2:-}" = reboot ]; then
		# set-lifecycle-action (which libvirt's libxl driver lacks): this boot's reboot
		# powers off, which stands for the shutdown (virsh-pvh shuts its guest down)
		step "virsh set-lifecycle-action" V set-lifecycle-action "$1" reboot destroy --live || return 1
		step "virsh dumpxml" V dumpxml "$1" || return 1
		grep -q '<on_reboot>destroy</on_reboot>' $TMPD/step.out || { WHY="the live XML has no <on_reboot>destroy</on_reboot>"; return 1; }
		step "virsh reboot" V reboot "$1" || return 1
		state "$1" "shut off" 90 || return 1
	else
		step "virsh shutdown" V shutdown "$1" || return 1
		state "$1" "shut off" 90 || return 1
	fi
	wait_gone "$1" 10 || return 1
	vstart "$1" || return 1
	[ "$ID" != "$_id2" ] || { WHY="restarted guest kept id $ID"; return 1; }
	_id3=$ID
	step "virsh destroy" V destroy "$1" || return 1
	state "$1" "shut off" 10 || return 1
	wait_gone "$1" 10 || return 1
	if [ "${2:-}" = reboot ]; then
		vrename "$1" || return 1
	fi
	step "virsh undefine" V undefine "$1" || return 1
	! V list --all --name | grep -q -x "$1" || { WHY="undefined guest still listed"; return 1; }
	if [ -n "$REBOOT" ]; then
		DETAIL="ids $_id1, $_idr after reboot (new boot's marker in $REBOOT s), $_id2 after reset (marker in $RESET_S s), $_id3 after a reboot that set-lifecycle-action made a poweroff, and start; define start dominfo dumpxml marker ttyconsole${TTY:+ $TTY} $CONSOLE; $FOLLOW; reboot reset set-lifecycle-action reboot start destroy domrename (started as d$RENAMED) undefine"
	else
		DETAIL="ids $_id1 then $_id3; define start dominfo dumpxml marker ttyconsole${TTY:+ $TTY} shutdown start destroy undefine"
	fi
}
# vrename NAME: the shut-off guest NAME renamed NAME-renamed (virsh domrename, which libvirt's
# libxl driver lacks), started under that name, which libxl then has (vstart compares xl's and
# virsh's ids by name), destroyed, and renamed back; RENAMED is the id it ran as
vrename() {
	step "virsh domrename" V domrename "$1" "$1-renamed" || return 1
	_names=$(V list --all --name | tr '\n' ' ')
	case " $_names " in *" $1 "*) WHY="after domrename: $_names"; return 1 ;; esac
	vstart "$1-renamed" || return 1
	RENAMED=$ID
	step "virsh destroy" V destroy "$1-renamed" || return 1
	state "$1-renamed" "shut off" 10 || return 1
	wait_gone "$1-renamed" 10 || return 1
	step "virsh domrename (back)" V domrename "$1-renamed" "$1" || return 1
}

check_virsh_pv() { lifecycle vx-pv reboot; }
check_virsh_pvh() { lifecycle vx-pvh; }
