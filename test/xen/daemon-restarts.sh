# shellcheck shell=sh
# virsh-xen-restarts: xenconsoled and xenstored restarted under the daemon (issue 20).
# Sourced by daemon-checks.sh, whose helpers it uses; run by "daemon-checks.sh --restarts",
# which dom0-init.sh calls after oracle.sh: a restarted xenstored has lost dom0's backend
# watches (blkback, netback), so no check that plugs a disk or a NIC can come after it.

# xs_tty ID: the pty xenstore names for domain ID's console ("" for none)
xs_tty() { xenstore-read "/local/domain/$1/console/tty" 2>/dev/null || true; }

# restart_consoled: kill xenconsoled, wait for it to go, start it again as toolstack did
restart_consoled() {
	_p=$(cat /run/xen/xenconsoled.pid 2>/dev/null)
	[ -n "$_p" ] && kill "$_p" 2>/dev/null
	_i=0
	while [ -n "$_p" ] && kill -0 "$_p" 2>/dev/null; do
		[ $_i -lt 50 ] || { WHY="xenconsoled $_p did not exit"; return 1; }
		sleep 0.2
		_i=$((_i + 1))
	done
	step "xenconsoled again" xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=$CONLOG
}

# the xenconsoled part: a running vx-pv's console moves to a new pty, which virsh names and
# opens, and to which a session open across the restart moves. CONSOLED gets what was seen.
restarts_consoled() {
	vtty vx-pv || return 1
	_old=$TTY
	# held open, the old pty keeps its number, so that the new one must differ
	exec 5<>"$_old"
	# a console session open across the restart moves to the new pty
	vfollow_open vx-pv || { exec 5>&-; return 1; }
	restart_consoled || { exec 5>&-; vfollow_end; return 1; }
	_i=0
	until _new=$(xs_tty "$ID") && [ -n "$_new" ] && [ "$_new" != "$_old" ]; do
		[ $_i -lt 50 ] || { exec 5>&-; WHY="xenstore still names $_old for d$ID 10 s after xenconsoled's restart"; return 1; }
		sleep 0.2
		_i=$((_i + 1))
	done
	exec 5>&-
	# the driver asks for xenconsoled at most once a second: a second try may be needed
	_t=$(V ttyconsole vx-pv 2>&1 | head -n 1)
	[ "$_t" = "$_new" ] || { sleep 1; _t=$(V ttyconsole vx-pv 2>&1 | head -n 1); }
	[ "$_t" = "$_new" ] || { WHY="after xenconsoled's restart virsh ttyconsole says '$_t', xenstore '$_new' (was $_old)"; vfollow_end; return 1; }
	vfollow_check vx-pv 0 || return 1
	# the boot output went to the old pty: the session shows the answer to a typed line
	vconsole vx-pv "Escape character" || return 1
	CONSOLED="tty $_old -> $_new, the session open across it answered, $CONSOLE"
}

# restart_xenstored: kill xenstored and start it again as toolstack did; dom0's entries are
# written again (xen-init-dom0), and xenconsoled, whose xenstore connection died, restarts.
restart_xenstored() {
	_p=$(cat /run/xen/xenstored.pid 2>/dev/null)
	[ -n "$_p" ] || { WHY="no xenstored pid"; return 1; }
	rm -f /run/xen/xenstored.pid
	kill "$_p"
	_i=0
	while kill -0 "$_p" 2>/dev/null; do
		[ $_i -lt 50 ] || { WHY="xenstored $_p did not exit"; return 1; }
		sleep 0.2
		_i=$((_i + 1))
	done
	# the daemon, meanwhile: alive, and a call gets an answer (an error at worst)
	sleep 1
	kill -0 "$DPID" 2>/dev/null || { WHY="virtxend died with xenstored: $(tail -n 3 $DLOG | tr '\n' ' ')"; return 1; }
	DOWN="$(V domstate vx-pv 2>&1 | head -n 1 | cut -c1-120)"
	step "xenstored again" xenstored --pid-file /run/xen/xenstored.pid || return 1
	_i=0
	while [ ! -s /run/xen/xenstored.pid ] && [ $_i -lt 30 ]; do sleep 1; _i=$((_i + 1)); done
	step "xen-init-dom0 again" timeout 60 xen-init-dom0 || return 1
	restart_consoled
}

# the xenstored part: the daemon lives through it, renews its libxl context, answers about
# the guest it ran before, destroys it, and starts and destroys a new one.
restarts_xenstored() {
	_r0=$(grep -a -c "libxl context renewed" $DLOG || true)
	_t=$(now)
	restart_xenstored || return 1
	_i=0
	until [ "$(grep -a -c "libxl context renewed" $DLOG || true)" -gt "${_r0:-0}" ]; do
		[ $_i -lt 20 ] || { WHY="no renewal of the libxl context in the log 20 s after xenstored's restart"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	_ren=$(since "$_t")
	kill -0 "$DPID" 2>/dev/null || { WHY="virtxend died after xenstored's restart: $(tail -n 3 $DLOG | tr '\n' ' ')"; return 1; }
	step "virsh list --all" V list --all || return 1
	grep -q " vx-pv .*running" $TMPD/step.out || { WHY="virsh list after xenstored's restart: $(tr -s ' ' <$TMPD/step.out | tr '\n' '|')"; return 1; }
	state vx-pv running 5 || return 1
	step "virsh dominfo" V dominfo vx-pv || return 1
	grep -q "^Id: *$ID\$" $TMPD/step.out || { WHY="dominfo after xenstored's restart: $(tr -s ' ' <$TMPD/step.out | tr '\n' '|' | cut -c1-200)"; return 1; }
	# the guest that ran before: its destroy, then a new guest started and destroyed
	_od="destroyed"
	if ! V destroy vx-pv >$TMPD/destroy.out 2>&1; then
		_od="destroy refused ($(tr '\n' ' ' <$TMPD/destroy.out | cut -c1-160))"
	fi
	state vx-pv "shut off" 20 || return 1
	step "virsh start (new guest)" V start vx-pv || return 1
	state vx-pv running 10 || return 1
	_nid=$(V domid vx-pv)
	[ "$(xl domid vx-pv 2>/dev/null)" = "$_nid" ] || { WHY="virsh says vx-pv is d$_nid, xl says $(xl domid vx-pv 2>&1)"; return 1; }
	_m="no marker in 60 s"
	if wait_con vx-pv DOMU-MARKER-OK "$((MARKS + 1))" 60; then _m="marker"; fi
	WHY=
	step "virsh destroy (new guest)" V destroy vx-pv || return 1
	wait_gone vx-pv 20 || return 1
	XSD="during the outage domstate said '$DOWN'; context renewed ${_ren} s after the kill; list, domstate, dominfo of d$ID; old guest $_od; new guest d$_nid started ($_m) and destroyed"
}

check_virsh_xen_restarts() {
	DEBUG_FN="vguest_debug vx-pv"
	if [ "${VX_BACKEND:-libxl}" != libxl ]; then
		DETAIL="simulated host: no xenstored or xenconsoled (test/driver's TestConsoleAfterConsoledRestart restarts its console daemon)"
		return 0
	fi
	forget vx-pv
	step "virsh define" V define $XT/guests/vx-pv.xml || return 1
	vstart vx-pv || return 1
	MARKS=$(markers vx-pv)
	restarts_consoled || return 1
	MARKS=$(markers vx-pv)
	restarts_xenstored || return 1
	step "virsh undefine" V undefine vx-pv || return 1
	DETAIL="xenconsoled: $CONSOLED; xenstored: $XSD"
}
