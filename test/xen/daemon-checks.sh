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
CHECKS="libxl-conformance daemon-start virsh-pv virsh-pvh virsh-hvm virsh-pv-disk-nic virsh-stats virsh-net-vol daemon-kill9 behind-back"
if [ "${1:-}" = --skip ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: $2"; done
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

# vstart NAME [SECS]: start a defined guest, wait (SECS, default 120) for the next marker, check
# that xl agrees on its id.
# The ids are compared once the guest has booted: a guest that resets itself early (a PVH
# guest's first boot under TCG sometimes triple-faults) is rebooted by the daemon
# (on_reboot = restart), and for that moment it is shut off with no id, as in libvirt.
vstart() {
	_m=$(($(markers "$1") + 1))
	step "virsh start $1" V start "$1" || return 1
	state "$1" running 10 || return 1
	wait_con "$1" DOMU-MARKER-OK $_m "${2:-120}" || return 1
	state "$1" running 30 || return 1
	ID=$(V domid "$1")
	[ "$(xl domid "$1" 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid "$1" 2>&1)"; return 1; }
}

check_conformance() {
	DEBUG_FN=conformance_debug
	[ -x $XT/libxl.test ] || { WHY="no test binary"; return 1; }
	_rc=0
	(cd "$XT" && VIRTXEND_TEST_REAL_XEN=1 VIRTXEND_TEST_KERNEL=/root/vmlinuz VIRTXEND_TEST_INITRD=/root/domu.cpio.gz timeout 600 ./libxl.test -test.v -test.timeout 580s >/tmp/conformance.out 2>&1) || _rc=$?
	_p=$(grep -c -- '--- PASS' /tmp/conformance.out || true)
	_s=$(grep -c -- '--- SKIP' /tmp/conformance.out || true)
	if [ $_rc != 0 ]; then
		WHY="libxl.test rc=$_rc; failed: $(grep -- '--- FAIL' /tmp/conformance.out | awk '{print $3}' | head -n 8 | tr '\n' ' ')"
		return 1
	fi
	for _t in TestBackendConformance TestOpenOnXen; do
		grep -q -- "--- PASS: $_t " /tmp/conformance.out || { WHY="$_t did not run (skipped?)"; return 1; }
	done
	DETAIL="libxl.test: $_p passed, $_s skipped; the backend suite ran on Xen"
}
conformance_debug() { grep -v -E -- '^=== (RUN|PAUSE|CONT)|--- PASS|--- SKIP|fixtures not found|TestOpenOnXen covers it|^ok |^PASS' /tmp/conformance.out | tail -n 50; }

check_daemon_start() {
	DEBUG_FN=daemon_debug
	mkdir -p $VR/etc/libvirt
	echo "backend = \"${VX_BACKEND:-libxl}\"" >$VR/etc/libvirt/libxl.conf
	start_daemon || return 1
	step "virsh version" V version || return 1
	grep -q 'hypervisor: Xen 4\.17' /tmp/step.out || { WHY="virsh version: $(tr '\n' ' ' </tmp/step.out)"; return 1; }
	step "virsh nodeinfo" V nodeinfo || return 1
	step "virsh capabilities" V capabilities || return 1
	grep -q '<os_type>xen</os_type>' /tmp/step.out || { WHY="capabilities have no xen (PV) guest"; return 1; }
	step "virsh list" V list --all || return 1
	DETAIL="$(V version | grep hypervisor | tr -s ' '), pid $DPID"
}

# vreboot NAME: virsh reboot of a running guest (id in ID); the driver destroys it and starts it
# again (on_reboot = restart), so wait for the next marker and check the new id with xl
vreboot() {
	_m=$(($(markers "$1") + 1))
	_old=$ID
	_t=$(now)
	step "virsh reboot $1" V reboot "$1" || return 1
	wait_con "$1" DOMU-MARKER-OK $_m 120 || return 1
	state "$1" running 30 || return 1
	ID=$(V domid "$1")
	[ "$ID" != "$_old" ] || { WHY="rebooted guest kept id $ID"; return 1; }
	[ "$(xl domid "$1" 2>/dev/null)" = "$ID" ] || { WHY="after reboot virsh says id $ID, xl says $(xl domid "$1" 2>&1)"; return 1; }
	REBOOT="$(since "$_t")"
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

# vconsole NAME: virsh console through the daemon, on script(1)'s pty as a user runs it: it
# shows the boot output the guest printed before anyone connected (xenconsoled keeps it in
# the pty) with the guest's marker, then the guest's answer to a typed line; ^] ends it. The
# simulated guest prints its own banner and answers a line with the line.
vconsole() {
	_out=/tmp/console-$1.out
	_in=/tmp/console-$1.in
	_tok=vx-console-$$
	if [ "${VX_BACKEND:-libxl}" = libxl ]; then
		_boot=DOMU-MARKER-OK _answer="^DOMU-ECHO $_tok"
	else
		_boot="Booting simulated Xen guest '$1'" _answer="^$_tok"
	fi
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

# lifecycle NAME [reboot]: define, start, dominfo, dumpxml, marker, [reboot,] shutdown, start,
# destroy, undefine
lifecycle() {
	DEBUG_FN="vguest_debug $1"
	REBOOT= CONSOLE=
	forget "$1"
	step "virsh define" V define "$XT/guests/$1.xml" || return 1
	state "$1" "shut off" 5 || return 1
	vstart "$1" || return 1
	_id1=$ID
	step "virsh dominfo" V dominfo "$1" || return 1
	grep -q -E '^State: +running' /tmp/step.out || { WHY="dominfo: $(grep State /tmp/step.out)"; return 1; }
	grep -q -E "^Id: +$ID\$" /tmp/step.out || { WHY="dominfo: $(grep Id: /tmp/step.out), want $ID"; return 1; }
	step "virsh dumpxml" V dumpxml "$1" || return 1
	grep -q "<domain type='xen' id='$ID'>" /tmp/step.out || { WHY="dumpxml: $(head -n 1 /tmp/step.out)"; return 1; }
	grep -q "<name>$1</name>" /tmp/step.out || { WHY="dumpxml has no <name>$1</name>"; return 1; }
	vtty "$1" || return 1
	if [ "${2:-}" = reboot ]; then
		vconsole "$1" || return 1
		vreboot "$1" || return 1
	fi
	_id2=$ID
	step "virsh shutdown" V shutdown "$1" || return 1
	state "$1" "shut off" 90 || return 1
	wait_gone "$1" 10 || return 1
	vstart "$1" || return 1
	[ "$ID" != "$_id2" ] || { WHY="restarted guest kept id $ID"; return 1; }
	step "virsh destroy" V destroy "$1" || return 1
	state "$1" "shut off" 10 || return 1
	wait_gone "$1" 10 || return 1
	step "virsh undefine" V undefine "$1" || return 1
	! V list --all --name | grep -q -x "$1" || { WHY="undefined guest still listed"; return 1; }
	if [ -n "$REBOOT" ]; then
		DETAIL="ids $_id1, $_id2 after reboot (new boot's marker in $REBOOT s), $ID after shutdown and start; define start dominfo dumpxml marker ttyconsole${TTY:+ $TTY} $CONSOLE; reboot shutdown start destroy undefine"
	else
		DETAIL="ids $_id1 then $ID; define start dominfo dumpxml marker ttyconsole${TTY:+ $TTY} shutdown start destroy undefine"
	fi
}
check_virsh_pv() { lifecycle vx-pv reboot; }
check_virsh_pvh() { lifecycle vx-pvh; }

# hold_port PORT: with the libxl backend, something else listens on PORT meanwhile (HELD is
# its pid), so the daemon's port allocator, which probes with bind() as libvirt's does, must
# pass it over; the simulated host's guests listen nowhere and it is not probed there
hold_port() {
	HELD=
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	nc -l -p "$1" </dev/null >/dev/null 2>&1 &
	HELD=$!
	_i=0
	until listening "$1"; do
		[ $_i -lt 20 ] || { WHY="nc could not hold port $1"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
# listening PORT: something listens on TCP PORT here (/proc/net/tcp, hex port, state 0A)
listening() { awk -v p="$(printf ':%04X' "$1")" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; }

# vnc_port NAME ID: the VNC port virsh dumpxml shows for the running guest is the one libxl
# was given for domain ID (xl list -l: display + 5900, the display left out when 0, as libxl
# writes defaults), and, with the libxl backend, the device model listens there
vnc_port() {
	step "virsh dumpxml" V dumpxml "$1" || return 1
	VNC=$(sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)'.*/\1/p" /tmp/step.out | head -n 1)
	[ -n "$VNC" ] || { WHY="dumpxml shows no VNC port: $(grep '<graphics' /tmp/step.out)"; return 1; }
	step "xl list -l $1" xl list -l "$1" || return 1
	# one display per vnc block (the device model's and the framebuffer's), 0 when left out
	_ds=$(awk '/"vnc": \{/ { v = 1; d = 0; next }
		v && /"display":/ { gsub(/[^0-9]/, ""); d = $0 }
		v && /^[ \t]*\},?$/ { print d; v = 0 }' /tmp/step.out | sort -u | tr '\n' ' ')
	[ "$_ds" = "$((VNC - 5900)) " ] || { WHY="dumpxml says VNC port $VNC, xl list -l says display(s) ${_ds:-none} for domain $2"; return 1; }
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_i=0
	until listening "$VNC"; do
		[ $_i -lt 20 ] || { WHY="the device model of d$2 does not listen on VNC port $VNC"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}

# hvm_boot: the first start of vx-hvm, up to its device model and VNC port
hvm_boot() {
	_t=$(now)
	vstart vx-hvm 300 || return 1
	_boot=$(since "$_t")
	_id1=$ID
	dm_up "$ID" 10 || return 1
	_dm=$DM
	_rss=$(dm_rss "$DM")
	vnc_port vx-hvm "$ID"
}

# The HVM guest (hvmloader, SeaBIOS, the device model the daemon has libxl spawn): define,
# start with port 5900 held by another process, the marker (its Linux boots in about 90 s
# under nested TCG), its VNC port (dumpxml, xl list -l and the device model agree, and it is
# not the held one), dominfo, shutdown (PV, the guest has Xen's drivers), start again (a new
# id and device model; no wait for its boot), destroy (its device model must go too), undefine
check_virsh_hvm() {
	DEBUG_FN="hvm_debug vx-hvm"
	forget vx-hvm
	step "virsh define" V define "$XT/guests/vx-hvm.xml" || return 1
	hold_port 5900 || return 1
	_rc=0
	hvm_boot || _rc=1
	[ -z "$HELD" ] || kill "$HELD" 2>/dev/null || true
	[ $_rc = 0 ] || return 1
	[ -z "$HELD" ] || [ "$VNC" != 5900 ] || { WHY="VNC port 5900 handed out while another process listened there"; return 1; }
	step "virsh dominfo" V dominfo vx-hvm || return 1
	grep -q -E '^OS Type: +hvm$' /tmp/step.out || { WHY="dominfo: $(grep 'OS Type' /tmp/step.out)"; return 1; }
	_t=$(now)
	step "virsh shutdown" V shutdown vx-hvm || return 1
	# 5 s as a rule; one run on a slow host (its boot took 200 s) had not shut down after 90
	state vx-hvm "shut off" 240 || return 1
	wait_gone vx-hvm 10 || return 1
	_down=$(since "$_t")
	dm_gone "$_id1" 15 || return 1
	step "virsh start" V start vx-hvm || return 1
	state vx-hvm running 10 || return 1
	ID=$(V domid vx-hvm)
	[ "$ID" != "$_id1" ] || { WHY="restarted guest kept id $ID"; return 1; }
	[ "$(xl domid vx-hvm 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid vx-hvm 2>&1)"; return 1; }
	dm_up "$ID" 10 || return 1
	step "virsh destroy" V destroy vx-hvm || return 1
	state vx-hvm "shut off" 10 || return 1
	wait_gone vx-hvm 10 || return 1
	dm_gone "$ID" 15 || return 1
	step "virsh undefine" V undefine vx-hvm || return 1
	DETAIL="ids $_id1 then $ID; marker $_boot s after start (device model pid $_dm, RSS $_rss), VNC port $VNC${HELD:+ (5900 held)} in dumpxml and xl, shut down in $_down s; define start vnc dominfo shutdown start destroy undefine"
}

# The PV guest with a disk and a NIC: it reads the disk's magic and pings dom0 over xenbr0. The
# guest stays up for virsh-stats, with its counters as they were right after the start (before
# its kernel ran) in /tmp/stats-before-*.out; VXDEV is its id then.
check_virsh_pv_dev() {
	DEBUG_FN="vguest_debug vx-dev"
	VXDEV=
	forget vx-dev
	step "virsh define" V define $XT/guests/vx-dev.xml || return 1
	_m=$(($(markers vx-dev) + 1))
	step "virsh start" V start vx-dev || return 1
	_id=$(V domid vx-dev)
	V domblkstat vx-dev xvda >/tmp/stats-before-blk.out 2>&1 || true
	V domifstat vx-dev "vif$_id.0" >/tmp/stats-before-if.out 2>&1 || true
	state vx-dev running 10 || return 1
	wait_con vx-dev DOMU-MARKER-OK $_m 120 || return 1
	ID=$(V domid vx-dev)
	[ "$ID" = "$_id" ] || { WHY="vx-dev restarted: id $_id, then $ID"; return 1; }
	[ "$(xl domid vx-dev 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid vx-dev 2>&1)"; return 1; }
	wait_con vx-dev 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-dev.log || { WHY="guest did not read the disk's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-dev.log || { WHY="guest could not ping dom0 over xenbr0"; return 1; }
	step "virsh domblklist" V domblklist vx-dev || return 1
	grep -q xvda /tmp/step.out || { WHY="domblklist shows no xvda"; return 1; }
	step "virsh domiflist" V domiflist vx-dev || return 1
	grep -q xenbr0 /tmp/step.out || { WHY="domiflist shows no NIC on xenbr0"; return 1; }
	VXDEV=$ID
	DETAIL="id $ID: disk read, ping over xenbr0"
}

# statv FILE NAME: the value of NAME in virsh's "[DEV] NAME VALUE" lines (domblkstat, domifstat,
# dommemstat), or in domstats' "NAME=VALUE"; empty when absent
statv() { awk -v k="$2" '{ sub(/^[ \t]+/, "") } $(NF - 1) == k { print $NF; exit } index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$1"; }

# The statistics of vx-dev on Xen as libvirt reads them: blkback's counters of xvda
# (/sys/bus/xen-backend/devices/vbd-ID-51712/statistics) and its vif's line of /proc/net/dev
# (swapped into the guest's view) grew by its disk read and its three pings (each way);
# dommemstat has libxl's balloon and the definition's 128 MiB; cpu-stats the guest's CPU time;
# domstats every group of it; domjobinfo no job. Then the guest goes.
check_virsh_stats() {
	DEBUG_FN="vguest_debug vx-dev"
	[ -n "${VXDEV:-}" ] || { WHY="vx-dev is not running (virsh-pv-disk-nic failed)"; return 1; }
	ID=$VXDEV
	_rd0=$(statv /tmp/stats-before-blk.out rd_req) _tx0=$(statv /tmp/stats-before-if.out tx_packets)
	_rx0=$(statv /tmp/stats-before-if.out rx_packets)
	[ -n "$_rd0" ] && [ -n "$_tx0" ] || { WHY="at start: $(cat /tmp/stats-before-blk.out /tmp/stats-before-if.out | tr '\n' ' ' | cut -c1-240)"; return 1; }
	step "virsh domblkstat" V domblkstat vx-dev xvda || return 1
	_rd=$(statv /tmp/step.out rd_req) _rb=$(statv /tmp/step.out rd_bytes)
	[ "${_rd:-0}" -gt "$_rd0" ] && [ "${_rb:-0}" -gt 0 ] || { WHY="xvda's reads did not grow: rd_req $_rd0 then $_rd ($(tr '\n' ' ' </tmp/step.out))"; return 1; }
	step "virsh domblkstat (all disks)" V domblkstat vx-dev || return 1
	step "virsh domifstat" V domifstat vx-dev "vif$ID.0" || return 1
	_tx=$(statv /tmp/step.out tx_packets) _rx=$(statv /tmp/step.out rx_packets)
	[ "${_tx:-0}" -ge $((_tx0 + 3)) ] && [ "${_rx:-0}" -ge $((_rx0 + 3)) ] ||
		{ WHY="vif$ID.0 did not count 3 pings each way: tx $_tx0 then $_tx, rx $_rx0 then $_rx"; return 1; }
	step "virsh dommemstat" V dommemstat vx-dev || return 1
	_act=$(statv /tmp/step.out actual)
	[ "${_act:-0}" -gt 0 ] && [ "$(statv /tmp/step.out available)" = 131072 ] || { WHY="dommemstat: $(tr '\n' ' ' </tmp/step.out)"; return 1; }
	step "virsh cpu-stats" V cpu-stats vx-dev || return 1
	grep -q '^CPU0:' /tmp/step.out && grep -q '^Total:' /tmp/step.out || { WHY="cpu-stats: $(tr '\n' ' ' </tmp/step.out)"; return 1; }
	_cpu=$(awk '/^Total:/ { t = 1 } t && /cpu_time/ { print $2; exit }' /tmp/step.out)
	step "virsh domstats" V domstats vx-dev || return 1
	for _k in state.state cpu.time balloon.current balloon.maximum vcpu.current vcpu.0.state vcpu.0.time net.count \
		net.0.name net.0.rx.pkts net.0.tx.bytes block.count block.0.name block.0.rd.reqs block.0.wr.bytes block.0.errors; do
		[ -n "$(statv /tmp/step.out $_k)" ] || { WHY="domstats has no $_k: $(tr '\n' ' ' </tmp/step.out | cut -c1-300)"; return 1; }
	done
	[ "$(statv /tmp/step.out net.0.name)" = "vif$ID.0" ] || { WHY="domstats names the NIC $(statv /tmp/step.out net.0.name)"; return 1; }
	[ "$(statv /tmp/step.out block.0.rd.reqs)" -ge "$_rd" ] || { WHY="domstats' reads went back: $(statv /tmp/step.out block.0.rd.reqs) < $_rd"; return 1; }
	step "virsh domjobinfo" V domjobinfo vx-dev || return 1
	grep -q -E '^Job type: +None' /tmp/step.out || { WHY="domjobinfo: $(tr '\n' ' ' </tmp/step.out)"; return 1; }
	step "virsh destroy" V destroy vx-dev || return 1
	wait_gone vx-dev 20 || return 1
	step "virsh undefine" V undefine vx-dev || return 1
	DETAIL="id $ID: xvda rd_req $_rd0 -> $_rd ($_rb bytes), vif$ID.0 tx $_tx0 -> $_tx rx $_rx0 -> $_rx packets, balloon $_act KiB, CPU ${_cpu:-?} s; domstats: all groups"
}

# start_libvirtd: Debian's libvirtd beside the daemon, serving the network, storage and secret
# drivers (the only ones in the image) on $VR/run/libvirt/libvirt-sock, where virtxend looks;
# LIBVIRTD_BESIDE, if set, starts it instead (dry-run.sh: scripts/libvirtd-beside, so that it
# touches nothing of the host). LPID is its pid.
LVLOG=${LVLOG:-/var/log/libvirtd.log}
start_libvirtd() {
	if [ -n "${LIBVIRTD_BESIDE:-}" ]; then
		$LIBVIRTD_BESIDE $VR >>$LVLOG 2>&1 &
	else
		mkdir -p /etc/libvirt $VR/run/libvirt
		printf 'unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' $VR/run/libvirt >/etc/libvirt/libvirtd.conf
		libvirtd -f /etc/libvirt/libvirtd.conf >>$LVLOG 2>&1 &
	fi
	LPID=$!
	_i=0
	until V net-list --all >/dev/null 2>&1; do
		kill -0 $LPID 2>/dev/null || { WHY="libvirtd exited: $(tail -n 2 $LVLOG | tr '\n' ' ')"; return 1; }
		[ $_i -lt 120 ] || { WHY="libvirtd did not serve within 60 s: $(V net-list 2>&1 | tail -n 1)"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
netvol_debug() {
	vguest_debug vx-netvol
	echo "--- libvirtd log"
	grep -a -v 'ethtool ioctl' $LVLOG | tail -n 20
}

# A PV guest whose NIC is on a libvirt network bridged to xenbr0 (<forward mode='bridge'/>),
# whose port libvirtd's network driver gives at start, and whose disk is a volume of a dir pool
# libvirtd's storage driver resolves: the guest reads the volume's magic and pings dom0; the
# live XML shows the port (<interface type='bridge'>, <source network portid bridge>) and the
# pool and volume; libxl got xenbr0 and the volume's path; destroy deletes the port.
check_virsh_net_vol() {
	DEBUG_FN=netvol_debug
	forget vx-netvol
	_t=$(now)
	start_libvirtd || return 1
	_up=$(since "$_t")
	step "virsh net-define" V net-define $XT/guests/net-xenbr0.xml || return 1
	step "virsh net-start" V net-start xenbr0 || return 1
	mkdir -p $VR/pool
	dd if=/dev/zero of=$VR/pool/disk-nv.img bs=1M count=8 2>/dev/null
	printf XENQEMU-DISK-OK! | dd of=$VR/pool/disk-nv.img conv=notrunc 2>/dev/null
	step "virsh pool-define-as" V pool-define-as vxpool dir --target $VR/pool || return 1
	step "virsh pool-start" V pool-start vxpool || return 1
	step "virsh vol-path" V vol-path --pool vxpool disk-nv.img || return 1
	_path=$(cat /tmp/step.out)
	step "virsh define" V define $XT/guests/vx-netvol.xml || return 1
	vstart vx-netvol || return 1
	wait_con vx-netvol 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-netvol.log || { WHY="guest did not read the volume's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-netvol.log || { WHY="guest could not ping dom0 over the network's bridge"; return 1; }
	step "virsh dumpxml" V dumpxml vx-netvol || return 1
	_port=$(sed -n "s/^ *<source network='xenbr0' portid='\([0-9a-f-]*\)' bridge='xenbr0'\/>\$/\1/p" /tmp/step.out)
	[ -n "$_port" ] || { WHY="dumpxml shows no port on xenbr0: $(grep -A 2 '<interface' /tmp/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	grep -q "<interface type='bridge'>" /tmp/step.out || { WHY="dumpxml: $(grep '<interface' /tmp/step.out)"; return 1; }
	grep -q "<source pool='vxpool' volume='disk-nv.img'/>" /tmp/step.out || { WHY="dumpxml: $(grep '<source pool' /tmp/step.out)"; return 1; }
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ "$(tr -d ' \n' </tmp/step.out)" = "$_port" ] || { WHY="net-port-list xenbr0: $(tr '\n' ' ' </tmp/step.out), dumpxml says $_port"; return 1; }
	step "xl list -l" xl list -l vx-netvol || return 1
	grep -q "\"pdev_path\": \"$_path\"" /tmp/step.out || { WHY="libxl's disk is not $_path: $(grep pdev_path /tmp/step.out)"; return 1; }
	grep -q '"bridge": "xenbr0"' /tmp/step.out || { WHY="libxl's NIC is not on xenbr0: $(grep bridge /tmp/step.out)"; return 1; }
	_rss=$(dm_rss "$LPID")
	step "virsh destroy" V destroy vx-netvol || return 1
	wait_gone vx-netvol 20 || return 1
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ -z "$(tr -d ' \n' </tmp/step.out)" ] || { WHY="port left after destroy: $(tr '\n' ' ' </tmp/step.out)"; return 1; }
	step "virsh undefine" V undefine vx-netvol || return 1
	kill "$LPID" 2>/dev/null || true
	wait "$LPID" 2>/dev/null || true
	DETAIL="libvirtd serving in $_up s (RSS ${_rss:-?}); id $ID: port $_port on xenbr0, volume $_path; disk read, ping over xenbr0, port deleted on destroy"
}

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
	step "virsh destroy" V destroy vx-pv || return 1
	wait_gone vx-pv 20 || return 1
	step "virsh undefine" V undefine vx-pv || return 1
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

if [ -x $XT/libxl.test ]; then
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
forget vx-dev
run_check virsh-net-vol check_virsh_net_vol
run_check daemon-kill9 check_kill9
run_check behind-back check_behind_back
time_daemon
kill "$DPID" 2>/dev/null || true
# for the log: what the daemon warned about or failed at during the checks
echo "=== virtxend log: $(grep -a -c -E ': (warning|error) : ' $DLOG || true) warnings and errors"
grep -a -E ': (warning|error) : ' $DLOG | cut -c1-400 | tail -n 40 || true
