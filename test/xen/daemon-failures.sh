# shellcheck shell=sh
# virsh-libxl-failures: guest creations that libxl refuses half-way (issue 20), through the
# daemon. Sourced by daemon-checks.sh, whose helpers it uses; oracle.sh sources it for failxml,
# to start the same guests through libvirt's own driver and ours (area_failed_starts).

# failxml NAME MIB KERNEL DEVICES SIMFAULT: a PV guest's XML, in $TMPD/NAME.xml, of MIB MiB
# booting KERNEL, with DEVICES (XML) beside its console. The simulated backend (dry-run.sh)
# opens no kernel or image and runs no hotplug script, so there SIMFAULT=yes gives the guest
# the sim:fault start="fail" that stands for libxl's refusal.
failxml() {
	_meta=
	if [ "$5" = yes ] && [ "${VX_BACKEND:-libxl}" != libxl ]; then
		_meta='<metadata><sim:fault xmlns:sim="urn:virtxend:sim" start="fail"/></metadata>'
	fi
	cat >"$TMPD/$1.xml" <<EOF
<domain type='xen'>
  <name>$1</name>
  <memory unit='MiB'>$2</memory>
  <vcpu>1</vcpu>
  $_meta
  <os>
    <type arch='x86_64' machine='xenpv'>linux</type>
    <kernel>$3</kernel>
    <initrd>/root/domu.cpio.gz</initrd>
    <cmdline>console=hvc0</cmdline>
  </os>
  <devices>
    <console type='pty'><target type='xen' port='0'/></console>
    $4
  </devices>
</domain>
EOF
}

# vfail NAME: virsh start of the defined guest NAME fails with libvirt 9.0's error for a
# failed libxl_domain_create_new (libxlDomainStart: "libxenlight failed to create new domain
# '%s'", an internal error), and leaves nothing: xl lists no guest of that name and no more
# domains than before, virsh says shut off, the daemon keeps no status file for it
# ($VR/run/libvirt/libxl/NAME.xml, paths.StateDir) and virsh list --all is as before.
# FAILS gets "NAME: virsh's error line (seconds)".
vfail() {
	step "virsh list --all" V list --all || return 1
	cp $TMPD/step.out $TMPD/list.before
	_xl=$(xl list 2>/dev/null | wc -l)
	_t=$(now)
	_rc=0
	V start "$1" >$TMPD/fail.out 2>$TMPD/fail.err || _rc=$?
	_s=$(since "$_t")
	[ $_rc != 0 ] || { WHY="virsh start $1 did not fail"; return 1; }
	_want="error: internal error: libxenlight failed to create new domain '$1'"
	grep -q -x -F "$_want" $TMPD/fail.err ||
		{ WHY="virsh start $1 (rc=$_rc): $(tr '\n' ' ' <$TMPD/fail.err | cut -c1-240), want '$_want'"; return 1; }
	# for the log: virsh's words and the daemon's reason
	echo "=== virsh start $1 ($_s s): $(tr '\n' ' ' <$TMPD/fail.err)"
	grep -a -F "$1" $DLOG | grep -a -E ': (warning|error) : ' | tail -n 3 | cut -c1-400
	# (a domain libxl destroyed may be listed, dying, for a moment: 10 s for it to go)
	_i=0
	while _id=$(xl domid "$1" 2>/dev/null) || [ "$(xl list 2>/dev/null | wc -l)" != "$_xl" ]; do
		if [ $_i -ge 10 ]; then
			WHY="10 s after the failed start of $1 xl lists ${_id:+it as d$_id and }$(($(xl list 2>/dev/null | wc -l) - _xl)) domains more than before: $(xl list 2>&1 | tr -s ' ' | tr '\n' '|')"
			return 1
		fi
		[ $_i != 0 ] || echo "=== xl still lists a domain after the failed start of $1: $(xl list 2>&1 | tr -s ' ' | tr '\n' '|')"
		sleep 1
		_i=$((_i + 1))
	done
	[ "$(V domstate "$1" 2>&1 | head -n 1)" = "shut off" ] ||
		{ WHY="after the failed start virsh domstate $1 says '$(V domstate "$1" 2>&1 | head -n 1)'"; return 1; }
	[ ! -e "$VR/run/libvirt/libxl/$1.xml" ] || { WHY="the failed start of $1 left its status file $VR/run/libvirt/libxl/$1.xml"; return 1; }
	step "virsh list --all" V list --all || return 1
	cmp -s $TMPD/list.before $TMPD/step.out ||
		{ WHY="virsh list --all was '$(tr -s ' ' <$TMPD/list.before | tr '\n' '|')', is '$(tr -s ' ' <$TMPD/step.out | tr '\n' '|')' after the failed start of $1"; return 1; }
	FAILS="${FAILS:+$FAILS; }$1: $(grep -F "$_want" $TMPD/fail.err) ($_s s)"
}

# A PV guest whose kernel does not exist, one with 256 MiB more than Xen has free (xl info's
# free_memory; dom0_mem is fixed, so libvirt does not autoballoon), one whose disk image does
# not exist and one whose NIC is on a bridge that does not exist (the vif-bridge hotplug script
# fails once the domain is made): each virsh start fails with libvirt's error and leaves
# nothing (vfail), then vx-pv starts and is destroyed through the same daemon. No guest boots.
check_virsh_libxl_failures() {
	DEBUG_FN=failures_debug
	FAILS=
	# a guest an earlier failed check left running is destroyed first: vfail compares virsh
	# list --all before and after each start, and a leftover vx-hvm rebooting meanwhile (a
	# TCG triple fault, 2026-12-07) changed it
	for _g in $(V list --name 2>/dev/null); do
		[ "$_g" = Domain-0 ] && continue
		echo "=== $_g left running by an earlier check: destroyed"
		V destroy "$_g" >/dev/null 2>&1 || true
		wait_gone "$_g" 20 || return 1
	done
	_free=$(timeout 30 xl info 2>/dev/null | awk -F': *' '$1 ~ /^free_memory/ { print $2 }')
	case $_free in "" | *[!0-9]*) WHY="xl info gives no free_memory ('$_free')"; return 1 ;; esac
	failxml vx-fail-kernel 128 /root/no-such-vmlinuz "" yes
	failxml vx-fail-mem $((_free + 256)) /root/vmlinuz "" no
	failxml vx-fail-disk 128 /root/vmlinuz "<disk type='file' device='disk'><source file='/root/no-such-disk.img'/><target dev='xvda' bus='xen'/></disk>" yes
	failxml vx-fail-nic 128 /root/vmlinuz "<interface type='bridge'><source bridge='nosuchbr0'/></interface>" yes
	for _g in vx-fail-kernel vx-fail-mem vx-fail-disk vx-fail-nic; do
		forget $_g
		step "virsh define $_g" V define "$TMPD/$_g.xml" || return 1
		vfail $_g || return 1
		step "virsh undefine $_g" V undefine $_g || return 1
	done
	# the daemon serves the next start (no wait for the boot)
	forget vx-pv
	step "virsh define vx-pv" V define $XT/guests/vx-pv.xml || return 1
	step "virsh start vx-pv" V start vx-pv || return 1
	state vx-pv running 10 || return 1
	_id=$(V domid vx-pv)
	[ "$(xl domid vx-pv 2>/dev/null)" = "$_id" ] || { WHY="virsh says vx-pv is d$_id, xl says $(xl domid vx-pv 2>&1)"; return 1; }
	vremove vx-pv || return 1
	DETAIL="free_memory ${_free} MiB; $FAILS; then vx-pv started as d$_id"
}
failures_debug() {
	daemon_debug
	echo "--- xl list"
	timeout 20 xl list
	echo "--- virsh start's output"
	cat $TMPD/fail.out $TMPD/fail.err 2>/dev/null
	echo "--- xl dmesg"
	timeout 20 xl dmesg | tail -n 10
	echo "--- syslog"
	tail -n 15 /var/log/messages 2>/dev/null
}
