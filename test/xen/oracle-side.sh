# shellcheck shell=sh
# test/xen/oracle-side.sh: one daemon's side of the oracle: its session in order, the timed
# commands, the side-by-side figures, and the archive of its answers for run.sh.
# Sourced by oracle.sh, whose settings and session helpers (sec, run_batch, SIDE, URI,
# OD) it uses.

# timed SECTION VIRSH-ARGS...: one virsh command against URI as section SECTION of the
# running area's transcript; T is its wall time (virsh's connection included, as a client
# sees it), _t when it began
timed() {
	echo "@@@ $1" >>"$OD/running.txt"
	shift
	_t=$(now)
	_rc=0
	timeout 120 virsh -t -c "$URI" "$@" >>"$OD/running.txt" 2>&1 || _rc=$?
	T=$(since "$_t")
	return $_rc
}
# mean X...: their mean, two decimals
mean() { echo "$@" | awk '{ for (i = 1; i <= NF; i++) s += $i; if (NF) printf "%.2f", s / NF }'; }
# con_count NAME REGEX: how many lines of guest NAME's console match REGEX so far (0 before
# its first start)
con_count() {
	_c=$(grep -a -c -E "$2" "$CONLOG/guest-$1.log" 2>/dev/null || true)
	echo "${_c:-0}"
}
# state_off NAME SECS: wait until the guest is shut off (xl no longer lists it)
state_off() { wait_gone "$1" "$2" || echo "oracle: $SIDE: $WHY"; }

# guests started paused, for their live XML and for the libxl JSON of their start: one of
# each kind not started elsewhere (o-pv is, in area_errors; vx-pv and vx-dev in area_running),
# as each start costs seconds under TCG, an HVM one's device model most. o-pvh's qcow2 disk,
# which QEMU serves, has QEMU's counters here (domblkstat), which libvirt's driver refuses.
area_started() {
	qemu-img create -q -f qcow2 /root/o-pvh.qcow2 16M || echo "oracle: $SIDE: qemu-img create failed"
	for _f in $G/oracle/o-pvh.xml $G/oracle/o-hvm.xml; do
		_n=$(name_of "$_f")
		_x=
		[ "$_n" != o-pvh ] || _x="domblkstat $_n xvda; "
		sec "started/$_n" "define $_f; start --paused $_n; dumpxml $_n; domstate --reason $_n; dominfo $_n; ${_x}destroy $_n; undefine $_n"
	done
	run_batch started
	rm -f /root/o-pvh.qcow2
}

# archive PATH...: those files below $O on the console, for run.sh (oracle-host.sh) to unpack
# into $XEN_WORK/oracle; each side's as soon as its session ended
archive() {
	echo "ORACLE-ARCHIVE-BEGIN"
	(cd "$O" && ls "$@" >/dev/null 2>&1 && tar -czf - "$@" | base64)
	echo "ORACLE-ARCHIVE-END"
}

# ---- the figures: FIGURE SIDE WHAT VALUE (most are taken in area_running, on its boots)
fig() { echo "FIGURE $SIDE $1 $2" | tee -a "$O/figures.txt"; }
V() { timeout 120 virsh -q -c "$URI" "$@"; }
# rounds: the connect figure, then ORACLE_ROUNDS (default 2) starts of the defined vx-pv, each
# destroyed at once (before its kernel is far), into STARTS and DESTROYS
rounds() {
	# virsh's own start-up and connection, which every wall time below includes: 3 bare
	# virsh uri, their mean
	_c= _n=0
	while [ $_n -lt 3 ]; do
		_t=$(now)
		V uri >/dev/null 2>&1 || break
		_c="$_c $(since "$_t")"
		_n=$((_n + 1))
	done
	[ -z "$_c" ] || fig connect "$(mean $_c)"
	_n=0
	while [ $_n -lt "${ORACLE_ROUNDS:-2}" ]; do
		_t=$(now)
		V start vx-pv >/dev/null 2>&1 || { echo "oracle: figures: start failed"; return 0; }
		STARTS="$STARTS $(since "$_t")"
		_t=$(now)
		V destroy vx-pv >/dev/null 2>&1 || { echo "oracle: figures: destroy failed"; return 0; }
		DESTROYS="$DESTROYS $(since "$_t")"
		_n=$((_n + 1))
	done
}
# load: the throughput of version, lookups and dumpxml of the running vx-pv, and of defines and
# undefines of a small PV guest (each daemon writing its configs), 4 connections
load() {
	[ -x $XT/virtxend-load ] || return 0
	$XT/virtxend-load -socket "$SOCK" -domain vx-pv -workloads version,lookup,dumpxml,define-undefine -conns 4 \
		-duration "${ORACLE_LOAD:-2s}" -pid $SPID -json >"$O/$SIDE/load.json" 2>"$O/$SIDE/load.err" || true
	sed "s/^/FIGURE $SIDE load /" "$O/$SIDE/load.json" | tee -a "$O/figures.txt"
}
# wait_gone_fast NAME TENTHS, wait_con_fast NAME COUNT TENTHS: as wait_gone and wait_con, polled
# every 0.1 s, so that the figures are not rounded up to the next second
wait_gone_fast() {
	_i=0
	while xl domid "$1" >/dev/null 2>&1; do
		[ $_i -lt "$2" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
wait_con_fast() {
	_i=0
	until [ "$(con_count "$1" DOMU-MARKER-OK)" -ge "$2" ]; do
		[ $_i -lt "$3" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# side NAME: the whole session and the figures against the daemon now running
side() {
	SIDE=$1
	OD=$O/$1
	MSAVE=/var/lib/libvirt/libxl/save # where its managed saves go
	[ "$1" = libvirt ] || MSAVE=$VR/var/lib/libvirt/libxl/save
	echo "=== oracle: session against $1 (up in $UP s)"
	fig daemon-up "$UP"
	STARTS= DESTROYS=
	_ts=$(now)
	area_xchg_in
	area_host
	area_define
	area_native
	area_errors
	area_running
	area_started
	area_pci
	area_xchg_own
	echo "oracle: $1 session in $(since "$_ts") s"
	fig session "$(since "$_ts")"
}

# side_save NAME (run.sh ONLY=save): only the save figures against the daemon now running:
# vx-pv booted, then SAVE_ROUNDS saves and restores of it, each timed, their means as the
# save and restore figures
side_save() {
	SIDE=$1
	OD=$O/$1
	echo "=== oracle: saves against $1 (up in $UP s)"
	fig daemon-up "$UP"
	_m=$(($(con_count vx-pv DOMU-MARKER-OK) + 1))
	V define $G/vx-pv.xml >/dev/null 2>&1 || echo "oracle: $SIDE: define failed"
	if timed running/start-pv start vx-pv && wait_con_fast vx-pv $_m 1200; then
		_s= _r= _n=0
		while [ $_n -lt "${SAVE_ROUNDS:-3}" ]; do
			timed running/save save vx-pv $SAVEIMG || { echo "oracle: $SIDE: save failed"; break; }
			_s="$_s $T"
			timed running/restore restore $SAVEIMG || { echo "oracle: $SIDE: restore failed"; break; }
			_r="$_r $T"
			rm -f $SAVEIMG
			_n=$((_n + 1))
		done
		echo "oracle: $SIDE: save$_s s, restore$_r s"
		SAVES="${SAVES:+$SAVES; }$SIDE save$_s s, restore$_r s"
		[ -z "$_s" ] || fig save "$(mean $_s)"
		[ -z "$_r" ] || fig restore "$(mean $_r)"
	else
		echo "oracle: $SIDE: vx-pv did not boot"
	fi
	rm -f $SAVEIMG
	V destroy vx-pv >/dev/null 2>&1 || true
	V undefine vx-pv >/dev/null 2>&1 || true
}
