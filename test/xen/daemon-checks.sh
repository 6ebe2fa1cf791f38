#!/bin/sh
# The checks of virtxend itself on real Xen, run by dom0's /init when run.sh put
# the daemon (built with -tags libxl) into the image: the backend's own test
# binary, then the daemon with backend = "libxl" driven by Debian's stock virsh.
# Each check prints one "CHECK PASS|FAIL|SKIP name: detail" line (see lib.sh).
#
# "daemon-checks.sh --skip REASON" only prints a SKIP line for every check; run.sh
# uses it on the host when the libxl backend is not built.
set -eu
set -o pipefail
CHECKS="libxl-conformance daemon-start virsh-pv virsh-pvh virsh-hvm virsh-pv-disk-nic virsh-stats virsh-hotplug virsh-tuning virsh-save virsh-snapshot virsh-net-vol virsh-pci daemon-kill9 behind-back virsh-libxl-failures"
# "daemon-checks.sh --restarts" runs these alone, after oracle.sh (daemon-restarts.sh)
RESTART_CHECKS="virsh-xen-restarts"
if [ "${1:-}" = --skip ]; then
	for c in $CHECKS $RESTART_CHECKS; do echo "CHECK SKIP $c: $2"; done
	exit 0
fi
XT=${XT:-/xt} # this directory in the image (dry-run.sh points it elsewhere)
. "$XT/lib.sh"
VR=${VR:-/vx} # VIRTXEND_ROOT
SOCK=$VR/run/libvirt/virtxend-sock
URI="xen+unix:///system?socket=$SOCK"
DLOG=${DLOG:-/var/log/virtxend.log}
VX_TIMES=${VX_TIMES:-3}
V() { timeout 90 virsh -q -c "$URI" "$@"; }

start_daemon() {
	VIRTXEND_ROOT=$VR $XT/virtxend --verbose >>$DLOG 2>&1 &
	DPID=$!
	_i=0
	while [ $_i -lt 60 ]; do
		[ -S $SOCK ] && V uri >/dev/null 2>&1 && return 0
		kill -0 $DPID 2>/dev/null || { WHY="virtxend exited: $(tail -n 2 $DLOG | tr '\n' ' ')"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	WHY="virtxend did not answer on $SOCK within 30 s"
	return 1
}
daemon_debug() {
	echo "--- virtxend log"
	tail -n 30 $DLOG
}
vguest_debug() {
	daemon_debug
	guest_debug "$1"
}
# state NAME WANT SECS: wait until virsh domstate NAME says WANT
state() {
	_i=0
	while [ $_i -lt "$3" ]; do
		[ "$(V domstate "$1" 2>/dev/null | head -n 1)" = "$2" ] && return 0
		sleep 1
		_i=$((_i + 1))
	done
	WHY="domain $1 not '$2' within $3 s (domstate: $(V domstate "$1" 2>&1 | head -n 1))"
	return 1
}

# forget NAME: remove what an earlier failed check may have left of guest NAME
forget() {
	V destroy "$1" >/dev/null 2>&1 || true
	V undefine "$1" >/dev/null 2>&1 || true
}

# vremove NAME: the end of a check's guest: destroyed through the daemon, gone from xl's list
# within 20 s, undefined
vremove() {
	step "virsh destroy $1" V destroy "$1" || return 1
	wait_gone "$1" 20 || return 1
	step "virsh undefine $1" V undefine "$1"
}

# vstart NAME [SECS]: start a defined guest, wait (SECS, default 120) for the next marker, check
# that xl agrees on its id.
# The ids are compared once the guest has booted: a guest that resets itself early (a PVH
# guest's first boot under TCG sometimes triple-faults, and an HVM guest's did once, 150 s
# into it) is rebooted by the daemon (on_reboot = restart), and for that moment it is shut off
# with no id, as in libvirt. If the marker has not come within SECS and the guest has a new id,
# the new boot gets SECS more; RESET then names the domain that reset. AFTER_START, if set, is
# a command run with NAME as soon as the start returns.
vstart() {
	_m=$(($(markers "$1") + 1))
	RESET=
	step "virsh start $1" V start "$1" || return 1
	[ -z "${AFTER_START:-}" ] || $AFTER_START "$1"
	state "$1" running 10 || return 1
	_id0=$(V domid "$1" 2>/dev/null || true)
	if ! wait_con "$1" DOMU-MARKER-OK $_m "${2:-120}"; then
		_id1=$(V domid "$1" 2>/dev/null || true)
		case $_id1 in "" | - | "$_id0") return 1 ;; esac
		RESET="d$_id0"
		echo "=== $1: d$_id0 reset before its marker; waiting for d$_id1's"
		wait_con "$1" DOMU-MARKER-OK $_m "${2:-120}" || return 1
	fi
	state "$1" running 30 || return 1
	ID=$(V domid "$1")
	[ "$(xl domid "$1" 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid "$1" 2>&1)"; return 1; }
}

check_conformance() {
	DEBUG_FN=conformance_debug
	[ -x $XT/libxl.test ] || { WHY="no test binary"; return 1; }
	_rc=0
	(cd "$XT" && VIRTXEND_TEST_REAL_XEN=1 VIRTXEND_TEST_KERNEL=/root/vmlinuz VIRTXEND_TEST_INITRD=/root/domu.cpio.gz timeout 600 ./libxl.test -test.v -test.timeout 580s ${CONF_RUN:+-test.run "$CONF_RUN"} >$TMPD/conformance.out 2>&1) || _rc=$?
	conformance_leftovers
	# for the log: where the suite's time goes
	echo "slowest of libxl.test: $(grep -E -- '^ *--- (PASS|FAIL): TestBackendConformance/' $TMPD/conformance.out |
		sed 's/.*Conformance\/\([^ ]*\) (\([0-9.]*\)s)/\2 \1/' | sort -n -r | head -n 6 | tr '\n' ' ')"
	# for the log: a run of chosen tests (CONF_RUN) shows what they logged
	if [ "${CONF_MUST:-}" = any ]; then sed -n 's/^ *\([a-z_]*_test\.go:[0-9]*: \)/libxl.test: \1/p' $TMPD/conformance.out | tail -n 60; fi
	_p=$(grep -c -- '--- PASS' $TMPD/conformance.out || true)
	_s=$(grep -c -- '--- SKIP' $TMPD/conformance.out || true)
	if [ $_rc != 0 ]; then
		WHY="libxl.test rc=$_rc; failed: $(grep -- '--- FAIL' $TMPD/conformance.out | awk '{print $3}' | head -n 8 | tr '\n' ' ')"
		return 1
	fi
	for _t in ${CONF_MUST:-TestBackendConformance TestOpenOnXen TestDiskSnapshotsOnXen}; do
		if [ "$_t" = any ]; then
			[ "$_p" -gt 0 ] || { WHY="no test of -test.run '$CONF_RUN' passed"; return 1; }
			continue
		fi
		grep -q -- "--- PASS: $_t " $TMPD/conformance.out || { WHY="$_t did not run (skipped?)"; return 1; }
	done
	DETAIL="libxl.test${CONF_RUN:+ -test.run '$CONF_RUN'}: $_p passed, $_s skipped; the backend suite ran on Xen; slowest: $(slowest_cases)"
}
# conformance_leftovers: what a libxl.test killed mid-case left, removed. Once (2026-12-06) a
# flaky MigrateLive left a guest and its files, the OOM killer then killed the test binary, its
# temporary directories stayed in dom0's memory-backed /tmp, and every check from virsh-save on
# failed for want of space or memory. Its guests are named conf-* (since a second time, the
# killed TestDiskSnapshotsOnXen's guest, then named vx-snap, stayed and took virsh-snapshot's
# name); Go's t.TempDir makes /tmp/TestNAME*; a test that ends cleanly leaves neither.
conformance_leftovers() {
	for _g in $(timeout 30 xl list 2>/dev/null | awk 'NR > 1 && $1 ~ /^conf-/ { print $1 }'); do
		echo "libxl.test left guest $_g: destroyed"
		timeout 60 xl destroy "$_g" >/dev/null 2>&1 || true
	done
	for _d in /tmp/Test*; do
		[ -e "$_d" ] || continue
		echo "libxl.test left $_d ($(du -sh "$_d" 2>/dev/null | awk '{ print $1 }')): removed"
		umount -l "$_d"/* 2>/dev/null || true
		rm -rf "$_d"
	done
}
# slowest_cases: the three conformance cases that took longest, with their times (the check
# takes a good part of the run, and the log keeps nothing else of libxl.test's output)
slowest_cases() {
	sed -n 's/^ *--- PASS: TestBackendConformance\/\([^ /]*\) (\([0-9.]*\)s)$/\2 \1/p' $TMPD/conformance.out |
		sort -rn | head -n 3 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $2, $1 }'
}
# (a crash's header first: its goroutine dump would push it out of the tail; run_check shows
# 60 lines)
conformance_debug() {
	grep -m 1 -B 5 -A 20 -E '^(panic: |fatal error: |SIG[A-Z]+: )' $TMPD/conformance.out || true
	# the failing cases' own messages (t.Error, t.Fatal: "    FILE.go:LINE: ..."), which the
	# libxl log lines around them can push out of the tail below
	echo "--- what the failing cases said"
	grep -E '^ +[A-Za-z0-9_]+\.go:[0-9]+: ' $TMPD/conformance.out | head -n 20 || true
	grep -v -E -- '^=== (RUN|PAUSE|CONT)|--- PASS|--- SKIP|fixtures not found|TestOpenOnXen covers it|^ok |^PASS' $TMPD/conformance.out | tail -n 32
}

check_daemon_start() {
	DEBUG_FN=daemon_debug
	mkdir -p $VR/etc/libvirt
	echo "backend = \"${VX_BACKEND:-libxl}\"" >$VR/etc/libvirt/libxl.conf
	start_daemon || return 1
	step "virsh version" V version || return 1
	grep -q 'hypervisor: Xen 4\.17' $TMPD/step.out || { WHY="virsh version: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh nodeinfo" V nodeinfo || return 1
	# nodememstats (which libvirt's libxl driver lacks): Xen's memory, as xl info gives it (MiB)
	step "virsh nodememstats" V nodememstats || return 1
	_tot=$(awk '$1 == "total" { print $3 }' $TMPD/step.out)
	if [ "${VX_BACKEND:-libxl}" = libxl ]; then
		_want=$(xl info | awk '$1 == "total_memory" { print $3 }')
	else
		_want=$(($(V nodeinfo | awk '/^Memory size:/ { print $3 }') / 1024))
	fi
	[ -n "$_tot" ] && [ $((_tot / 1024)) = "$_want" ] || { WHY="nodememstats: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' '), total_memory $_want MiB"; return 1; }
	step "virsh capabilities" V capabilities || return 1
	grep -q '<os_type>xen</os_type>' $TMPD/step.out || { WHY="capabilities have no xen (PV) guest"; return 1; }
	step "virsh list" V list --all || return 1
	DETAIL="$(V version | grep hypervisor | tr -s ' '), pid $DPID, nodememstats total $_tot KiB"
}

# ---- helpers of more than one area's checks (the files sourced below)

# mkimg PATH KIB [MAGIC]: with the libxl backend, an image file of KIB KiB of zeros that
# starts with MAGIC; the simulated host opens no image, and dry-run.sh must not write to
# the host's /root
mkimg() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	dd if=/dev/zero of="$1" bs=1k count="$2" 2>/dev/null
	[ -z "${3:-}" ] || printf %s "$3" | dd of="$1" conv=notrunc 2>/dev/null
}

# xl_disk NAME VDEV: libxl's view of guest NAME's disk VDEV, from xl list -l: its pdev_path
# ("-" when it has none, "gone" when libxl has no such disk)
xl_disk() {
	xl list -l "$1" >$TMPD/xl.out 2>&1 || { echo gone; return 0; }
	awk -v v="$2" '/"pdev_path":/ { p = $2; gsub(/[",]/, "", p) }
		/"vdev":/ { d = $2; gsub(/[",]/, "", d); if (d == v) { print (p == "" ? "-" : p); f = 1 }; p = "" }
		/^ *\}/ { p = "" }
		END { if (!f) print "gone" }' $TMPD/xl.out
}

# The checks of each area are in files of their own beside this one, which run.sh and
# dry-run.sh copy with it (every daemon-*.sh); the helpers above and below serve them all.
for _part in lifecycle hvm devices tuning save snapshot net-vol pci failures restarts; do
	. "$XT/daemon-$_part.sh"
done
. "$XT/pci-probe.sh" # the device run.sh gives dom0 (virsh-pci)

check_kill9() {
	DEBUG_FN="vguest_debug vx-pv"
	forget vx-pv
	step "virsh define" V define $XT/guests/vx-pv.xml || return 1
	vstart vx-pv || return 1
	_id=$ID
	_old=$DPID
	kill -9 "$DPID"
	wait "$DPID" 2>/dev/null || true
	start_daemon || return 1
	state vx-pv running 10 || return 1
	[ "$(V domid vx-pv)" = "$_id" ] || { WHY="after restart virsh says id $(V domid vx-pv), want $_id"; return 1; }
	vremove vx-pv || return 1
	DETAIL="daemon pid $_old killed, pid $DPID found vx-pv running with id $_id"
}

# behind-back: what xl does to a guest the daemon started is seen by virsh, as libvirt's
# own libxl driver does not see it: xl pause and unpause (no libxl event: the daemon's
# one-second watch), then xl destroy (libxl's death event).
check_behind_back() {
	DEBUG_FN="vguest_debug vx-pv"
	forget vx-pv
	step "virsh define" V define $XT/guests/vx-pv.xml || return 1
	step "virsh start" V start vx-pv || return 1
	state vx-pv running 10 || return 1
	_id=$(V domid vx-pv)
	_t=$(now)
	step "xl pause" xl pause "$_id" || return 1
	state vx-pv paused 5 || return 1
	_p=$(since "$_t")
	step "xl unpause" xl unpause "$_id" || return 1
	state vx-pv running 5 || return 1
	_t=$(now)
	step "xl destroy" xl destroy "$_id" || return 1
	state vx-pv "shut off" 10 || return 1
	_g=$(since "$_t")
	[ "$(V domstate --reason vx-pv | head -n 1)" = "shut off (destroyed)" ] ||
		{ WHY="domstate after xl destroy: $(V domstate --reason vx-pv 2>&1 | head -n 1)"; return 1; }
	step "virsh undefine" V undefine vx-pv || return 1
	DETAIL="id $_id: xl pause seen as paused in ${_p} s, unpause as running, xl destroy as shut off (destroyed) in ${_g} s"
}

# TIME line: start+destroy of the device-less PV guest through the daemon (no wait for the marker)
time_daemon() {
	forget vx-pv
	V define $XT/guests/vx-pv.xml >/dev/null 2>&1 || { echo "TIME virtxend: define failed"; return 0; }
	_c=0 _d=0 _n=0
	while [ $_n -lt "$VX_TIMES" ]; do
		_t=$(now)
		V start vx-pv >/dev/null 2>&1 || { echo "TIME virtxend: start failed"; return 0; }
		_c=$(awk -v s="$_c" -v d="$(since "$_t")" 'BEGIN { print s + d }')
		_t=$(now)
		V destroy vx-pv >/dev/null 2>&1 || { echo "TIME virtxend: destroy failed"; return 0; }
		_d=$(awk -v s="$_d" -v d="$(since "$_t")" 'BEGIN { print s + d }')
		_n=$((_n + 1))
	done
	V undefine vx-pv >/dev/null 2>&1 || true
	# what virsh itself costs: start-up, connect and one call that does nothing
	_t=$(now)
	_n=0
	while [ $_n -lt "$VX_TIMES" ]; do
		V uri >/dev/null 2>&1 || true
		_n=$((_n + 1))
	done
	_v=$(since "$_t")
	awk -v c="$_c" -v d="$_d" -v n="$_n" -v v="$_v" 'BEGIN { printf "TIME virtxend: PV guest start %.2f s, destroy %.2f s (mean of %d, virsh included; a virsh uri alone takes %.2f s)\n", c / n, d / n, n, v / n }'
}

if [ "${1:-}" = --restarts ]; then
	# dom0-init.sh, last: xenstored's restart would spoil every check after it
	case ${XT_ONLY:-} in
	save) skip virsh-xen-restarts "not run (ONLY=save)" ;;
	*)
		if ! only virsh-xen-restarts; then
			skip virsh-xen-restarts "not run (ONLY=$XT_ONLY)"
		elif start_daemon; then
			run_check virsh-xen-restarts check_virsh_xen_restarts
			kill "$DPID" 2>/dev/null || true
		else
			echo "CHECK FAIL virsh-xen-restarts: $WHY"
		fi
		;;
	esac
	exit 0
fi
if [ "${XT_ONLY:-}" = save ]; then
	# run.sh ONLY=save: the backend suite's save cases (SaveRestore aborts a save into a file
	# in its first 100 ms; MigrateLive saves into a pipe), the daemon, virsh-save, the figures
	if [ -x $XT/libxl.test ]; then
		CONF_RUN='^(TestBackendConformance|TestSaveLivePVRefused)$/^(SaveRestore|MigrateLive)$' \
			CONF_MUST="TestBackendConformance/SaveRestore TestBackendConformance/MigrateLive" run_check libxl-conformance check_conformance
	else
		skip libxl-conformance "no libxl test binary in the image"
	fi
	run_check daemon-start check_daemon_start
	run_check virsh-save check_virsh_save
	time_save
	for c in $CHECKS; do
		case $c in libxl-conformance | daemon-start | virsh-save) ;; *) skip $c "not run (ONLY=save)" ;; esac
	done
	kill "$DPID" 2>/dev/null || true
	exit 0
fi
if [ -x $XT/libxl.test ] && [ -n "${XT_CONF_RUN:-}" ]; then
	# run.sh CONF_RUN=REGEX: only the tests of libxl.test it matches, any of which must pass
	CONF_RUN=$XT_CONF_RUN CONF_MUST=any run_check libxl-conformance check_conformance
elif [ -x $XT/libxl.test ]; then
	run_check libxl-conformance check_conformance
else
	skip libxl-conformance "no libxl test binary in the image"
fi
run_check daemon-start check_daemon_start
if [ -z "${DPID:-}" ] || ! kill -0 "$DPID" 2>/dev/null; then
	for c in ${CHECKS#libxl-conformance daemon-start }; do echo "CHECK FAIL $c: the daemon is not running"; done
	exit 0
fi
run_check virsh-pv check_virsh_pv
if has_hap; then
	run_check virsh-pvh check_virsh_pvh
else
	skip virsh-pvh "Xen reports no HAP (the emulated CPU lacks SVM+NPT)"
fi
if has_hap; then
	run_check virsh-hvm check_virsh_hvm
else
	skip virsh-hvm "Xen reports no HAP (the emulated CPU lacks SVM+NPT)"
fi
run_check virsh-pv-disk-nic check_virsh_pv_dev
run_check virsh-stats check_virsh_stats
run_check virsh-hotplug check_virsh_hotplug
forget vx-dev # what a failed virsh-hotplug left running
run_check virsh-tuning check_virsh_tuning
run_check virsh-save check_virsh_save
run_check virsh-snapshot check_virsh_snapshot
run_check virsh-net-vol check_virsh_net_vol
run_check virsh-pci check_virsh_pci
run_check daemon-kill9 check_kill9
run_check behind-back check_behind_back
run_check virsh-libxl-failures check_virsh_libxl_failures
time_daemon
kill "$DPID" 2>/dev/null || true
# for the log: what the daemon warned about or failed at during the checks
echo "=== virtxend log: $(grep -a -c -E ': (warning|error) : ' $DLOG || true) warnings and errors"
grep -a -E ': (warning|error) : ' $DLOG | cut -c1-400 | tail -n 40 || true
