#!/bin/sh
# test/xen/migrate-checks.sh: the checks of migrate.sh, run by dom0's /init on each of two Xen
# hosts booted from the same image, joined by a network of their own (QEMU's e1000, 10.0.0.0/24):
# XT_ROLE=mig-src is host a (10.0.0.1, xenmig-a), which runs the checks; XT_ROLE=mig-dst is
# host b (10.0.0.2, xenmig-b), which serves them until a says it is done. Each check prints
# one "CHECK PASS|FAIL|SKIP name: detail" line (lib.sh); a prints the figures as MIGTIME lines
# and both print MIGCLOCK lines (their clock), from which migrate.sh, which timestamps both
# consoles with one clock, takes the offset between the two hosts' clocks.
#
# Each host runs virtxend (backend libxl) at its default paths. A client on the other host
# reaches it as libvirt's own ssh transport would: xen+tcp:// to busybox nc, which runs
# libvirt's virt-ssh-helper for each connection, which joins it to the daemon's socket
# (Debian 12's libvirt 9.0 has no virtproxyd; see README.md). For the rolling replacement b
# swaps virtxend for Debian's libvirtd with libvirt's own libxl driver, listening on TCP.
# b also runs an agent for a: a shell command sent to port 7000 runs in b's dom0.
#
# "migrate-checks.sh --skip REASON" only prints a SKIP line for every check (migrate.sh on
# the host); "--agent" is the agent, run by nc for each command.
CHECKS="a-toolstack a-host b-toolstack b-host mig-link mig-direct mig-p2p mig-tunnelled mig-bandwidth mig-pv mig-abort xl-migrate rolling-libvirtd rolling-to-libvirt-direct rolling-from-libvirt-p2p rolling-to-libvirt-p2p rolling-from-libvirt-direct"
if [ "${1:-}" = --skip ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: $2"; done
	exit 0
fi
XT=${XT:-/xt}
. "$XT/lib.sh"
G=$XT/guests/mig
A=10.0.0.1 B=10.0.0.2 NA=xenmig-a NB=xenmig-b
RA=xen+tcp://$A/system RB=xen+tcp://$B/system
# a's clients reach its own daemon on its socket
LA="xen+unix:///system?socket=/run/libvirt/virtxend-sock"
AGENT=7000
VXLOG=/var/log/virtxend.log LVLOG=/var/log/libvirtd-mig.log
LXMOD=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so

# ---- both hosts: the daemons, the bridge and the agent (each remembered by a pid file, as the
# agent's commands run in processes of their own)

# answers URI NAME: wait until virsh gets an answer at URI (30 s)
answers() {
	_i=0
	until timeout 20 virsh -q -c "$1" uri >/dev/null 2>&1; do
		[ $_i -lt 60 ] || { WHY="$2 did not answer at $1 within 30 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
# spawn NAME CMD...: CMD in the background, away from the caller's stdio (an agent's socket)
spawn() {
	_n=$1
	shift
	"$@" </dev/null >>/var/log/$_n.out 2>&1 &
	echo $! >/run/mig-$_n.pid
}
# stop NAME: end what spawn NAME started (15 s, then SIGKILL)
stop() {
	[ -s /run/mig-$1.pid ] || return 0
	_p=$(cat /run/mig-$1.pid)
	kill "$_p" 2>/dev/null || true
	_i=0
	while kill -0 "$_p" 2>/dev/null && [ $_i -lt 30 ]; do sleep 0.5; _i=$((_i + 1)); done
	kill -9 "$_p" 2>/dev/null || true
	rm -f /run/mig-$1.pid
}
start_vx() {
	mkdir -p /etc/libvirt
	echo 'backend = "libxl"' >/etc/libvirt/libxl.conf
	spawn virtxend sh -c "exec $XT/virtxend --verbose >>$VXLOG 2>&1"
	answers "$LA" virtxend
}
# the bridge: each TCP connection on libvirt's port 16509 joined to the host's daemon by
# virt-ssh-helper (virtxend's socket when it exists, else libvirtd's)
start_bridge() { spawn bridge nc -ll -p 16509 -e virt-ssh-helper xen:///system; }
# libvirtd with libvirt's libxl driver (Debian's 9.0, from the oracle's files), listening on
# TCP without authentication as libvirtd --listen does with listen_tcp = 1, auth_tcp = "none"
start_libvirtd() {
	if [ ! -f $XT/oracle-driver/libvirt_driver_libxl.so ]; then
		tar -xzf $XT/oracle.tgz -C $XT ./oracle-driver || { WHY="no libvirt libxl driver in $XT/oracle.tgz"; return 1; }
	fi
	cp $XT/oracle-driver/libvirt_driver_libxl.so $LXMOD
	mkdir -p /etc/libvirt /run/libvirt /var/log/libvirt/libxl /var/lib/libvirt/libxl
	printf '%s\n' 'listen_tcp = 1' 'listen_tls = 0' 'auth_tcp = "none"' 'auth_unix_rw = "none"' \
		'auth_unix_ro = "none"' "log_outputs = \"3:file:$LVLOG\"" >/etc/libvirt/libvirtd-mig.conf
	spawn libvirtd libvirtd --listen -f /etc/libvirt/libvirtd-mig.conf -p /run/libvirtd-mig.pid
	answers "xen+unix:///system?socket=/run/libvirt/libvirt-sock" libvirtd
}
clock() { echo MIGCLOCK | ts '%.s'; }

# the host's half of the link, its names and its daemon
check_host() {
	DEBUG_FN=host_debug
	step "insmod e1000" insmod /lib/modules/e1000.ko || return 1
	_i=0
	until [ -e /sys/class/net/eth0 ]; do
		[ $_i -lt 20 ] || { WHY="no eth0 20 s after e1000 loaded"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	step "eth0" sh -c "ip link set eth0 up && ip addr add $ME/24 dev eth0" || return 1
	hostname $NAME
	printf '127.0.0.1 localhost\n%s %s\n%s %s\n' $A $NA $B $NB >/etc/hosts
	start_vx || return 1
	start_bridge
	if [ "$ROLE" = mig-dst ]; then spawn agent nc -ll -p $AGENT -e sh $XT/migrate-checks.sh --agent; fi
	DETAIL="$NAME at $ME on eth0 ($(cat /sys/class/net/eth0/address)), virtxend pid $(cat /run/mig-virtxend.pid), bridge on 16509"
}
host_debug() {
	cat $TMPD/step.out 2>/dev/null
	ip addr show eth0
	tail -n 20 $VXLOG
	dmesg | tail -n 10
}

# ---- a: reaching b

# on_b CMD: run shell command CMD in b's dom0 (functions of this script included), print its
# output; its status is CMD's
on_b() {
	printf '%s\n' "$*" | timeout 300 nc $B $AGENT >$TMPD/on_b.out 2>&1 || true
	_r=$(sed -n 's/^AGENT-RC //p' $TMPD/on_b.out | tail -n 1)
	grep -v '^AGENT-RC ' $TMPD/on_b.out || true
	[ "${_r:-1}" = 0 ]
}
# on HOST CMD: run CMD on host a (here: no functions of this script) or b
on() {
	_h=$1
	shift
	if [ "$_h" = a ]; then sh -c "$*"; else on_b "$*"; fi
}
# uri HOST: a client's URI of host a's or b's daemon, from a
uri() { if [ "$1" = a ]; then echo "$LA"; else echo "$RB"; fi; }
V() { _u=$(uri "$1"); shift; timeout 120 virsh -q -c "$_u" "$@"; }

check_link() {
	DEBUG_FN=link_debug
	_i=0
	until ping -c 1 -W 1 $B >/dev/null 2>&1; do
		[ $_i -lt 120 ] || { WHY="no answer to ping from $B within 120 s"; return 1; }
		_i=$((_i + 1))
	done
	_i=0
	until [ "$(on_b 'echo $(hostname)' 2>/dev/null)" = $NB ]; do
		[ $_i -lt 120 ] || { WHY="b's agent did not answer on $B:$AGENT within 120 s"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	_t=$(now)
	step "ping" ping -c 5 -i 0.2 $B || return 1
	_rtt=$(sed -n 's/.*= [0-9.]*\/\([0-9.]*\)\/.*/\1/p' $TMPD/step.out)
	# both daemons, from both hosts: a client's migration talks to both, and --p2p each to the other
	answers "$RB" "b's daemon (from a)" || return 1
	on_b "answers $RA \"a's daemon (from b)\" || { echo \"\$WHY\"; false; }" >$TMPD/link.out || {
		WHY=$(cat $TMPD/link.out)
		return 1
	}
	step "virsh hostname (b, from a)" V b hostname || return 1
	[ "$(cat $TMPD/step.out)" = $NB ] || { WHY="b's daemon says its host is $(cat $TMPD/step.out)"; return 1; }
	DETAIL="ping $B: $_rtt ms; $NB's daemon answers a at $RB and $NA's b at $RA"
}
link_debug() {
	ip addr show eth0
	cat $TMPD/step.out
	ip neigh
}

# ---- a: a guest, counting on its console, moved between the hosts

# logsize HOST NAME: the size of guest NAME's console log on HOST (0 when it has none)
# (b's agent returns stderr with stdout: no error message may take the number's place)
logsize() { on "$1" "if [ -f $CONLOG/guest-$2.log ]; then wc -c <$CONLOG/guest-$2.log; else echo 0; fi"; }
# conlog HOST NAME [OFFSET]: guest NAME's console log on HOST, from byte OFFSET on
conlog() { on "$1" "tail -c +$((${3:-0} + 1)) $CONLOG/guest-$2.log 2>/dev/null || true"; }
# lastcount HOST NAME: the last counter guest NAME printed on HOST
lastcount() { conlog "$1" "$2" | grep -a -o 'DOMU-COUNT [0-9]*' | tail -n 1 | cut -d' ' -f2; }

# vcreate HOST FILE NAME: create transient guest NAME from FILE through HOST's daemon and
# wait until it counts (a PVH guest's first boot sometimes resets under TCG: the daemon
# starts it again, and the wait is long enough for that)
vcreate() {
	V "$1" destroy "$3" >/dev/null 2>&1 || true
	_m=$(($(on "$1" "grep -a -c DOMU-MARKER-OK $CONLOG/guest-$3.log 2>/dev/null || true") + 1))
	step "virsh create $3 on $1" V "$1" create "$2" || return 1
	_off=$(logsize "$1" "$3")
	_i=0
	until conlog "$1" "$3" "$_off" | grep -a -q 'DOMU-COUNT 5[0-9]*'; do
		[ $_i -lt 240 ] || { WHY="$3 on $1: not counting 240 s after its start"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
}

# mig LABEL NAME FROM TO CMD...: CMD (a virsh migrate) moves running guest NAME from host FROM
# to host TO: there it counts on from where it stopped, without booting again, with the id xl
# gives it; FROM has it no more. Sets MIG to the figures, and prints them as a MIGTIME line:
# virsh's wall time, and the guest's own clock across the move (gap: between its last line
# on FROM and its first on TO; tick: its usual gap; lost: counter values never printed)
mig() {
	_l=$1 _g=$2 _f=$3 _to=$4
	shift 4
	DEBUG_FN="mig_debug $_g $_f $_to"
	case $(V "$_f" domstate "$_g" 2>&1 | head -n 1) in
	running | paused) ;;
	*) WHY="$_g is not on $_f to migrate (after an earlier failure?): $(V "$_f" domstate "$_g" 2>&1 | head -n 1)"; return 1 ;;
	esac
	_off=$(logsize "$_to" "$_g")
	_c=$(lastcount "$_f" "$_g")
	_t=$(now)
	step "$*" timeout 600 "$@" || return 1
	_w=$(since "$_t")
	_i=0
	until [ "$(conlog "$_to" "$_g" "$_off" | grep -a -c 'DOMU-COUNT')" -ge 3 ]; do
		[ $_i -lt 60 ] || { WHY="$_g prints no counter on $_to within 60 s of the migration"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	conlog "$_f" "$_g" >$TMPD/mig-from.log
	conlog "$_to" "$_g" "$_off" >$TMPD/mig-to.log
	! grep -a -q DOMU-MARKER-OK $TMPD/mig-to.log || { WHY="$_g booted again on $_to"; return 1; }
	_n=$(grep -a -o 'DOMU-COUNT [0-9]*' $TMPD/mig-to.log | head -n 1 | cut -d' ' -f2)
	[ "$_n" -gt "${_c:--1}" ] || { WHY="the counter went from $_c on $_f to $_n on $_to"; return 1; }
	case $(V "$_to" domstate --reason "$_g" 2>&1 | head -n 1) in
	running*) ;;
	*) WHY="$_g on $_to: $(V "$_to" domstate --reason "$_g" 2>&1 | head -n 1)"; return 1 ;;
	esac
	_id=$(V "$_to" domid "$_g")
	_xid=$(on "$_to" "xl domid $_g" 2>&1)
	[ "$_id" = "$_xid" ] || { WHY="on $_to virsh says id $_id, xl says $_xid"; return 1; }
	! on "$_f" "xl domid $_g" >/dev/null 2>&1 || { WHY="xl on $_f still lists $_g"; return 1; }
	case $(V "$_f" domstate "$_g" 2>&1 | head -n 1) in
	*"failed to get domain"* | "shut off") ;;
	*) WHY="$_g on $_f after the migration: $(V "$_f" domstate "$_g" 2>&1 | head -n 1)"; return 1 ;;
	esac
	gap $TMPD/mig-from.log $TMPD/mig-to.log
	echo "MIGTIME $_l $_f $_to wall=$_w $GAP"
	MIG="$_f->$_to in $_w s, counter $_c->$_n, guest clock: $GAP"
}
# gap FROM-LOG TO-LOG: sets GAP to the guest's clock between its last counter line in FROM-LOG
# and its first in TO-LOG, its usual gap (median of the 30 before) and the lines lost
gap() {
	GAP=$(awk '
		{ gsub(/\r/, "") }
		$2 != "DOMU-COUNT" || $1 !~ /^[0-9]+\.[0-9]+$/ { next }
		FILENAME == ARGV[1] {
			# a counter that starts again is a new boot of a guest of the same name
			if ($3 + 0 < prev) { n = 0 }
			prev = $3 + 0; t[++n] = $1; c[n] = $3 + 0
			next
		}
		first == "" { first = $3 + 0; tf = $1 }
		END {
			if (n < 2 || first == "") { print "gap=? tick=? lost=?"; exit }
			k = 0
			for (i = n; i > 1 && k < 30; i--) d[++k] = t[i] - t[i - 1]
			for (i = 1; i <= k; i++) for (j = i + 1; j <= k; j++) if (d[j] < d[i]) { x = d[i]; d[i] = d[j]; d[j] = x }
			printf "gap=%.3f tick=%.3f lost=%d", tf - t[n], d[int((k + 1) / 2)], first - c[n] - 1
		}' "$1" "$2")
}
mig_debug() {
	cat $TMPD/step.out 2>/dev/null | tail -n 5
	for _h in $2 $3; do
		echo "--- $_h: xl list"
		on $_h "xl list" 2>&1
		echo "--- $_h: console of $1"
		conlog $_h "$1" | tail -n 5
		echo "--- $_h: daemon log"
		on $_h "tail -n 12 $VXLOG 2>/dev/null; tail -n 12 $LVLOG 2>/dev/null" | cut -c1-300
	done
}
# vdestroy HOST NAME: the guest goes (what a failed check left behind too)
vdestroy() {
	V "$1" destroy "$2" >/dev/null 2>&1 || true
	on "$1" "xl destroy $2" >/dev/null 2>&1 || true
}

check_direct() {
	vcreate a $G/vx-mig.xml vx-mig || return 1
	mig direct vx-mig a b virsh -c "$LA" migrate --live vx-mig "$RB" || return 1
	# the destination keeps the migration as its completed job, as libvirt's QEMU driver does
	V b domjobinfo --completed vx-mig >$TMPD/jobinfo.out 2>&1 || true
	grep -q -E 'Operation: +Incoming migration' $TMPD/jobinfo.out ||
		{ WHY="b's domjobinfo --completed: $(tr -s ' ' <$TMPD/jobinfo.out | tr '\n' ';')"; return 1; }
	DETAIL="virsh migrate --live (virsh talking to both daemons): $MIG; b's domjobinfo --completed: Incoming migration"
}
check_p2p() {
	mig p2p vx-mig b a virsh -c "$RB" migrate --live --p2p vx-mig "$RA" || return 1
	P2P=$MIG
	DETAIL="virsh -c $RB migrate --live --p2p (b's daemon talking to a's): $MIG"
}
check_tunnelled() {
	mig tunnelled vx-mig a b virsh -c "$LA" migrate --live --p2p --tunnelled vx-mig "$RB" || return 1
	DETAIL="virsh migrate --live --p2p --tunnelled (the data on a's connection to b's daemon): $MIG"
}
# slower: mig-p2p's move again at b's migrate-setspeed, below the ~3 MiB/s TCG moves at: no
# faster than asked (libvirt's Xen driver has no speed; every move above went through the
# same paced relay, unlimited)
check_bandwidth() {
	_sp=$(V b migrate-getspeed vx-mig 2>&1)
	[ "$_sp" = 8796093022207 ] || { WHY="migrate-getspeed before a set: $_sp"; return 1; }
	step "migrate-setspeed vx-mig 2" V b migrate-setspeed vx-mig 2 || return 1
	_sp=$(V b migrate-getspeed vx-mig 2>&1)
	[ "$_sp" = 2 ] || { WHY="migrate-getspeed after setting 2: $_sp"; return 1; }
	mig bandwidth vx-mig b a virsh -c "$RB" migrate --live --p2p vx-mig "$RA" || return 1
	_w=$(echo "$MIG" | sed -n 's/.* in \([0-9.]*\) s,.*/\1/p')
	# 128 MiB of memory at 2 MiB/s, less the pace's first 256 KiB
	awk -v w="$_w" 'BEGIN { exit !(w >= 63.8) }' || { WHY="128 MiB at 2 MiB/s in $_w s"; return 1; }
	DETAIL="unpaced --p2p: $P2P; at b's migrate-setspeed 2: $MIG"
}

# a PV guest: this Xen has no shadow paging, without which it cannot track a PV guest's dirty
# pages, so cannot send one live; offline, it goes
check_pv() {
	vcreate a $G/vx-mig-pv.xml vx-mig-pv || return 1
	_live="--live: "
	if timeout 300 virsh -c "$LA" migrate --live vx-mig-pv "$RB" >$TMPD/pv-live.out 2>&1; then
		_live="$_live migrated, sent suspended (the driver falls back when the backend cannot send live)"
		mig pv-back vx-mig-pv b a virsh -c "$RB" migrate --p2p vx-mig-pv "$RA" || return 1
	else
		_live="$_live refused, $(tr '\n' ' ' <$TMPD/pv-live.out | cut -c1-200)"
		[ "$(V a domstate vx-mig-pv 2>&1 | head -n 1)" = running ] ||
			{ WHY="the refused --live left vx-mig-pv $(V a domstate vx-mig-pv 2>&1 | head -n 1)"; return 1; }
	fi
	mig pv vx-mig-pv a b virsh -c "$LA" migrate vx-mig-pv "$RB" || return 1
	_there=$MIG
	mig pv-p2p vx-mig-pv b a virsh -c "$RB" migrate --p2p vx-mig-pv "$RA" || return 1
	vdestroy a vx-mig-pv
	DETAIL="$_live; offline: $_there; back with --p2p: $MIG"
}

# domjobinfo during the migration of a bigger guest, then domjobabort: it runs on at a, b has
# nothing of it
check_abort() {
	_g=vx-mig-big
	DEBUG_FN="mig_debug $_g a b"
	vcreate a $G/$_g.xml $_g || return 1
	_t=$(now)
	virsh -c "$LA" migrate --live $_g "$RB" >$TMPD/abort.out 2>&1 &
	_m=$!
	_i=0
	until V a domjobinfo $_g >$TMPD/jobinfo.out 2>&1 && grep -q -E 'Job type: +(Unbounded|Bounded)' $TMPD/jobinfo.out; do
		kill -0 $_m 2>/dev/null || { WHY="the migration ended before domjobinfo showed it: $(tr '\n' ' ' <$TMPD/abort.out)"; return 1; }
		[ $_i -lt 240 ] || { WHY="domjobinfo showed no job within 120 s: $(tr -s ' ' <$TMPD/jobinfo.out | tr '\n' ';')"; kill $_m; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	sleep 2
	V a domjobinfo $_g >$TMPD/jobinfo.out 2>&1 || true
	_info=$(grep -E 'Job type|Operation|Time elapsed|Data processed|Data remaining|Data total' $TMPD/jobinfo.out | tr -s ' ' | tr '\n' ';')
	# (the libxl backend's stream to a socket reports its progress only with its live send;
	# before that domjobinfo shows the job and its time alone: said, not failed)
	grep -q 'Data processed' $TMPD/jobinfo.out || _info="$_info (no progress figures);"
	echo "domjobinfo during the migration of $_g:"
	cat $TMPD/jobinfo.out
	_ta=$(since "$_t")
	step "virsh domjobabort" V a domjobabort $_g || return 1
	_rc=0
	wait $_m || _rc=$?
	[ $_rc != 0 ] && grep -q 'canceled by client' $TMPD/abort.out ||
		{ WHY="after domjobabort virsh migrate: rc $_rc: $(tr '\n' ' ' <$TMPD/abort.out)"; return 1; }
	_c=$(lastcount a $_g)
	_off=$(logsize a $_g)
	sleep 3
	_c2=$(conlog a $_g "$_off" | grep -a -o 'DOMU-COUNT [0-9]*' | tail -n 1 | cut -d' ' -f2)
	[ "${_c2:-0}" -gt "$_c" ] || { WHY="after the abort the counter on a stays at $_c"; return 1; }
	case $(V a domstate --reason $_g 2>&1 | head -n 1) in
	running*) ;;
	*) WHY="$_g on a after the abort: $(V a domstate --reason $_g 2>&1 | head -n 1)"; return 1 ;;
	esac
	! V b domstate $_g >/dev/null 2>&1 || { WHY="b's daemon has $_g: $(V b domstate --reason $_g 2>&1)"; return 1; }
	! on b "xl domid $_g" >/dev/null 2>&1 || { WHY="xl on b lists $_g"; return 1; }
	V a domjobinfo --completed $_g >$TMPD/jobinfo.out 2>&1 || true
	grep -q Cancelled $TMPD/jobinfo.out || { WHY="domjobinfo --completed: $(tr -s ' ' <$TMPD/jobinfo.out | tr '\n' ';')"; return 1; }
	vdestroy a $_g
	DETAIL="domjobinfo after ${_ta} s: $_info domjobabort: virsh migrate failed as canceled, the guest counts on at a ($_c->$_c2), nothing on b"
}

# xl migrate of the same kind of guest between the same hosts, for the figures: xl's own
# channel is ssh; here -s "" makes it run "nc b 7777", which b answers with xl migrate-receive
check_xl_migrate() {
	_g=xt-mig
	DEBUG_FN="mig_debug $_g a b"
	timeout 60 xl destroy $_g >/dev/null 2>&1 || true
	step "xl create" timeout 180 xl create $G/xt-mig.cfg || return 1
	_off=$(logsize a $_g)
	_i=0
	until conlog a $_g "$_off" | grep -a -q 'DOMU-COUNT 5[0-9]*'; do
		[ $_i -lt 240 ] || { WHY="$_g not counting 240 s after its start"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	on_b "spawn xlrecv nc -l -p 7777 -e xl migrate-receive -e" || { WHY="b: could not start xl migrate-receive"; return 1; }
	sleep 1
	# xl migrate-receive makes the guest as NAME--incoming and renames it once it runs:
	# xenconsoled's log on b keeps the first name
	_gb=$_g--incoming
	_off=$(logsize b $_gb)
	_c=$(lastcount a $_g)
	_t=$(now)
	step "xl migrate" timeout 600 xl migrate -s "" $_g "nc $B 7777" || return 1
	_w=$(since "$_t")
	echo "xl migrate took $_w s"
	_i=0
	until [ "$(conlog b $_gb "$_off" | grep -a -c 'DOMU-COUNT')" -ge 3 ]; do
		[ $_i -lt 60 ] || { WHY="$_g prints no counter on b within 60 s of xl migrate"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	conlog a $_g >$TMPD/mig-from.log
	conlog b $_gb "$_off" >$TMPD/mig-to.log
	! grep -a -q DOMU-MARKER-OK $TMPD/mig-to.log || { WHY="$_g booted again on b"; return 1; }
	! xl domid $_g >/dev/null 2>&1 || { WHY="xl on a still lists $_g"; return 1; }
	gap $TMPD/mig-from.log $TMPD/mig-to.log
	echo "MIGTIME xl a b wall=$_w $GAP"
	on_b "xl destroy $_g" >/dev/null 2>&1 || true
	on_b "stop xlrecv" >/dev/null 2>&1 || true
	DETAIL="xl migrate a->b in $_w s, counter from $_c, guest clock: $GAP"
}

# b trades virtxend for libvirtd with libvirt's libxl driver, never both at once, with no
# guest on b between them
check_rolling_libvirtd() {
	DEBUG_FN=rolling_debug
	_left=$(on_b "xl list | awk 'NR > 2 { print \$1 }'")
	[ -z "$_left" ] || { WHY="b still runs $_left"; return 1; }
	on_b "stop bridge; stop virtxend; start_libvirtd || { echo \"\$WHY\"; false; }" >$TMPD/rolling.out 2>&1 ||
		{ WHY="b: $(tail -n 3 $TMPD/rolling.out | tr '\n' ' ')"; return 1; }
	answers "$RB" "libvirtd on b (from a)" || return 1
	on_b "answers $RA \"a's daemon (from b)\" || { echo \"\$WHY\"; false; }" >$TMPD/rolling.out 2>&1 ||
		{ WHY="b: $(cat $TMPD/rolling.out)"; return 1; }
	step "virsh version (b)" V b version || return 1
	grep -q 'hypervisor: Xen' $TMPD/step.out || { WHY="b: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	ROLLING=1
	DETAIL="b: virtxend stopped, libvirtd --listen with libvirt's libxl driver: $(grep -E 'library|daemon' $TMPD/step.out | tr -s ' ' | tr '\n' ';')"
}
# rolling: libvirtd serves b (rolling-libvirtd passed); else the rolling checks say so
ROLLING=
rolling() { [ -n "$ROLLING" ] || { WHY="b does not run libvirt's driver (rolling-libvirtd failed)"; return 1; }; }
rolling_debug() {
	cat $TMPD/step.out $TMPD/rolling.out 2>/dev/null | tail -n 10
	on_b "tail -n 20 $LVLOG; tail -n 5 /var/log/libvirtd.out" | cut -c1-300
}
check_roll_to_direct() {
	rolling || return 1
	vcreate a $G/vx-mig.xml vx-mig || return 1
	mig roll-to-direct vx-mig a b virsh -c "$LA" migrate --live vx-mig "$RB" || return 1
	DETAIL="virtxend -> libvirtd, virsh migrate --live (virsh talking to both): $MIG"
}
check_roll_from_p2p() {
	rolling || return 1
	mig roll-from-p2p vx-mig b a virsh -c "$RB" migrate --live --p2p vx-mig "$RA" || return 1
	DETAIL="libvirtd -> virtxend, virsh -c $RB migrate --live --p2p (libvirt's driver talking to ours): $MIG"
}
check_roll_to_p2p() {
	rolling || return 1
	mig roll-to-p2p vx-mig a b virsh -c "$LA" migrate --live --p2p vx-mig "$RB" || return 1
	DETAIL="virtxend -> libvirtd, --p2p (ours talking to libvirt's): $MIG"
}
check_roll_from_direct() {
	rolling || return 1
	mig roll-from-direct vx-mig b a virsh -c "$RB" migrate --live vx-mig "$RA" || return 1
	vdestroy a vx-mig
	DETAIL="libvirtd -> virtxend, virsh migrate --live (virsh talking to both): $MIG"
}

# ---- the roles
run_src() {
	ME=$A NAME=$NA
	run_check a-toolstack check_toolstack
	run_check a-host check_host
	clock
	run_check mig-link check_link
	run_check mig-direct check_direct
	run_check mig-p2p check_p2p
	run_check mig-tunnelled check_tunnelled
	run_check mig-bandwidth check_bandwidth
	vdestroy a vx-mig
	vdestroy b vx-mig
	run_check mig-pv check_pv
	vdestroy a vx-mig-pv
	vdestroy b vx-mig-pv
	run_check mig-abort check_abort
	vdestroy a vx-mig-big
	vdestroy b vx-mig-big
	run_check xl-migrate check_xl_migrate
	timeout 60 xl destroy xt-mig >/dev/null 2>&1 || true
	on_b "xl destroy xt-mig" >/dev/null 2>&1 || true
	run_check rolling-libvirtd check_rolling_libvirtd
	run_check rolling-to-libvirt-direct check_roll_to_direct
	run_check rolling-from-libvirt-p2p check_roll_from_p2p
	run_check rolling-to-libvirt-p2p check_roll_to_p2p
	run_check rolling-from-libvirt-direct check_roll_from_direct
	vdestroy a vx-mig
	vdestroy b vx-mig
	clock
	echo "=== b's logs"
	on_b "grep -a -E ': (warning|error) : ' $VXLOG | tail -n 20; tail -n 20 $LVLOG" 2>&1 | cut -c1-300 || true
	on_b "clock >/dev/console; touch /tmp/mig-done" || true
	echo "=== a's virtxend log: $(grep -a -c -E ': (warning|error) : ' $VXLOG || true) warnings and errors"
	grep -a -E ': (warning|error) : ' $VXLOG | cut -c1-300 | tail -n 20 || true
}
run_dst() {
	ME=$B NAME=$NB
	run_check b-toolstack check_toolstack
	run_check b-host check_host
	clock
	# a says when it is done (on_b "touch /tmp/mig-done"); migrate.sh bounds the wait
	until [ -e /tmp/mig-done ]; do sleep 2; done
	clock
}

case ${1:-} in
--agent)
	# one command, its output, its status; stderr with it
	read -r _cmd || exit 0
	_rc=0
	eval "$_cmd" 2>&1 || _rc=$?
	echo "AGENT-RC $_rc"
	;;
*)
	set -eu
	ROLE=${XT_ROLE:?}
	case $ROLE in
	mig-src) run_src ;;
	mig-dst) run_dst ;;
	*) echo "migrate-checks.sh: unknown role $ROLE" ;;
	esac
	;;
esac
