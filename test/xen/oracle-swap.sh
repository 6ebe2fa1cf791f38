# shellcheck shell=sh
# test/xen/oracle-swap.sh: libvirt's own Xen daemon and ours swapped on one host while their
# guests run, both ways, as an admin replaces one by the other: each stopped (its guests keep
# running), the other started on the same files at the usual paths (no VIRTXEND_ROOT).
# Sourced by oracle.sh, whose daemons' helpers (serve_libvirtd, quit_daemon, SPID, LURI) it uses.

SWSOCK=/run/libvirt/virtxend-sock
SWURI="xen+unix:///system?socket=$SWSOCK"
SWLOG=/var/log/virtxend-swap.log
SWHOOKS=$TMPD/swap-hooks.log
SWLXL=/var/log/libvirt/libxl
# start_lines NAME: how many starts guest NAME's libxl log records ("Domain start: " and libxl's
# configuration of it, which libvirt's daemon and ours write there)
start_lines() { grep -c '^Domain start: {' $SWLXL/$1.log 2>/dev/null || true; }

# swap_hooks: libvirt's hook scripts for the daemon and libxl drivers, both logging each call:
# the daemon that ran it, its arguments and the head of the XML it read (the domid as N)
swap_hooks() {
	rm -f $SWHOOKS
	mkdir -p /etc/libvirt/hooks
	cat >/etc/libvirt/hooks/libxl <<EOF
#!/bin/sh
h=\$(grep -o "<domain [^>]*>" | head -n 1 | sed "s/ id='[0-9]*'/ id='N'/")
echo "\$(cat /proc/\$PPID/comm) \$* \$h" >>$SWHOOKS
EOF
	cp /etc/libvirt/hooks/libxl /etc/libvirt/hooks/daemon
	chmod 755 /etc/libvirt/hooks/libxl /etc/libvirt/hooks/daemon
}
# hook_call WHO KIND OP: the first call of hook KIND (daemon, or libxl for a guest's) with OP
# that daemon WHO made, without the daemon's and the guest's names
hook_call() {
	awk -v w="$1" -v k="$2" -v o="$3" '$1 == w && ($2 == "-") == (k == "daemon") && $3 == o {
		$1 = ""; $2 = ""; sub(/^ +/, ""); print; exit }' $SWHOOKS
}
# swap_hooks_alike: every hook call libvirt's daemon made, ours made alike (HOOKS: how many)
swap_hooks_alike() {
	HOOKS=0
	for _k in daemon:start daemon:shutdown libxl:prepare libxl:start libxl:started libxl:stopped libxl:release libxl:reconnect; do
		_l=$(hook_call libvirtd ${_k%%:*} ${_k#*:})
		_o=$(hook_call virtxend ${_k%%:*} ${_k#*:})
		[ -n "$_l" ] || { WHY="libvirt's daemon made no $_k hook call"; return 1; }
		[ "$_l" = "$_o" ] || { WHY="$_k hook: libvirt's daemon called it with '$_l', ours with '${_o:-nothing}'"; return 1; }
		HOOKS=$((HOOKS + 1))
	done
}

# serve_swap_virtxend: our daemon on the host's own paths, where libvirt's daemon keeps its files
serve_swap_virtxend() {
	printf 'log_outputs = "2:file:%s"\n' $SWLOG >$TMPD/virtxend-swap.conf
	$XT/virtxend -f $TMPD/virtxend-swap.conf >>/var/log/virtxend-swap.out 2>&1 &
	SPID=$!
	wait_uri "$SWURI" virtxend
}
# SW URI ARGS...: virsh against one of the two daemons
SW() { timeout 90 virsh -q -c "$@"; }
# swap_running URI NAME ID: NAME is running as domain ID by that daemon and by xl
swap_running() {
	_st=$(SW "$1" domstate "$2" 2>&1 | head -n 1)
	[ "$_st" = running ] || { WHY="$SIDE: domstate $2 says '$_st'"; return 1; }
	_d=$(SW "$1" domid "$2" 2>&1)
	[ "$_d" = "$3" ] || { WHY="$SIDE: domid $2 says '$_d', not $3"; return 1; }
	[ "$(xl domid "$2" 2>/dev/null)" = "$3" ] || { WHY="$SIDE: xl domid $2 says $(xl domid "$2" 2>&1)"; return 1; }
}

# check_swap: libvirt's daemon defines vx-pv, vx-swap and vx-swap-auto (which autostarts) and
# starts vx-pv; it stops (its status file, its libxl userdata and its empty autostart marker
# stay). Ours, started on those files, lists vx-pv running with its id and its console's pty,
# pauses and resumes it, destroys it and starts it again (its libxl configuration appended to
# its log in /var/log/libvirt/libxl, where libvirt's went), and vx-swap-auto stays shut off
# (libvirt's daemon made this boot's autostart); it starts vx-swap and stops in turn. libvirt's
# daemon, started again on the files ours left, lists both running with their ids and destroys
# them. Hook scripts for the daemon and libxl drivers log every call meanwhile: each kind of
# call (daemon start and shutdown; prepare, start, started, stopped, release and reconnect of
# a guest) came from ours with the arguments and XML head libvirt's gave it.
check_swap() {
	_rc=0
	if ! swap_steps; then
		_rc=1
		# read before the cleanup below takes the files away
		swap_debug >$TMPD/swap-debug.txt 2>&1
		DEBUG_FN="cat $TMPD/swap-debug.txt"
	fi
	[ -z "$SPID" ] || quit_daemon
	rm -f $LXMOD /etc/libvirt/hooks/libxl /etc/libvirt/hooks/daemon
	for _n in vx-pv vx-swap vx-swap-auto; do xl destroy "$_n" >/dev/null 2>&1 || true; done
	rm -rf /run/libvirt/libxl /var/lib/libvirt/libxl /etc/libvirt/libxl
	return $_rc
}
swap_steps() {
	SPID=
	for _n in vx-swap vx-swap-auto; do
		sed "s|<name>vx-pv</name>|<name>$_n</name>|" $G/vx-pv.xml >$TMPD/$_n.xml
	done
	swap_hooks
	SIDE=libvirt
	start_libvirtd || return 1
	_m=$(markers vx-pv)
	step "libvirt: define and start" SW "$LURI" "define $G/vx-pv.xml; define $TMPD/vx-swap.xml; define $TMPD/vx-swap-auto.xml; autostart vx-swap-auto; start vx-pv" || return 1
	_lid=$(SW "$LURI" domid vx-pv)
	wait_con vx-pv DOMU-MARKER-OK $((_m + 1)) 120 || return 1
	quit_daemon
	rm -f $LXMOD
	[ "$(xl domid vx-pv 2>/dev/null)" = "$_lid" ] || { WHY="vx-pv (d$_lid) did not outlive libvirt's daemon: xl domid says $(xl domid vx-pv 2>&1)"; return 1; }

	SIDE=virtxend
	serve_swap_virtxend || return 1
	swap_running "$SWURI" vx-pv "$_lid" || return 1
	_st=$(SW "$SWURI" domstate vx-swap-auto 2>&1)
	[ "$_st" = "shut off" ] || { WHY="virtxend: vx-swap-auto, autostarted by libvirt's daemon this boot, is '$_st'"; return 1; }
	_tty=$(SW "$SWURI" ttyconsole vx-pv 2>&1)
	[ -c "$_tty" ] || { WHY="virtxend: ttyconsole vx-pv says '$_tty'"; return 1; }
	step "virtxend: suspend and resume vx-pv" SW "$SWURI" "suspend vx-pv; resume vx-pv" || return 1
	# libvirt's guest destroyed and started again by ours (its stopped, release, prepare,
	# start and started hooks), its boot not waited for
	_starts=$(start_lines vx-pv)
	step "virtxend: destroy and start vx-pv" SW "$SWURI" "destroy vx-pv; start vx-pv" || return 1
	_lid=$(SW "$SWURI" domid vx-pv)
	# libxl's logs where libvirt's daemon writes them: the start's configuration in the guest's
	[ "$(start_lines vx-pv)" = $((_starts + 1)) ] || { WHY="virtxend: $SWLXL/vx-pv.log has $(start_lines vx-pv) 'Domain start' lines, $_starts before its start"; return 1; }
	[ -f $SWLXL/libxl-driver.log ] || { WHY="virtxend: no $SWLXL/libxl-driver.log"; return 1; }
	_m=$(markers vx-swap)
	step "virtxend: start vx-swap" SW "$SWURI" start vx-swap || return 1
	_oid=$(SW "$SWURI" domid vx-swap)
	wait_con vx-swap DOMU-MARKER-OK $((_m + 1)) 120 || return 1
	quit_daemon

	SIDE=libvirt
	serve_libvirtd || return 1
	swap_running "$LURI" vx-pv "$_lid" || return 1
	swap_running "$LURI" vx-swap "$_oid" || return 1
	step "libvirt: destroy both" SW "$LURI" "destroy vx-swap; destroy vx-pv; undefine vx-swap; undefine vx-swap-auto; undefine vx-pv" || return 1
	for _n in vx-pv vx-swap; do
		! xl domid "$_n" >/dev/null 2>&1 || { WHY="libvirt: $_n still runs after its destroy"; return 1; }
	done
	quit_daemon
	SPID=
	swap_hooks_alike || return 1
	DETAIL="vx-pv started by libvirt's daemon, taken over by ours (console $_tty, suspend, resume, destroy, started again as d$_lid, vx-swap-auto left off), vx-swap d$_oid started by ours; both taken back and destroyed by libvirt's; the $HOOKS kinds of hook call alike from both daemons"
}
swap_debug() {
	echo "--- libvirtd log"
	tail -n 20 $LLOG
	echo "--- virtxend log"
	tail -n 20 $SWLOG /var/log/virtxend-swap.out
	echo "--- status files"
	head -c 600 /run/libvirt/libxl/*.xml 2>/dev/null
}
