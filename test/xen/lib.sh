# shellcheck shell=sh
# Helpers shared by the dom0-side check scripts (dom0-checks.sh, daemon-checks.sh).
# They run under busybox sh in dom0. Every check prints exactly one line on the
# console, "CHECK PASS|FAIL|SKIP <name>: <detail>", which run.sh on the host
# collects from QEMU's serial output; anything else printed is for the log only.

# TMPD holds the scripts' scratch files (dry-run.sh gives each run its own, so that two
# runs on one host do not read each other's)
TMPD=${TMPD:-/tmp}

# now: seconds since dom0 booted, with centiseconds (from /proc/uptime)
now() { cut -d' ' -f1 /proc/uptime; }
# since T0: seconds elapsed since T0 (a value of now), two decimals
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }

# step DESC CMD...: run CMD (output to $TMPD/step.out); on failure set WHY and return 1
step() {
	_d=$1
	shift
	_rc=0
	"$@" >$TMPD/step.out 2>&1 || _rc=$?
	[ "$_rc" = 0 ] && return 0
	WHY="$_d failed (rc=$_rc): $(tail -n 3 $TMPD/step.out | tr '\n' ' ' | cut -c1-240)"
	return 1
}

# run_check NAME FUNC: run FUNC, which sets DETAIL (on success) or WHY (on failure);
# print the one result line; on failure also dump FUNC's debug output (DEBUG_FN, if set:
# a function name and its arguments, split on blanks)
run_check() {
	_name=$1
	DETAIL= WHY= DEBUG_FN=
	if ! only "$_name"; then
		skip "$_name" "not run (ONLY=$XT_ONLY)"
		return 0
	fi
	_t0=$(now)
	echo "=== check $_name (up $_t0 s)"
	if "$2"; then
		echo "CHECK PASS $_name: ${DETAIL:-ok} ($(since "$_t0") s)"
	else
		echo "CHECK FAIL $_name: ${WHY:-failed} ($(since "$_t0") s)"
		if [ -n "$DEBUG_FN" ]; then $DEBUG_FN 2>&1 | sed 's/^/  | /' | tail -n 60 || true; fi
	fi
}
skip() { echo "CHECK SKIP $1: $2"; }
# only NAME: whether check NAME runs. run.sh ONLY=CHECK+CHECK (XT_ONLY) runs those checks and
# what they stand on (dom0-boot, toolstack, daemon-start; virsh-pv-disk-nic, whose guest
# virsh-stats and virsh-hotplug use); ONLY=oracle is dom0-init.sh's own.
# (Not commas: QEMU's multiboot -initrd separates its modules, command lines and all, by them.)
only() {
	case ${XT_ONLY:-} in "" | oracle | save) return 0 ;; esac
	_want="+$XT_ONLY+dom0-boot+toolstack+daemon-start+"
	case $_want in *+virsh-stats+* | *+virsh-hotplug+*) _want="${_want}virsh-pv-disk-nic+" ;; esac
	case $_want in *"+$1+"*) return 0 ;; esac
	return 1
}

CONLOG=${CONLOG:-/var/log/xen/console}
# markers NAME: how many times guest NAME has printed DOMU-MARKER-OK since boot
# (xenconsoled's log for a name persists, and is appended to, across restarts)
markers() { grep -a -c DOMU-MARKER-OK "$CONLOG/guest-$1.log" 2>/dev/null || true; }
# wait_con NAME REGEX COUNT SECS: wait until guest NAME's console log has COUNT lines matching REGEX
wait_con() {
	_i=0
	while [ "$_i" -lt "$4" ]; do
		_n=$(grep -a -c -E "$2" "$CONLOG/guest-$1.log" 2>/dev/null || true)
		[ "${_n:-0}" -ge "$3" ] && return 0
		sleep 1
		_i=$((_i + 1))
	done
	WHY="guest $1: no '$2' (#$3) on its console within $4 s"
	return 1
}
# con_type NAME LINE: type LINE, and Enter, on guest NAME's console: into the pty that
# xenconsoled made for it (the one xl console and virsh console open)
con_type() {
	_id=$(xl domid "$1" 2>/dev/null) || { WHY="con_type: no domain $1"; return 1; }
	_tty=$(xenstore-read "/local/domain/$_id/console/tty" 2>/dev/null) || { WHY="con_type: d$_id has no console tty in xenstore"; return 1; }
	printf '%s\r' "$2" >"$_tty" || { WHY="con_type: could not write to $_tty"; return 1; }
}
# guest_write NAME DEV SECTOR WORD: guest NAME writes WORD (no blanks) into sector SECTOR of its
# disk DEV and flushes it (domu-init.sh's xt-write), within 60 s
guest_write() {
	_n=$(grep -a -c "DOMU-WROTE $2 $3 $4 rc=" "$CONLOG/guest-$1.log" 2>/dev/null || true)
	con_type "$1" "xt-write $2 $3 $4" || return 1
	wait_con "$1" "DOMU-WROTE $2 $3 $4 rc=" $((${_n:-0} + 1)) 60 || return 1
	_r=$(grep -a "DOMU-WROTE $2 $3 $4 rc=" "$CONLOG/guest-$1.log" | tail -n 1 | tr -d '\r')
	[ "${_r##*rc=}" = 0 ] || { WHY="guest $1 could not write $4 into sector $3 of $2: $_r"; return 1; }
}
# guest_read NAME DEV SECTOR: READ is the first word guest NAME reads in sector SECTOR of its
# disk DEV, its cache dropped first (domu-init.sh's xt-read); "-" for none
guest_read() {
	_n=$(grep -a -c "DOMU-READ $2 $3 " "$CONLOG/guest-$1.log" 2>/dev/null || true)
	con_type "$1" "xt-read $2 $3" || return 1
	wait_con "$1" "DOMU-READ $2 $3 " $((${_n:-0} + 1)) 60 || return 1
	READ=$(grep -a "DOMU-READ $2 $3 " "$CONLOG/guest-$1.log" | tail -n 1 | tr -d '\r' | awk '{ print $4 }')
}
# img_word IMAGE SECTOR: the first word in sector SECTOR of disk image IMAGE, through its
# backing chain, as qemu-io reads it beside the device model that has it open (-U: no lock
# taken); "-" for none. qemu-io's read -v prints the offset, 16 bytes in hex, then the same as
# text from the 61st column, with "." for all but letters and digits: hence markers of letters
# and digits only
img_word() {
	qemu-io -r -U -c "read -v $(($2 * 512)) 16" "$1" >$TMPD/qemu-io.out 2>&1 || { echo "qemu-io-failed"; return 0; }
	_w=$(awk 'NR == 1 { print substr($0, 61) }' $TMPD/qemu-io.out | tr '.' ' ' | awk '{ print $1 }')
	echo "${_w:--}"
}
# qmp ID CMD...: send each QMP command (JSON, one line) to the device model of domain ID on
# libxl's QMP socket, through socat, after qmp_capabilities, and wait (30 s at most) until
# each has its answer; the answers are in $TMPD/qmp.out, one a line. Fails unless every
# command returned (WHY then has the error). The socket serves one client at a time: libxl
# connects to it for its own commands, waiting meanwhile.
qmp() {
	_qid=$1
	_s=/var/run/xen/qmp-libxl-$1
	shift
	rm -f $TMPD/qmp.in $TMPD/qmp.out
	mkfifo $TMPD/qmp.in
	socat -t 5 - "UNIX-CONNECT:$_s" <$TMPD/qmp.in >$TMPD/qmp.out 2>&1 &
	_sp=$!
	exec 4>$TMPD/qmp.in
	echo '{"execute": "qmp_capabilities"}' >&4
	_want=1
	for _c in "$@"; do
		echo "$_c" >&4
		_want=$((_want + 1))
	done
	_j=0
	until [ "$(grep -c -E '^\{"(return|error)"' $TMPD/qmp.out 2>/dev/null || true)" -ge $_want ]; do
		if [ $_j -ge 150 ] || ! kill -0 $_sp 2>/dev/null; then break; fi
		sleep 0.2
		_j=$((_j + 1))
	done
	exec 4>&-
	wait $_sp 2>/dev/null || true
	rm -f $TMPD/qmp.in
	_got=$(grep -c -E '^\{"return"' $TMPD/qmp.out 2>/dev/null || true)
	[ "${_got:-0}" -ge $_want ] && return 0
	WHY="QMP to d$_qid's device model: $( (grep -E '"error"|socat' $TMPD/qmp.out || tail -n 2 $TMPD/qmp.out) | head -n 2 | tr '\n' ' ' | cut -c1-300)"
	return 1
}
# hmp NAME CMD: an HMP command to guest NAME's device model (xl qemu-monitor-command, libxl's
# libxl_qemu_monitor_command); its output in $TMPD/step.out. Fails when it printed an error,
# which xl does not count as one
hmp() {
	step "xl qemu-monitor-command $1 '$2'" timeout 30 xl qemu-monitor-command "$1" "$2" || return 1
	if grep -q '^Error' $TMPD/step.out; then
		WHY="HMP $2: $(head -n 1 $TMPD/step.out)"
		return 1
	fi
}
# wait_gone NAME SECS: wait until xl no longer lists domain NAME
wait_gone() {
	_i=0
	while [ "$_i" -lt "$2" ]; do
		xl domid "$1" >/dev/null 2>&1 || return 0
		sleep 1
		_i=$((_i + 1))
	done
	WHY="domain $1 still listed by xl after $2 s"
	return 1
}
# guest_debug NAME: what to show when a guest check fails
guest_debug() {
	echo "--- xl list"
	timeout 20 xl list
	echo "--- console of $1"
	tail -n 15 "$CONLOG/guest-$1.log" 2>/dev/null
	echo "--- xl dmesg"
	timeout 20 xl dmesg | tail -n 10
	echo "--- syslog"
	tail -n 15 /var/log/messages
	echo "--- libxl log"
	tail -n 15 "/var/log/xen/xl-$1.log" 2>/dev/null
}
# dm_pid ID: the pid of the device model (qemu-system-xen) serving domain ID, if one runs
# (busybox ps may put "{comm}" before the command line, hence the program in field 2 or 3)
dm_pid() {
	ps -o pid,args | awk -v id="$1" '{
		dm = 0
		for (i = 2; i < NF; i++) {
			if (i <= 3 && $i ~ /\/xen-qemu-system-i386$/) dm = 1
			if (dm && $i == "-xen-domid" && $(i + 1) == id) { print $1; exit }
		}
	}'
}
# dm_up ID SECS: wait until a device model serves domain ID; sets DM to its pid
dm_up() {
	_j=0
	until DM=$(dm_pid "$1") && [ -n "$DM" ]; do
		[ $_j -lt "$2" ] || { WHY="no device model (xen-qemu-system-i386 -xen-domid $1) is running"; return 1; }
		sleep 1
		_j=$((_j + 1))
	done
}
# dm_gone ID SECS: wait until no device model serves domain ID (libxl signals it on destroy)
dm_gone() {
	_j=0
	while [ -n "$(dm_pid "$1")" ]; do
		[ $_j -lt "$2" ] || { WHY="the device model of d$1 (pid $(dm_pid "$1")) still runs $2 s after its domain went"; return 1; }
		sleep 1
		_j=$((_j + 1))
	done
}
# dm_rss PID: the device model's resident memory as ps shows it
dm_rss() { ps -o pid,rss | awk -v p="$1" '$1 == p { print $2 }'; }
# hvm_debug NAME: guest_debug, and what the device model said
hvm_debug() {
	guest_debug "$1"
	echo "--- device model log"
	tail -n 15 "/var/log/xen/qemu-dm-$1.log" 2>/dev/null
	echo "--- device models running"
	ps -o pid,rss,args | grep '[x]en-qemu-system' | cut -c1-200
}
has_hap() { timeout 30 xl info 2>/dev/null | grep '^virt_caps' | grep -q -w hap; }

# what xencommons does: modules, xenfs, xenstored, xen-init-dom0, xenconsoled; then a bridge
check_toolstack() {
	DEBUG_FN=toolstack_debug
	for m in xen-evtchn xen-privcmd xenfs xen-gntdev xen-gntalloc xen-blkback xen-netback loop llc stp bridge; do
		step "insmod $m" insmod "/lib/modules/$m.ko" || return 1
	done
	step "mount xenfs" mount -t xenfs xenfs /proc/xen || return 1
	step xenstored xenstored --pid-file /run/xen/xenstored.pid || return 1
	_i=0
	while [ ! -s /run/xen/xenstored.pid ] && [ $_i -lt 30 ]; do sleep 1; _i=$((_i + 1)); done
	step xen-init-dom0 timeout 60 xen-init-dom0 || return 1
	step xenconsoled xenconsoled --pid-file=/run/xen/xenconsoled.pid --log=guest --log-dir=$CONLOG || return 1
	# loopback, where a device model's VNC server listens (libxl's default 127.0.0.1)
	step "loopback" ip link set lo up || return 1
	# in-VM bridge for the PV NICs (QEMU has no NIC: nothing leaves the VM)
	step "bridge xenbr0" sh -c 'brctl addbr xenbr0 && ip link set xenbr0 up && ip addr add 169.254.77.1/24 dev xenbr0' || return 1
	for d in xl vx; do
		dd if=/dev/zero of=/root/disk-$d.img bs=1M count=8 2>/dev/null
		printf XENQEMU-DISK-OK! | dd of=/root/disk-$d.img conv=notrunc 2>/dev/null
	done
	step "xl info" timeout 60 xl info || return 1
	cp $TMPD/step.out $TMPD/xl-info.txt
	_v=$(awk -F': *' '$1 ~ /^xen_version/ { print $2 }' $TMPD/xl-info.txt)
	case $_v in 4.17*) ;; *) WHY="xl info: xen_version is '$_v', want 4.17"; return 1 ;; esac
	step "xl list" timeout 30 xl list || return 1
	grep -q '^Domain-0 ' $TMPD/step.out || { WHY="xl list shows no Domain-0"; return 1; }
	DETAIL="xl info: xen_version $_v, $(grep -E '^(virt_caps|free_memory)' $TMPD/xl-info.txt | tr -s ' ' | tr '\n' ' ')"
}
toolstack_debug() {
	grep -E '^(MemFree|Shmem):' /proc/meminfo
	cat $TMPD/step.out
	dmesg | tail -n 20
}
