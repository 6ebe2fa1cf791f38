#!/usr/bin/env bash
# test/xen/migrate.sh: migration on real Xen, between two Xen 4.17 hosts under QEMU (TCG) on
# this machine. Run from the repo root, as root:
#
#   test/xen/migrate.sh
#
# It builds the images as run.sh does (build.sh: one dom0 initramfs), boots it twice, host a
# (XT_ROLE=mig-src, 10.0.0.1) and host b (XT_ROLE=mig-dst, 10.0.0.2), each with an e1000 NIC
# on a QEMU network of their own: a datagram socket pair on 127.0.0.1, so nothing leaves the
# machine. dom0's /init runs migrate-checks.sh: a PVH guest counting on its console migrates
# between the two virtxend daemons (direct, --p2p, --p2p --tunnelled), a PV guest offline,
# a bigger guest is aborted mid-way (domjobabort), xl migrate moves the same kind of guest
# between the same hosts for the figures, and then b runs libvirt's own libxl driver
# (libvirtd) instead of virtxend and the guest migrates from ours to libvirt's and back.
# It prints one line per check, the figures (virsh's and xl's wall time, and the downtime the
# guest's own clock shows across each move, corrected by the offset between the two hosts'
# clocks), then "N passed, N failed". Exit status 0 only if none failed.
#
# Work files go to $XEN_WORK (default /tmp/virtxend-xenmig). Settings (environment): XEN_WORK,
# LIMIT (s both VMs may run, default 1500), MEM (MiB per VM, default 1280: dom0 512 MiB, and
# room for the 384 MiB guest of mig-abort beside a migrating 128 MiB one), DOM0_MEM (512M),
# SMP (vCPUs per VM, default 1: two VMs on two cores), CPU (qemu64,+svm,+npt: PVH needs HAP),
# NET_PORT (UDP ports NET_PORT and NET_PORT+1 on 127.0.0.1, default 47201), VERBOSE=1.
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
HERE=$REPO/test/xen
W=${XEN_WORK:-/tmp/virtxend-xenmig}
LIMIT=${LIMIT:-1500}
MEM=${MEM:-1280} DOM0_MEM=${DOM0_MEM:-512M} SMP=${SMP:-1} CPU=${CPU:-qemu64,+svm,+npt}
NET_PORT=${NET_PORT:-47201}
. "$HERE/harness.sh"
declare -A QPID=() PIPE=() HWM=()
on_exit() {
	rc=$?
	for h in "${!QPID[@]}"; do kill -9 "${QPID[$h]}" 2>/dev/null || true; done
	[ -n "$DONE" ] || stopped_early migrate.sh "$rc"
}
trap on_exit EXIT
harness_start migrate.sh

# ---- 1. to 4.: the host tools, the packages, the daemon and the images (as run.sh's)
. "$HERE/build.sh"
EXPECT=$(sed -n 's/^CHECKS="\(.*\)"$/\1/p' "$HERE/migrate-checks.sh")
if [ -n "$DAEMON_SKIP" ]; then
	for c in $EXPECT; do result SKIP "$c: $DAEMON_SKIP"; done
	DONE=1
	echo "$PASSED passed, $FAILED failed"
	exit 0
fi

# ---- 5. boot the two hosts, each line of their consoles timestamped with one clock (ms since
# T0US), from which the offset between their own clocks is read (MIGCLOCK lines)
PHASE="running two Xen hosts under QEMU (serial logs: $W/serial-a.log, $W/serial-b.log)"
log "$PHASE, limit $LIMIT s"
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM,max:$DOM0_MEM loglvl=all guest_loglvl=all console_timestamps=boot"
DOM0_ARGS="console=hvc0 earlyprintk=xen loglevel=4 swiotlb=4096"
TB=$SECONDS
T0US=${EPOCHREALTIME/./}
# boot HOST ROLE N: host a (N=1) or b (N=2); its datagram socket is NET_PORT+N-1, the other's
# NET_PORT+2-N
boot() {
	local h=$1 role=$2 n=$3
	rm -f "$W/serial-$h.log" "$W/qemu-$h.pid"
	timeout -k 5 $((LIMIT + 30)) qemu-system-x86_64 -accel tcg,tb-size=128 -cpu "$CPU" -smp "$SMP" -m "$MEM" \
		-display none -vga none -monitor none -serial stdio -no-reboot \
		-uuid "00000000-0000-4000-8000-00000000000$n" \
		-netdev "dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=$((NET_PORT + n - 1)),remote.type=inet,remote.host=127.0.0.1,remote.port=$((NET_PORT + 2 - n))" \
		-device "e1000,netdev=n0,mac=52:54:00:00:00:0$n" \
		-pidfile "$W/qemu-$h.pid" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
		-kernel "$W/xen" -append "$XEN_ARGS" \
		-initrd "$W/vmlinuz $DOM0_ARGS XT_ROLE=$role,$W/dom0.cpio.gz" </dev/null 2>&1 |
		while IFS= read -r l; do
			d=$(((${EPOCHREALTIME/./} - T0US) / 1000))
			printf '[%4d.%03d] %s\n' $((d / 1000)) $((d % 1000)) "${l%$'\r'}"
		done >"$W/serial-$h.log" &
	PIPE[$h]=$!
	HWM[$h]=0
}
boot a mig-src 1
boot b mig-dst 2
# watch: each QEMU's peak RSS; kill a QEMU by its pid if it overruns LIMIT, if its dom0 does not
# power off within 20 s after ALL-CHECKS-DONE, or (b) 60 s after a has ended
declare -A DONE_AT=() KILLED=()
running() { for h in a b; do kill -0 "${PIPE[$h]}" 2>/dev/null && return 0; done; return 1; }
while running; do
	for h in a b; do
		kill -0 "${PIPE[$h]}" 2>/dev/null || continue
		[ -z "${QPID[$h]:-}" ] && [ -s "$W/qemu-$h.pid" ] && QPID[$h]=$(cat "$W/qemu-$h.pid")
		q=${QPID[$h]:-}
		[ -n "$q" ] || continue
		m=$(awk '/^VmHWM/ { print $2 }' "/proc/$q/status" 2>/dev/null || true)
		[ "${m:-0}" -gt "${HWM[$h]}" ] && HWM[$h]=$m
		[ -z "${DONE_AT[$h]:-}" ] && grep -a -q ALL-CHECKS-DONE "$W/serial-$h.log" 2>/dev/null && DONE_AT[$h]=$SECONDS
		over=
		[ $((SECONDS - TB)) -gt "$LIMIT" ] && over="ran over its $LIMIT s limit"
		[ -n "${DONE_AT[$h]:-}" ] && [ $((SECONDS - DONE_AT[$h])) -gt 20 ] && over="did not power off after the checks"
		if [ "$h" = b ] && ! kill -0 "${PIPE[a]}" 2>/dev/null; then
			[ -n "${A_END:-}" ] || A_END=$SECONDS
			[ $((SECONDS - A_END)) -gt 60 ] && over="outlived host a by 60 s"
		fi
		if [ -n "$over" ] && [ -z "${KILLED[$h]:-}" ] && grep -q qemu-system "/proc/$q/comm" 2>/dev/null; then
			echo "--- host $h $over: killing QEMU pid $q"
			KILLED[$h]=$over
			kill "$q" 2>/dev/null || true
			sleep 3
			kill -9 "$q" 2>/dev/null || true
		fi
	done
	sleep 0.5
done
wait "${PIPE[a]}" "${PIPE[b]}" || true
BOOT=$((SECONDS - TB))
QPID=()

# ---- 6. the results
PHASE="collecting the results"
for h in a b; do
	[ -n "${VERBOSE:-}" ] && cat "$W/serial-$h.log"
	grep -a -E 'DOM0-INIT|ALL-CHECKS-DONE|^\[ *[0-9.]+\] === ' "$W/serial-$h.log" | sed "s/^/    $h /" || true
done
grep -a -h -o -E 'CHECK (PASS|FAIL|SKIP) [a-z0-9-]+: .*' "$W/serial-a.log" "$W/serial-b.log" >"$W/results.txt" || true
for c in $EXPECT; do
	line=$(grep -m 1 -E "^CHECK [A-Z]+ $c: " "$W/results.txt" || true)
	if [ -n "$line" ]; then
		line=${line#CHECK }
		result "${line%% *}" "${line#* }"
	else
		result FAIL "$c: no result (a dom0 stopped before this check; see $W/serial-a.log, serial-b.log)"
	fi
done
for h in a b; do
	if [ -n "${KILLED[$h]:-}" ]; then
		result FAIL "vm-$h: host $h ${KILLED[$h]}; QEMU was killed"
	elif grep -a -q ALL-CHECKS-DONE "$W/serial-$h.log"; then
		result PASS "vm-$h: Xen booted, dom0 ran its part and powered off"
	else
		result FAIL "vm-$h: QEMU ended before dom0 finished its part"
	fi
done

# the figures: the offset of b's clock from a's (each MIGCLOCK line's own time less the time
# migrate.sh read it from that console), for the log only: a guest's clock across a move does
# not take the destination's (corrected by it, a live move's downtime came out negative); then
# each MIGTIME line's downtime as the guest's own clock shows it: its gap across the move less
# its usual gap
clock_of() { # clock_of HOST: mean of (host's clock - the reading's time), in s
	awk -v t0="$T0US" '/ MIGCLOCK/ {
		gsub(/\r/, ""); r = $0; sub(/^\[ */, "", r); sub(/\].*/, "", r)
		for (i = 2; i <= NF; i++) if ($i == "MIGCLOCK" && $(i - 1) ~ /^[0-9]+\.[0-9]+$/) { s += $(i - 1) - (t0 / 1e6 + r); n++ }
	} END { if (n) printf "%.3f %d", s / n, n }' "$W/serial-$1.log"
}
read -r CA NA <<<"$(clock_of a)" || true
read -r CB NB <<<"$(clock_of b)" || true
if [ -n "${CA:-}" ] && [ -n "${CB:-}" ]; then
	OFF=$(awk -v a="$CA" -v b="$CB" 'BEGIN { printf "%.3f", b - a }')
	echo "    clocks: b's dom0 clock is $OFF s ahead of a's (from $NA and $NB readings), not applied below: a guest's clock across a move does not follow the destination's"
else
	OFF=0
	echo "    clocks: no MIGCLOCK readings; downtimes uncorrected"
fi
echo "    figures (s): wall is virsh's (or xl's) own, downtime the gap in the guest's own clock across the move less its usual gap (tick)"
grep -a -h -o -E 'MIGTIME .*' "$W/serial-a.log" | awk -v off="$OFF" '{
	for (i = 5; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
	dt = "?"
	if (v["gap"] != "?" && v["gap"] != "") dt = sprintf("%.3f", v["gap"] - v["tick"])
	printf "    %-18s %s->%s  wall %7s  downtime %7s  (gap %s, tick %s, lost %s)\n", $2, $3, $4, v["wall"], dt, v["gap"], v["tick"], v["lost"]
}' || true
echo "    host: wall $((SECONDS - T0)) s (build $((TB - T0)) s, both QEMUs $BOOT s), QEMU peak RSS a $((HWM[a] / 1024)) MiB, b $((HWM[b] / 1024)) MiB (-m $MEM, dom0 $DOM0_MEM, -smp $SMP); $SKIPPED skipped; logs $W/serial-{a,b}.log"
DONE=1
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
