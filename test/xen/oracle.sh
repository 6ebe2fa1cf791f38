#!/bin/sh
# test/xen/oracle.sh: libvirt's own Xen driver as the oracle, on the same Xen boot. Run by
# dom0's /init after daemon-checks.sh, when the image has libvirt's libxl driver
# (libvirt_driver_libxl.so, Debian's libvirt-daemon-driver-xen 9.0) and the daemon.
#
# The same virsh session runs against Debian's libvirtd with that driver (xen:///system on
# libvirtd's own socket) and then against virtxend (backend libxl, VIRTXEND_ROOT=/vxo): one
# daemon at a time, each stopped before the other starts, with no guest left between them.
# Each area of the session is one virsh batch (commands separated by ';', each output after
# an "@@@ area/section" line; virsh flushes stdout before every error, so 2>&1 keeps the
# order; virsh -t times each command, which vxoracle sums per section and area: where ours is
# slower), written to $O/{libvirt,virtxend}/AREA.txt. The libxl JSON each daemon handed to
# libxl at each guest's first start goes to $O/SIDE/json/NAME.json (libvirt writes it to
# /var/log/libvirt/libxl/NAME.log as "Domain start: ...", virtxend to its debug log).
# vxoracle then normalizes what must differ and compares: one CHECK line per area, failing
# on any difference that oracle-known.txt does not list.
#
# The side-by-side figures (start, destroy, shutdown, reboot, save, restore of the PV guest;
# throughput of lookups and dumpxml of it running) are FIGURE lines, taken during the session on its own
# boots of the guest (area_running).
#
# Last, oracle-swap (oracle-swap.sh) swaps the two daemons with guests running, both ways, on
# the host's own paths.
#
# "oracle.sh --skip REASON" only prints a SKIP line for every check (run.sh on the host).
set -eu
set -o pipefail
CHECKS="oracle-start oracle-host oracle-define oracle-native oracle-errors oracle-running oracle-json oracle-pci oracle-saveimage oracle-console oracle-tuning oracle-stats oracle-jobs oracle-swap"
# COMPARED: the checks of the two sessions' comparison; oracle-swap (oracle-swap.sh) stands alone
COMPARED=${CHECKS#oracle-start }
COMPARED=${COMPARED% oracle-swap}
if [ "${1:-}" = --skip ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: $2"; done
	exit 0
fi
XT=${XT:-/xt}
. "$XT/lib.sh"
. "$XT/pci-probe.sh" # the NIC run.sh gives dom0 (area_pci)
. "$XT/daemon-failures.sh" # failxml: the guests of the failed starts (area_failed_starts)
O=${ORACLE_OUT:-$TMPD/oracle}
HOTIMG=$TMPD/oracle-hot.img # the disk attached to vx-dev
SAVEIMG=$TMPD/oracle-pv.save # vx-pv saved
XCHG=$TMPD/oracle-xchg.save   # the other daemon's save image of vx-pv, restored (area_xchg_in)
G=$XT/guests
IN=$XT/oracle-inputs # libvirt's test inputs (libxlxml2domconfigdata, xlconfigdata)
LSOCK=/run/libvirt/libvirt-sock
LURI="xen+unix:///system?socket=$LSOCK"
VR=/vxo
VSOCK=$VR/run/libvirt/virtxend-sock
VURI="xen+unix:///system?socket=$VSOCK"
VLOG=/var/log/virtxend-oracle.log
LLOG=/var/log/libvirtd-oracle.log

# ---- the daemons
# LXMOD: libvirt's libxl driver, among libvirtd's modules only while the oracle's libvirtd runs
LXMOD=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so
start_libvirtd() {
	# a libvirt libxl driver's state from before (none, unless a check ran one) would make
	# Domain-0 and the guests other than a fresh driver's
	rm -rf /run/libvirt/libxl /var/lib/libvirt/libxl /etc/libvirt/libxl
	serve_libvirtd
}
# serve_libvirtd: libvirtd with libvirt's libxl driver, on the driver's state as it is
serve_libvirtd() {
	cp $XT/oracle-driver/libvirt_driver_libxl.so $LXMOD
	mkdir -p /etc/libvirt /run/libvirt /var/log/libvirt/libxl
	# the libvirtd of daemon-checks.sh (virsh-net-vol) has its socket in /vx; this one is the
	# host's own: xen:///system with the default paths, on a config of its own
	printf 'auth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "3:file:%s"\n' $LLOG >/etc/libvirt/libvirtd-oracle.conf
	libvirtd -f /etc/libvirt/libvirtd-oracle.conf -p /run/libvirtd-oracle.pid >>$LLOG 2>&1 &
	SPID=$!
	wait_uri "$LURI" libvirtd
}
start_virtxend() {
	mkdir -p $VR/etc/libvirt
	echo 'backend = "libxl"' >$VR/etc/libvirt/libxl.conf
	# the libxl JSON at each start is logged at debug by the backend
	printf 'log_filters = "1:backend.libxl"\nlog_outputs = "1:file:%s"\n' $VLOG >$VR/etc/libvirt/virtxend.conf
	VIRTXEND_ROOT=$VR $XT/virtxend >>/var/log/virtxend-oracle.out 2>&1 &
	SPID=$!
	wait_uri "$VURI" virtxend
}
# wait_uri URI NAME: until virsh gets an answer (60 s); the daemon's pid is SPID
wait_uri() {
	_t=$(now)
	_i=0
	until timeout 30 virsh -q -c "$1" uri >/dev/null 2>&1; do
		kill -0 $SPID 2>/dev/null || { WHY="$2 exited"; return 1; }
		[ $_i -lt 120 ] || { WHY="$2 did not answer within 60 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	UP=$(since "$_t")
}
# rss_kib FIELD: a field of the daemon's (SPID) /proc status, in KiB (VmRSS, RssAnon)
rss_kib() { awk -v f="$1:" '$1 == f { print $2 }' /proc/$SPID/status 2>/dev/null; }
# idle_rss: the daemon's resident memory after its first answer and 2 s of rest, with no guest
idle_rss() {
	sleep 2
	fig idle-rss-kib "$(rss_kib VmRSS)"
	fig idle-anon-kib "$(rss_kib RssAnon)"
}
# quit_daemon: stop the daemon (SPID) as its service stops, its guests left running
quit_daemon() {
	kill $SPID 2>/dev/null || true
	_i=0
	while kill -0 $SPID 2>/dev/null && [ $_i -lt 30 ]; do sleep 0.5; _i=$((_i + 1)); done
	kill -9 $SPID 2>/dev/null || true
	wait $SPID 2>/dev/null || true
}
# stop_daemon: no guest of the session may outlive its daemon
stop_daemon() {
	for _n in $(timeout 60 virsh -q -c "$URI" list --name 2>/dev/null | grep -v '^Domain-0$'); do
		timeout 60 virsh -q -c "$URI" destroy "$_n" >/dev/null 2>&1 || true
	done
	RSS=$(rss_kib VmRSS)
	kill $SPID 2>/dev/null || true
	_i=0
	while kill -0 $SPID 2>/dev/null && [ $_i -lt 30 ]; do sleep 0.5; _i=$((_i + 1)); done
	kill -9 $SPID 2>/dev/null || true
	wait $SPID 2>/dev/null || true
	for _n in $(timeout 30 xl list 2>/dev/null | awk 'NR > 2 { print $1 }'); do
		echo "oracle: $_n left running by $SIDE; destroying it"
		timeout 60 xl destroy "$_n" || true
	done
}

# ---- the session: B collects one batch, run_batch AREA runs it against URI into $OD/AREA.txt
B=
sec() { B="$B echo @@@ $1; $2;"; }
run_batch() {
	_tb=$(now)
	_rc=0
	timeout "${ORACLE_BATCH_LIMIT:-480}" virsh -t -c "$URI" "$B" >>"$OD/$1.txt" 2>&1 || _rc=$?
	echo "oracle: $SIDE: $1 batch in $(since "$_tb") s (virsh rc $_rc)"
	# a virsh killed by timeout (rc 124) hung: say where, for the log
	[ $_rc != 124 ] || { echo "oracle: $SIDE: $1 batch hung after:"; tail -n 5 "$OD/$1.txt"; }
	B=
}
# name_of FILE: the domain name in an XML file
name_of() { sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$1" | head -n 1; }

# the guests whose XML is defined and dumped: the project's, the oracle's, and the inputs of
# libvirt's libxlxml2domconfigdata test
define_inputs() { ls $G/vx-*.xml $G/oracle/o-*.xml $IN/libxlxml2domconfigdata/*.xml; }
# the native configs converted to XML: the project's xl configs and libvirt's xl and xm tests
native_inputs() { ls $G/xt-*.cfg $IN/xlconfigdata/*.cfg; }

# the areas and one side's session, each in its own file (build.sh copies oracle*.sh to /xt)
for _f in oracle-areas oracle-console oracle-pci-save oracle-side oracle-swap; do
	. "$XT/$_f.sh"
done

check_start() {
	DEBUG_FN=start_debug
	rm -rf "$O"
	mkdir -p "$O/libvirt/json" "$O/virtxend/json"
	# both sessions start from a host with Domain-0 alone (the checks before may leave a guest)
	for _n in $(timeout 30 xl list 2>/dev/null | awk 'NR > 2 { print $1 }'); do
		echo "oracle: $_n left running by the checks before; destroying it"
		timeout 60 xl destroy "$_n" || true
	done
	rm -f $TMPD/oracle-xchg*.save
	# the NIC for area_pci: its driver and pciback (as virsh-pci, which ONLY=oracle skips)
	pci_modules || echo "oracle: $WHY"
	URI=$LURI SOCK=$LSOCK
	SIDE=libvirt
	start_libvirtd || return 1
	idle_rss
	$SIDE_FN libvirt
	stop_daemon
	rm -f $LXMOD
	fig end-rss-kib "${RSS:-?}"
	$XT/vxoracle json-libvirt /var/log/libvirt/libxl "$O/libvirt/json" || true
	keep_log $LLOG libvirt/daemon-log.gz
	archive libvirt
	URI=$VURI SOCK=$VSOCK
	SIDE=virtxend
	start_virtxend || return 1
	idle_rss
	$SIDE_FN virtxend
	stop_daemon
	fig end-rss-kib "${RSS:-?}"
	if [ "$SIDE_FN" = side_save ]; then
		archive figures.txt
		DETAIL="libvirtd with libvirt's libxl driver, then virtxend: ${SAVES:-no saves}"
		return 0
	fi
	$XT/vxoracle json-virtxend $VLOG "$O/virtxend/json" || true
	keep_log $VLOG virtxend/daemon-log.gz
	keep_log /var/log/virtxend-oracle.out virtxend/daemon-out.gz
	archive virtxend
	if [ -f $TMPD/oracle-xchg-virtxend.save ]; then
		URI=$LURI SOCK=$LSOCK
		start_libvirtd || return 1
		side_xchg libvirt
		stop_daemon
		rm -f $LXMOD
		archive libvirt/xchg.txt
	fi
	rm -f $TMPD/oracle-xchg*.save
	DETAIL="libvirtd with libvirt's libxl driver, then virtxend: $(awk '$3 == "session" { printf "%s%s %s s", s, $2, $4; s = ", " }' "$O/figures.txt")"
}
# keep_log LOG FILE: the end of a daemon's log, gzipped into FILE below $O, so that a session
# that went wrong on one side can be read afterwards in the archive (vxoracle compares only the
# *.txt files)
keep_log() {
	tail -n 3000 "$1" 2>/dev/null | gzip >"$O/$2" || true
}
start_debug() {
	echo "--- libvirtd log"
	tail -n 20 $LLOG
	echo "--- virtxend log"
	tail -n 20 /var/log/virtxend-oracle.out
}

# ORACLE_LIB=1: only define the functions (to try a session by hand against one daemon)
[ -z "${ORACLE_LIB:-}" ] || return 0
# run.sh packs libvirt's driver, the test inputs, vxoracle and virtxend-load (dom0's root tmpfs
# has no room for them unpacked while the save checks run)
if [ -f $XT/oracle.tgz ]; then
	tar -xzf $XT/oracle.tgz -C $XT && rm -f $XT/oracle.tgz || echo "oracle: $XT/oracle.tgz did not unpack"
fi
if [ ! -f $XT/oracle-driver/libvirt_driver_libxl.so ] || [ ! -x $XT/vxoracle ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: libvirt's libxl driver or vxoracle is not in the image"; done
	exit 0
fi
SIDE_FN=side
if [ "${XT_ONLY:-}" = save ]; then
	# run.sh ONLY=save: the save figures alone, no session to compare
	SIDE_FN=side_save
	run_check oracle-start check_start
	for c in ${CHECKS#oracle-start }; do skip $c "not run (ONLY=save)"; done
	exit 0
fi
# run.sh ONLY=CHECK+CHECK: without an oracle check all of them skip; with one, the session
# it stands on (oracle-start) runs too, unless oracle-swap, which needs none, is the only one.
_named=
for c in $CHECKS; do only "$c" && _named=1; done
if [ -z "$_named" ]; then
	for c in $CHECKS; do skip $c "not run (ONLY=$XT_ONLY)"; done
	exit 0
fi
_session=
for c in oracle-start $COMPARED; do only "$c" && _session=1; done
if [ -n "$_session" ]; then
	only oracle-start || XT_ONLY="$XT_ONLY+oracle-start"
	run_check oracle-start check_start
	if [ -s "$O/libvirt/host.txt" ] && [ -s "$O/virtxend/host.txt" ]; then
		if $XT/vxoracle compare -known $XT/oracle-known.txt -inputs $G -inputs $IN "$O/libvirt" "$O/virtxend" >$TMPD/oracle-compare.out 2>&1; then
			cat $TMPD/oracle-compare.out
		else
			for c in $COMPARED; do echo "CHECK FAIL $c: vxoracle: $(tail -n 1 $TMPD/oracle-compare.out)"; done
		fi
	else
		for c in $COMPARED; do echo "CHECK FAIL $c: no session to compare (oracle-start failed)"; done
	fi
	archive report.txt figures.txt
else
	for c in oracle-start $COMPARED; do skip $c "not run (ONLY=$XT_ONLY)"; done
fi
run_check oracle-swap check_swap
