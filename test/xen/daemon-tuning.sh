# shellcheck shell=sh
# virsh-tuning: vCPU pinning, scheduler, NUMA, host CPU and PM suspend of a running guest.
# Sourced by daemon-checks.sh, whose helpers it uses.

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
