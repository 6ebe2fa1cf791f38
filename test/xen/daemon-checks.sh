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
CHECKS="libxl-conformance daemon-start virsh-pv virsh-pvh virsh-hvm virsh-pv-disk-nic virsh-stats virsh-hotplug virsh-tuning virsh-save virsh-net-vol daemon-kill9 behind-back"
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
	(cd "$XT" && VIRTXEND_TEST_REAL_XEN=1 VIRTXEND_TEST_KERNEL=/root/vmlinuz VIRTXEND_TEST_INITRD=/root/domu.cpio.gz timeout 600 ./libxl.test -test.v -test.timeout 580s >$TMPD/conformance.out 2>&1) || _rc=$?
	# for the log: where the suite's time goes
	echo "slowest of libxl.test: $(grep -E -- '^ *--- (PASS|FAIL): TestBackendConformance/' $TMPD/conformance.out |
		sed 's/.*Conformance\/\([^ ]*\) (\([0-9.]*\)s)/\2 \1/' | sort -n -r | head -n 6 | tr '\n' ' ')"
	_p=$(grep -c -- '--- PASS' $TMPD/conformance.out || true)
	_s=$(grep -c -- '--- SKIP' $TMPD/conformance.out || true)
	if [ $_rc != 0 ]; then
		WHY="libxl.test rc=$_rc; failed: $(grep -- '--- FAIL' $TMPD/conformance.out | awk '{print $3}' | head -n 8 | tr '\n' ' ')"
		return 1
	fi
	for _t in TestBackendConformance TestOpenOnXen; do
		grep -q -- "--- PASS: $_t " $TMPD/conformance.out || { WHY="$_t did not run (skipped?)"; return 1; }
	done
	DETAIL="libxl.test: $_p passed, $_s skipped; the backend suite ran on Xen; slowest: $(slowest_cases)"
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
	step "virsh capabilities" V capabilities || return 1
	grep -q '<os_type>xen</os_type>' $TMPD/step.out || { WHY="capabilities have no xen (PV) guest"; return 1; }
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
	_out=$TMPD/console-$1.out
	_in=$TMPD/console-$1.in
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
	grep -q -E '^State: +running' $TMPD/step.out || { WHY="dominfo: $(grep State $TMPD/step.out)"; return 1; }
	grep -q -E "^Id: +$ID\$" $TMPD/step.out || { WHY="dominfo: $(grep Id: $TMPD/step.out), want $ID"; return 1; }
	step "virsh dumpxml" V dumpxml "$1" || return 1
	grep -q "<domain type='xen' id='$ID'>" $TMPD/step.out || { WHY="dumpxml: $(head -n 1 $TMPD/step.out)"; return 1; }
	grep -q "<name>$1</name>" $TMPD/step.out || { WHY="dumpxml has no <name>$1</name>"; return 1; }
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
	VNC=$(sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)'.*/\1/p" $TMPD/step.out | head -n 1)
	[ -n "$VNC" ] || { WHY="dumpxml shows no VNC port: $(grep '<graphics' $TMPD/step.out)"; return 1; }
	step "xl list -l $1" xl list -l "$1" || return 1
	# one display per vnc block (the device model's and the framebuffer's), 0 when left out
	_ds=$(awk '/"vnc": \{/ { v = 1; d = 0; next }
		v && /"display":/ { gsub(/[^0-9]/, ""); d = $0 }
		v && /^[ \t]*\},?$/ { print d; v = 0 }' $TMPD/step.out | sort -u | tr '\n' ' ')
	[ "$_ds" = "$((VNC - 5900)) " ] || { WHY="dumpxml says VNC port $VNC, xl list -l says display(s) ${_ds:-none} for domain $2"; return 1; }
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_i=0
	until listening "$VNC"; do
		[ $_i -lt 20 ] || { WHY="the device model of d$2 does not listen on VNC port $VNC"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}

# mkimg PATH KIB [MAGIC]: with the libxl backend, an image file of KIB KiB of zeros that
# starts with MAGIC; the simulated host opens no image, and dry-run.sh must not write to
# the host's /root
mkimg() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	dd if=/dev/zero of="$1" bs=1k count="$2" 2>/dev/null
	[ -z "${3:-}" ] || printf %s "$3" | dd of="$1" conv=notrunc 2>/dev/null
}

# guest_sees NAME REGEX BEFORE SECS: with the libxl backend, wait until guest NAME's console has
# more than BEFORE lines matching REGEX (what its init reports of hot-plugged devices); the
# simulated host's guests print nothing
guest_sees() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	wait_con "$1" "$2" $(($3 + 1)) "$4"
}
# con_count NAME REGEX: how many lines of guest NAME's console match REGEX so far
con_count() { grep -a -c -E "$2" "$CONLOG/guest-$1.log" 2>/dev/null || true; }

# xl_disk NAME VDEV: libxl's view of guest NAME's disk VDEV, from xl list -l: its pdev_path
# ("-" when it has none, "gone" when libxl has no such disk)
xl_disk() {
	xl list -l "$1" >$TMPD/xl.out 2>&1 || { echo gone; return 0; }
	awk -v v="$2" '/"pdev_path":/ { p = $2; gsub(/[",]/, "", p) }
		/"vdev":/ { d = $2; gsub(/[",]/, "", d); if (d == v) { print (p == "" ? "-" : p); f = 1 }; p = "" }
		/^ *\}/ { p = "" }
		END { if (!f) print "gone" }' $TMPD/xl.out
}

# xs_params NAME DEVID: with the libxl backend, the params of guest NAME's vbd DEVID as its
# backend in xenstore has them (xl block-list gives the backend's path); "" elsewhere
xs_params() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_be=$(xl block-list "$1" 2>/dev/null | awk -v d="$2" '$1 == d { print $NF }')
	[ -n "$_be" ] || { echo "no-vbd-$2"; return 0; }
	xenstore-read "$_be/params" 2>/dev/null || echo "no-params"
}

# hvm_media: change-media on the running vx-hvm: virsh, libxl's config and the qdisk backend
# in xenstore (hdc is vbd 5632) agree on the new media, then on none once ejected
hvm_media() {
	step "virsh change-media --update" V change-media vx-hvm hdc /root/cd2.iso --update --live || return 1
	[ "$(xl_disk vx-hvm hdc)" = /root/cd2.iso ] || { WHY="after change-media xl list -l says hdc is $(xl_disk vx-hvm hdc)"; return 1; }
	_p=$(xs_params vx-hvm 5632)
	case $_p in "" | *:/root/cd2.iso) ;; *) WHY="after change-media the backend's params are '$_p'"; return 1 ;; esac
	step "virsh domblklist" V domblklist vx-hvm || return 1
	grep -q -E '^ *hdc +/root/cd2.iso$' $TMPD/step.out || { WHY="domblklist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "virsh change-media --eject" V change-media vx-hvm hdc --eject --live || return 1
	[ "$(xl_disk vx-hvm hdc)" = - ] || { WHY="after the eject xl list -l says hdc is $(xl_disk vx-hvm hdc)"; return 1; }
	_e=$(xs_params vx-hvm 5632)
	[ -z "$_e" ] || { WHY="after the eject the backend's params are '$_e'"; return 1; }
	step "virsh domblklist" V domblklist vx-hvm || return 1
	grep -q -E '^ *hdc +-$' $TMPD/step.out || { WHY="domblklist after the eject: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	MEDIA="${_p:-/root/cd2.iso}"
}

# hvm_vnc: vx-hvm, shut off, defined anew with a VNC server (vx-hvm-vnc.xml) and started paused
# (its device model serves the VNC server from its start; paused, the guest runs no VGA BIOS)
# while port 5900 is held: a new id, xl agrees, a device model, and its VNC port
hvm_vnc() {
	step "virsh undefine" V undefine vx-hvm || return 1
	step "virsh define" V define "$XT/guests/vx-hvm-vnc.xml" || return 1
	step "virsh start --paused" V start --paused vx-hvm || return 1
	state vx-hvm paused 10 || return 1
	ID=$(V domid vx-hvm)
	[ "$ID" != "$_id1" ] || { WHY="restarted guest kept id $ID"; return 1; }
	[ "$(xl domid vx-hvm 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid vx-hvm 2>&1)"; return 1; }
	dm_up "$ID" 10 || return 1
	vnc_port vx-hvm "$ID"
}

# The HVM guest (hvmloader, SeaBIOS, the device model the daemon has libxl spawn; no graphics,
# so no VGA BIOS): define, start, the marker (its Linux boots in about 90 s under nested TCG),
# dominfo, change-media, shutdown (PV, the guest has Xen's drivers); then, with a VNC server
# (vx-hvm-vnc.xml), start paused with port 5900 held by another process: a new id and device
# model, its VNC port (dumpxml, xl list -l and the device model agree, and it is not the held
# one); destroy (its device model must go too), undefine
check_virsh_hvm() {
	DEBUG_FN="hvm_debug vx-hvm"
	forget vx-hvm
	mkimg /root/cd1.iso 64
	mkimg /root/cd2.iso 128
	step "virsh define" V define "$XT/guests/vx-hvm.xml" || return 1
	_t=$(now)
	vstart vx-hvm 300 || return 1
	_boot=$(since "$_t")
	_id1=$ID
	dm_up "$ID" 10 || return 1
	_dm=$DM
	_rss=$(dm_rss "$DM")
	step "virsh dominfo" V dominfo vx-hvm || return 1
	grep -q -E '^OS Type: +hvm$' $TMPD/step.out || { WHY="dominfo: $(grep 'OS Type' $TMPD/step.out)"; return 1; }
	hvm_media || return 1
	_t=$(now)
	step "virsh shutdown" V shutdown vx-hvm || return 1
	# 5 s as a rule; one run on a slow host (its boot took 200 s) had not shut down after 90
	state vx-hvm "shut off" 240 || return 1
	wait_gone vx-hvm 10 || return 1
	_down=$(since "$_t")
	dm_gone "$_id1" 15 || return 1
	hold_port 5900 || return 1
	_rc=0
	hvm_vnc || _rc=1
	[ -z "$HELD" ] || kill "$HELD" 2>/dev/null || true
	[ $_rc = 0 ] || return 1
	[ -z "$HELD" ] || [ "$VNC" != 5900 ] || { WHY="VNC port 5900 handed out while another process listened there"; return 1; }
	step "virsh destroy" V destroy vx-hvm || return 1
	state vx-hvm "shut off" 10 || return 1
	wait_gone vx-hvm 10 || return 1
	dm_gone "$ID" 15 || return 1
	step "virsh undefine" V undefine vx-hvm || return 1
	DETAIL="ids $_id1 then $ID; marker $_boot s after start${RESET:+ (the first boot, $RESET, reset)} (device model pid $_dm, RSS $_rss), cdrom media changed ($MEDIA) and ejected, shut down in $_down s; with VNC started paused: VNC port $VNC${HELD:+ (5900 held)} in dumpxml and xl; define start dominfo change-media shutdown undefine define start-paused vnc destroy undefine"
}

# The PV guest with a disk and a NIC: it reads the disk's magic and pings dom0 over xenbr0. The
# guest stays up for virsh-stats and virsh-hotplug, with its counters as they were right after
# its start (before its kernel ran) in $TMPD/stats-before-*.out.
check_virsh_pv_dev() {
	DEBUG_FN="vguest_debug vx-dev"
	forget vx-dev
	step "virsh define" V define $XT/guests/vx-dev.xml || return 1
	AFTER_START=stats_at_start
	vstart vx-dev || { AFTER_START=; return 1; }
	AFTER_START=
	wait_con vx-dev 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-dev.log || { WHY="guest did not read the disk's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-dev.log || { WHY="guest could not ping dom0 over xenbr0"; return 1; }
	step "virsh domblklist" V domblklist vx-dev || return 1
	grep -q xvda $TMPD/step.out || { WHY="domblklist shows no xvda"; return 1; }
	step "virsh domiflist" V domiflist vx-dev || return 1
	grep -q -E "^ *vif$ID\.0 +bridge +xenbr0 " $TMPD/step.out || { WHY="domiflist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	DETAIL="id $ID: disk read, ping over xenbr0, domiflist names vif$ID.0; left running for virsh-stats and virsh-hotplug"
}

# stats_at_start NAME: the disk's and the NIC's counters of the guest just started (vstart's
# AFTER_START), before its kernel has run
stats_at_start() {
	V domblkstat "$1" xvda >$TMPD/stats-before-blk.out 2>&1 || true
	V domifstat "$1" "vif$(V domid "$1").0" >$TMPD/stats-before-if.out 2>&1 || true
}

# statv FILE NAME: the value of NAME in virsh's "[DEV] NAME VALUE" lines (domblkstat, domifstat,
# dommemstat), or in domstats' "NAME=VALUE"; empty when absent
statv() { awk -v k="$2" '{ sub(/^[ \t]+/, "") } $(NF - 1) == k { print $NF; exit } index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$1"; }

# The statistics of vx-dev (left running by virsh-pv-disk-nic, and for virsh-hotplug) on Xen as
# libvirt reads them: blkback's counters of xvda (/sys/bus/xen-backend/devices/vbd-ID-51712/
# statistics) and its vif's line of /proc/net/dev (swapped into the guest's view) grew by its
# disk read and its three pings (each way) since its start; dommemstat has libxl's balloon and
# the definition's 128 MiB; cpu-stats the guest's CPU time; domstats every group of it;
# domjobinfo no job.
check_virsh_stats() {
	DEBUG_FN="vguest_debug vx-dev"
	state vx-dev running 5 || return 1
	ID=$(V domid vx-dev)
	_rd0=$(statv $TMPD/stats-before-blk.out rd_req) _tx0=$(statv $TMPD/stats-before-if.out tx_packets)
	_rx0=$(statv $TMPD/stats-before-if.out rx_packets)
	[ -n "$_rd0" ] && [ -n "$_tx0" ] || { WHY="at start: $(cat $TMPD/stats-before-blk.out $TMPD/stats-before-if.out | tr '\n' ' ' | cut -c1-240)"; return 1; }
	step "virsh domblkstat" V domblkstat vx-dev xvda || return 1
	_rd=$(statv $TMPD/step.out rd_req) _rb=$(statv $TMPD/step.out rd_bytes)
	[ "${_rd:-0}" -gt "$_rd0" ] && [ "${_rb:-0}" -gt 0 ] || { WHY="xvda's reads did not grow: rd_req $_rd0 then $_rd ($(tr '\n' ' ' <$TMPD/step.out))"; return 1; }
	step "virsh domblkstat (all disks)" V domblkstat vx-dev || return 1
	step "virsh domifstat" V domifstat vx-dev "vif$ID.0" || return 1
	_tx=$(statv $TMPD/step.out tx_packets) _rx=$(statv $TMPD/step.out rx_packets)
	[ "${_tx:-0}" -ge $((_tx0 + 3)) ] && [ "${_rx:-0}" -ge $((_rx0 + 3)) ] ||
		{ WHY="vif$ID.0 did not count 3 pings each way: tx $_tx0 then $_tx, rx $_rx0 then $_rx"; return 1; }
	step "virsh dommemstat" V dommemstat vx-dev || return 1
	_act=$(statv $TMPD/step.out actual)
	[ "${_act:-0}" -gt 0 ] && [ "$(statv $TMPD/step.out available)" = 131072 ] || { WHY="dommemstat: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh cpu-stats" V cpu-stats vx-dev || return 1
	grep -q '^CPU0:' $TMPD/step.out && grep -q '^Total:' $TMPD/step.out || { WHY="cpu-stats: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	_cpu=$(awk '/^Total:/ { t = 1 } t && /cpu_time/ { print $2; exit }' $TMPD/step.out)
	step "virsh domstats" V domstats vx-dev || return 1
	for _k in state.state cpu.time balloon.current balloon.maximum vcpu.current vcpu.0.state vcpu.0.time net.count \
		net.0.name net.0.rx.pkts net.0.tx.bytes block.count block.0.name block.0.rd.reqs block.0.wr.bytes block.0.errors; do
		[ -n "$(statv $TMPD/step.out $_k)" ] || { WHY="domstats has no $_k: $(tr '\n' ' ' <$TMPD/step.out | cut -c1-300)"; return 1; }
	done
	[ "$(statv $TMPD/step.out net.0.name)" = "vif$ID.0" ] || { WHY="domstats names the NIC $(statv $TMPD/step.out net.0.name)"; return 1; }
	[ "$(statv $TMPD/step.out block.0.rd.reqs)" -ge "$_rd" ] || { WHY="domstats' reads went back: $(statv $TMPD/step.out block.0.rd.reqs) < $_rd"; return 1; }
	step "virsh domjobinfo" V domjobinfo vx-dev || return 1
	grep -q -E '^Job type: +None' $TMPD/step.out || { WHY="domjobinfo: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	DETAIL="id $ID: xvda rd_req $_rd0 -> $_rd ($_rb bytes), vif$ID.0 tx $_tx0 -> $_tx rx $_rx0 -> $_rx packets, balloon $_act KiB, CPU ${_cpu:-?} s; domstats: all groups; left running for virsh-hotplug"
}

# hot_disk NAME: attach-disk --live of an image to the running guest NAME, which the guest
# reports with the image's size and magic, and libxl and domblklist show; detach-disk --live,
# which the guest reports, after which neither shows it. VA and VD are how long virsh's calls
# took (they return once libxl's asynchronous add or remove has completed), ADD and DEL how
# long until the guest saw it.
hot_disk() {
	mkimg /root/hot.img 4096 XENQEMU-HOTDISK!
	_b=$(con_count "$1" 'DOMU-BLK-ADD xvdb')
	_t=$(now)
	step "virsh attach-disk" V attach-disk "$1" /root/hot.img xvdb --live || return 1
	VA=$(since "$_t")
	guest_sees "$1" 'DOMU-BLK-ADD xvdb sectors=8192 magic=XENQEMU-HOTDISK!' "$_b" 60 || return 1
	ADD=$(since "$_t")
	[ "$(xl_disk "$1" xvdb)" = /root/hot.img ] || { WHY="xl list -l: xvdb is $(xl_disk "$1" xvdb)"; return 1; }
	step "virsh domblklist" V domblklist "$1" || return 1
	grep -q -E '^ *xvdb +/root/hot.img$' $TMPD/step.out || { WHY="domblklist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	_b=$(con_count "$1" 'DOMU-BLK-DEL xvdb')
	_t=$(now)
	step "virsh detach-disk" V detach-disk "$1" xvdb --live || return 1
	VD=$(since "$_t")
	guest_sees "$1" 'DOMU-BLK-DEL xvdb' "$_b" 60 || return 1
	DEL=$(since "$_t")
	[ "$(xl_disk "$1" xvdb)" = gone ] || { WHY="after detach-disk xl list -l still has xvdb"; return 1; }
	step "virsh domblklist" V domblklist "$1" || return 1
	! grep -q xvdb $TMPD/step.out || { WHY="domblklist still shows xvdb"; return 1; }
}

# hot_nic NAME ID: attach-interface --live on xenbr0 to the running guest NAME (domain ID):
# domiflist names it vifID.1, and the guest, which gives it its address, pings dom0 through
# it alone; detach-interface --live, which the guest reports and domiflist shows. NET is how
# long until the guest's ping through it.
hot_nic() {
	_mac=00:16:3e:77:00:03
	_b=$(con_count "$1" 'DOMU-HOTNET-(OK|FAIL) eth1')
	_t=$(now)
	step "virsh attach-interface" V attach-interface "$1" --type bridge --source xenbr0 --mac $_mac --live || return 1
	guest_sees "$1" 'DOMU-HOTNET-(OK|FAIL) eth1' "$_b" 90 || return 1
	NET=$(since "$_t")
	[ "${VX_BACKEND:-libxl}" != libxl ] || grep -a -q 'DOMU-HOTNET-OK eth1' "$CONLOG/guest-$1.log" ||
		{ WHY="the guest could not ping dom0 through the hot-plugged NIC"; return 1; }
	step "virsh domiflist" V domiflist "$1" || return 1
	grep -q -E "^ *vif$2\.1 +bridge +xenbr0 +- +$_mac\$" $TMPD/step.out || { WHY="domiflist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	_b=$(con_count "$1" 'DOMU-NET-DEL eth1')
	step "virsh detach-interface" V detach-interface "$1" --type bridge --mac $_mac --live || return 1
	guest_sees "$1" 'DOMU-NET-DEL eth1' "$_b" 60 || return 1
	step "virsh domiflist" V domiflist "$1" || return 1
	! grep -q $_mac $TMPD/step.out || { WHY="domiflist still shows the detached NIC"; return 1; }
}

# time_xl_disk NAME: the same image attached and detached with xl block-attach and
# block-detach (behind the daemon's back; the guest must see the disk come before it is
# detached), to set beside virsh's VA and VD: XA and XD, or XFAIL saying what failed. One
# round each, a measure, not a check; before virsh's round, so that virsh's does not have
# the first use of the image and the block script.
time_xl_disk() {
	XA= XD= XFAIL=
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	mkimg /root/hot.img 4096 XENQEMU-HOTDISK!
	_a=$(con_count "$1" 'DOMU-BLK-ADD xvdc') _b=$(con_count "$1" 'DOMU-BLK-DEL xvdc')
	_t=$(now)
	timeout 60 xl block-attach "$1" format=raw,vdev=xvdc,access=rw,target=/root/hot.img >/dev/null 2>&1 ||
		{ XFAIL="xl block-attach failed"; return 0; }
	XA=$(since "$_t")
	wait_con "$1" 'DOMU-BLK-ADD xvdc' $((_a + 1)) 60 || { XFAIL="the guest did not see xl's disk"; return 0; }
	_t=$(now)
	timeout 60 xl block-detach "$1" xvdc >/dev/null 2>&1 || { XFAIL="xl block-detach failed"; return 0; }
	XD=$(since "$_t")
	wait_con "$1" 'DOMU-BLK-DEL xvdc' $((_b + 1)) 60 || XFAIL="the guest did not see xl's disk go"
}
# time_hotplug: the TIME line of virsh-hotplug
time_hotplug() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_t=$(now)
	V uri >/dev/null 2>&1 || true
	if [ -n "$XFAIL" ]; then
		echo "TIME hotplug: virsh attach-disk $VA s, detach-disk $VD s; $XFAIL"
	else
		echo "TIME hotplug: virsh attach-disk $VA s, detach-disk $VD s; xl block-attach $XA s, block-detach $XD s (one round each, xl's first; a virsh uri alone takes $(since "$_t") s)"
	fi
}

# virsh-hotplug, on the vx-dev guest virsh-pv-disk-nic left running (one boot for both): a
# disk and a NIC plugged in and unplugged again with stock virsh, as the guest sees them (its
# init reports devices that come and go) and as libxl and virsh show them; then destroy and
# undefine.
check_virsh_hotplug() {
	DEBUG_FN="vguest_debug vx-dev"
	state vx-dev running 5 || return 1
	ID=$(V domid vx-dev)
	time_xl_disk vx-dev
	hot_disk vx-dev || return 1
	time_hotplug
	hot_nic vx-dev "$ID" || return 1
	step "virsh destroy" V destroy vx-dev || return 1
	wait_gone vx-dev 20 || return 1
	step "virsh undefine" V undefine vx-dev || return 1
	DETAIL="id $ID: disk seen by the guest $ADD s after attach-disk (the call $VA s), gone $DEL s after detach-disk (the call $VD s); NIC vif$ID.1 pinging dom0 $NET s after attach-interface, detached; destroyed, undefined"
}

# xl_vcpu NAME VCPU: "CPU HARD-AFFINITY" of one vCPU as xl vcpu-list shows it
xl_vcpu() { xl vcpu-list "$1" 2>/dev/null | awk -v v="$2" 'NR > 1 && $3 == v { print $4, $7 }'; }

# Monitoring and tuning of a running PV guest with two vCPUs (the host has two CPUs under
# QEMU, the simulated one four): virsh vcpuinfo shows both on physical CPUs; vcpupin moves vCPU 1 to CPU 0 and xl vcpu-list
# agrees (CPU and hard affinity), as do vcpupin's query and vcpuinfo's affinity; schedinfo
# sets weight 512 and cap 50, which xl sched-credit2 (or sched-credit) reports; numatune
# answers; the host CPU of the capabilities compares identical and has a baseline;
# dompmsuspend leaves the guest suspended (xl: shut down for suspend) and dompmwakeup
# resumes it, after which it still acts on a shutdown request.
check_virsh_tuning() {
	DEBUG_FN="vguest_debug vx-tune"
	forget vx-tune
	step "virsh define" V define $XT/guests/vx-tune.xml || return 1
	vstart vx-tune || return 1
	_cpus=$(V nodeinfo | awk '/^CPU\(s\):/ { print $2 }')
	step "virsh vcpuinfo" V vcpuinfo vx-tune || return 1
	[ "$(awk -v n="$_cpus" '/^CPU: +[0-9]+$/ && $2 < n { c++ } END { print c + 0 }' $TMPD/step.out)" = 2 ] ||
		{ WHY="vcpuinfo on a host of ${_cpus:-?} CPUs: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	_before="$(xl_vcpu vx-tune 0) / $(xl_vcpu vx-tune 1)"
	step "virsh vcpupin" V vcpupin vx-tune 1 0 || return 1
	_i=0
	until [ "$(xl_vcpu vx-tune 1)" = "0 0" ]; do
		[ $_i -lt 20 ] || { WHY="after vcpupin 1 0, xl vcpu-list says CPU and affinity '$(xl_vcpu vx-tune 1)' for vCPU 1"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	step "virsh vcpupin (query)" V vcpupin vx-tune || return 1
	grep -q -E "^ *0 +0-$((_cpus - 1))\$" $TMPD/step.out && grep -q -E '^ *1 +0$' $TMPD/step.out ||
		{ WHY="vcpupin query: $(tr -s ' ' <$TMPD/step.out | tr '\n' '|')"; return 1; }
	step "virsh vcpuinfo" V vcpuinfo vx-tune || return 1
	[ "$(awk '/^VCPU:/ { v = $2 } /^CPU Affinity:/ && v == 1 { print $3 }' $TMPD/step.out)" = "$(printf 'y%*s' $((_cpus - 1)) '' | tr ' ' -)" ] ||
		{ WHY="vcpuinfo after the pin: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "virsh schedinfo --set" V schedinfo vx-tune --set weight=512 --set cap=50 || return 1
	_sched=$(sed -n 's/^Scheduler *: //p' $TMPD/step.out)
	case $_sched in credit | credit2) ;; *) WHY="schedinfo names scheduler '$_sched'"; return 1 ;; esac
	grep -q -E '^weight +: 512$' $TMPD/step.out && grep -q -E '^cap +: 50$' $TMPD/step.out ||
		{ WHY="schedinfo --set: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "xl sched-$_sched" xl sched-$_sched -d vx-tune || return 1
	[ "$(awk 'NR == 2 { print $3, $4 }' $TMPD/step.out)" = "512 50" ] ||
		{ WHY="xl sched-$_sched -d: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "virsh numatune" V numatune vx-tune || return 1
	grep -q -E '^numa_mode +: interleave$' $TMPD/step.out && grep -q -E '^numa_nodeset +: 0$' $TMPD/step.out ||
		{ WHY="numatune: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	_hw=$(timeout 30 xl info 2>/dev/null | sed -n 's/^hw_caps *: //p')
	V capabilities >$TMPD/caps.xml 2>&1 || { WHY="virsh capabilities: $(tail -n 1 $TMPD/caps.xml)"; return 1; }
	_model=$(sed -n 's/^ *<model>\(.*\)<\/model>$/\1/p' $TMPD/caps.xml | head -n 1)
	if [ -n "$_model" ]; then
		step "virsh cpu-compare" V cpu-compare $TMPD/caps.xml || return 1
		grep -q 'identical to host CPU' $TMPD/step.out || { WHY="cpu-compare: $(cat $TMPD/step.out)"; return 1; }
		step "virsh cpu-baseline" V cpu-baseline $TMPD/caps.xml || return 1
	else
		# no model of libvirt's map fits the words Xen reports: the host CPU is unknown
		echo "<cpu match='minimum'><model>qemu64</model></cpu>" >$TMPD/guest-cpu.xml
		! V cpu-compare --error $TMPD/guest-cpu.xml >$TMPD/step.out 2>&1 && grep -q 'unknown host CPU' $TMPD/step.out ||
			{ WHY="cpu-compare with no host CPU model (hw_caps $_hw): $(cat $TMPD/step.out)"; return 1; }
		printf '%s\n' "<cpu><arch>x86_64</arch><model>Westmere</model></cpu>" "<cpu><arch>x86_64</arch><model>Nehalem</model></cpu>" >$TMPD/cpus.xml
		step "virsh cpu-baseline" V cpu-baseline $TMPD/cpus.xml || return 1
		_model="unknown (no model of libvirt's fits)"
	fi
	_base=$(sed -n "s/^ *<model fallback='[a-z]*'>\(.*\)<\/model>$/\1/p" $TMPD/step.out)
	[ -n "$_base" ] || { WHY="cpu-baseline: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	_t=$(now)
	step "virsh dompmsuspend" V dompmsuspend vx-tune mem || return 1
	state vx-tune pmsuspended 10 || return 1
	_susp=$(since "$_t")
	if [ "${VX_BACKEND:-libxl}" = libxl ]; then
		step "xl list" xl list vx-tune || return 1
		awk 'NR == 2 { exit !($5 ~ /s/) }' $TMPD/step.out || { WHY="xl list of the suspended guest: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	fi
	step "virsh dompmwakeup" V dompmwakeup vx-tune || return 1
	state vx-tune running 10 || return 1
	step "virsh shutdown" V shutdown vx-tune || return 1
	state vx-tune "shut off" 90 || return 1
	wait_gone vx-tune 10 || return 1
	step "virsh undefine" V undefine vx-tune || return 1
	DETAIL="id $ID: vCPUs on CPUs $_before (xl: CPU affinity), vCPU 1 pinned to CPU 0; $_sched weight 512 cap 50 in xl; host CPU $_model${_hw:+ (hw_caps $_hw)}, baseline $_base; suspended in $_susp s, woken, shut down"
}

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
# elf_core FILE: FILE starts as an ELF core file (ELFCLASS64, ELFDATA2LSB, e_type ET_CORE)
elf_core() {
	_h=$(od -A n -t x1 -N 18 "$1" | tr -d ' \n')
	[ "$(echo "$_h" | cut -c1-12)" = 7f454c460201 ] && [ "$(echo "$_h" | cut -c33-36)" = 0400 ]
}

# virsh-save: the PV guest counting on its console is saved and restored, managed-saved and
# started, and goes on counting from where it stopped; an aborted save leaves it running; dump
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
	_t=$(now)
	step "virsh save" V save vx-save "$_img" || return 1
	_ts=$(since "$_t")
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
	last_count vx-save
	if [ "$_real" = libxl ]; then counts_on vx-save "aborted save" || return 1; fi
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
	DETAIL="save ${_ts} s (${_size} KiB), restore ${_tr} s, counter $_c1; managed save and start: counter $_c2; domjobabort: running on; dump: ELF core of ${_core} KiB$_xl"
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
	_path=$(cat $TMPD/step.out)
	step "virsh define" V define $XT/guests/vx-netvol.xml || return 1
	vstart vx-netvol || return 1
	wait_con vx-netvol 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-netvol.log || { WHY="guest did not read the volume's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-netvol.log || { WHY="guest could not ping dom0 over the network's bridge"; return 1; }
	step "virsh dumpxml" V dumpxml vx-netvol || return 1
	_port=$(sed -n "s/^ *<source network='xenbr0' portid='\([0-9a-f-]*\)' bridge='xenbr0'\/>\$/\1/p" $TMPD/step.out)
	[ -n "$_port" ] || { WHY="dumpxml shows no port on xenbr0: $(grep -A 2 '<interface' $TMPD/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	grep -q "<interface type='bridge'>" $TMPD/step.out || { WHY="dumpxml: $(grep '<interface' $TMPD/step.out)"; return 1; }
	grep -q "<source pool='vxpool' volume='disk-nv.img'/>" $TMPD/step.out || { WHY="dumpxml: $(grep '<source pool' $TMPD/step.out)"; return 1; }
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ "$(tr -d ' \n' <$TMPD/step.out)" = "$_port" ] || { WHY="net-port-list xenbr0: $(tr '\n' ' ' <$TMPD/step.out), dumpxml says $_port"; return 1; }
	step "xl list -l" xl list -l vx-netvol || return 1
	grep -q "\"pdev_path\": \"$_path\"" $TMPD/step.out || { WHY="libxl's disk is not $_path: $(grep pdev_path $TMPD/step.out)"; return 1; }
	grep -q '"bridge": "xenbr0"' $TMPD/step.out || { WHY="libxl's NIC is not on xenbr0: $(grep bridge $TMPD/step.out)"; return 1; }
	_rss=$(dm_rss "$LPID")
	step "virsh destroy" V destroy vx-netvol || return 1
	wait_gone vx-netvol 20 || return 1
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ -z "$(tr -d ' \n' <$TMPD/step.out)" ] || { WHY="port left after destroy: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh undefine" V undefine vx-netvol || return 1
	# nothing of this check stays for the checks after (oracle.sh's libvirtd reads the same
	# network and storage configuration)
	for _c in "net-destroy xenbr0" "net-undefine xenbr0" "pool-destroy vxpool" "pool-undefine vxpool"; do
		V $_c >/dev/null 2>&1 || echo "virsh-net-vol: virsh $_c failed"
	done
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
run_check virsh-hotplug check_virsh_hotplug
forget vx-dev # what a failed virsh-hotplug left running
run_check virsh-tuning check_virsh_tuning
run_check virsh-save check_virsh_save
run_check virsh-net-vol check_virsh_net_vol
run_check daemon-kill9 check_kill9
run_check behind-back check_behind_back
time_daemon
kill "$DPID" 2>/dev/null || true
# for the log: what the daemon warned about or failed at during the checks
echo "=== virtxend log: $(grep -a -c -E ': (warning|error) : ' $DLOG || true) warnings and errors"
grep -a -E ': (warning|error) : ' $DLOG | cut -c1-400 | tail -n 40 || true
