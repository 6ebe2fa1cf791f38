#!/usr/bin/env bash
# test/xen/run.sh: the proof on real Xen. Run from the repo root, as root:
#
#   test/xen/run.sh          (as root)
#
# It installs the host tools (apt-get), fetches Xen 4.17 and Debian's kernel as
# packages (apt-get download, unpacked with dpkg-deb -x, never installed),
# builds a busybox dom0 initramfs holding the Xen toolstack, a domU kernel and
# initramfs and, once internal/backend/libxl exists, virtxend built with
# -tags libxl, the backend's test binary and Debian's virsh. It boots Xen under
# qemu-system-x86_64 (TCG), where dom0's /init runs the checks, and prints one
# line per check, then "N passed, N failed". Exit status 0 only if none failed.
#
# Work files go to $XEN_WORK (default /tmp/virtxend-xen), never into the repo.
# Settings (environment): XEN_WORK, LIMIT (s the VM may run, default 2400),
# MEM (MiB, default 1024), DOM0_MEM (default 512M), SMP (2), CPU (qemu64,+svm,+npt;
# without +npt Xen has no HAP and the PVH checks are skipped), TCG_THREAD (single or multi,
# QEMU's -accel tcg,thread=; unset, QEMU's default, multi), XL_TIMES/VX_TIMES
# (create+destroy rounds timed, default 3), VERBOSE=1 (print the serial log),
# ONLY=oracle (only the toolstack and oracle.sh: the others SKIP, to work on the oracle),
# ONLY=save (only the toolstack, virsh-save, and SAVE_ROUNDS timed saves and restores of a PV
# guest through xl, virtxend and libvirt's libxl driver: the others SKIP, to work on save),
# ONLY=CHECK+CHECK (those checks and the ones they stand on; lib.sh's only),
# CONF_RUN=REGEX (libxl-conformance runs only the tests of libxl.test that -test.run REGEX picks:
# no blanks or commas in it),
# NO_ORACLE=1 (everything but oracle.sh, whose checks SKIP: scripts/test's retry when the
# oracle passed), ORACLE_NO_FIGURES=1 (oracle.sh without its side-by-side figures).
set -euo pipefail
cd "$(dirname "$0")/../.."
REPO=$PWD
HERE=$REPO/test/xen
W=${XEN_WORK:-/tmp/virtxend-xen}
LIMIT=${LIMIT:-2400}
MEM=${MEM:-1280} DOM0_MEM=${DOM0_MEM:-768M} SMP=${SMP:-2} CPU=${CPU:-qemu64,+svm,+npt}
. "$HERE/harness.sh"
QPID=
on_exit() {
	rc=$?
	if [ -n "$QPID" ] && kill -0 "$QPID" 2>/dev/null; then kill -9 "$QPID" 2>/dev/null || true; fi
	[ -n "$DONE" ] || stopped_early run.sh "$rc"
}
trap on_exit EXIT
harness_start run.sh

# ---- 1. to 4.: the host tools, the packages, the daemon and the images (shared with migrate.sh)
. "$HERE/build.sh"

# ---- 5. boot Xen under QEMU/TCG, bounded in time; dom0's /init runs the checks and powers off
PHASE="running Xen under QEMU (serial log: $W/serial.log)"
log "$PHASE, limit $LIMIT s"
SERIAL=$W/serial.log
rm -f "$SERIAL" "$W/qemu.pid"
XEN_ARGS="console=com1 com1=115200,8n1 dom0_mem=$DOM0_MEM,max:$DOM0_MEM loglvl=all guest_loglvl=all console_timestamps=boot"
# swiotlb: dom0 drives no DMA devices here, and the default 64 MB bounce buffer left the
# initramfs's tmpfs (capped at half of dom0's memory while it unpacks) too small for the image
DOM0_ARGS="console=hvc0 earlyprintk=xen loglevel=4 swiotlb=4096 XL_TIMES=${XL_TIMES:-3} VX_TIMES=${VX_TIMES:-3} SAVE_ROUNDS=${SAVE_ROUNDS:-3}"
# (the kernel hands these NAME=VALUE words to /init as its environment)
DOM0_ARGS="$DOM0_ARGS${ONLY:+ XT_ONLY=$ONLY}${CONF_RUN:+ XT_CONF_RUN=$CONF_RUN}${NO_ORACLE:+ XT_NO_ORACLE=1}${ORACLE_NO_FIGURES:+ ORACLE_NO_FIGURES=1}"
TB=$SECONDS
T0US=${EPOCHREALTIME/./}
# PCI passthrough (xl-pci, pci-probe.sh): q35 for QEMU's VT-d (intel-iommu), which Xen
# needs to assign a device (with no IOMMU, libxl: "passthrough not supported on this
# platform"), and an e1000e NIC with no network behind it on a PCIe root port, so that in
# dom0 it is 0000:01:00.0, off bus 0, with a PM reset and no FLR. The port's link is 2.5 GT/s
# x1: at its default 16 GT/s Linux waits after a bus reset for the link to report Data Link
# Layer Link Active, which QEMU's port did not within Linux's 1 s, and the reset failed.
# serial -> log, each line prefixed with the seconds since QEMU started
in_core_dir timeout -k 5 $((LIMIT + 30)) qemu-system-x86_64 -accel "tcg,tb-size=128${TCG_THREAD:+,thread=$TCG_THREAD}" -cpu "$CPU" -smp "$SMP" -m "$MEM" \
	-machine q35,dump-guest-core=off -device intel-iommu \
	-device pcie-root-port,id=pcirp,chassis=1,addr=0x10,x-speed=2_5,x-width=1 \
	-device e1000e,bus=pcirp,addr=0,mac=52:54:00:5c:00:01 \
	-display none -vga none -nic none -monitor none -serial stdio -no-reboot \
	-pidfile "$W/qemu.pid" -device isa-debug-exit,iobase=0xf4,iosize=0x04 \
	-kernel "$W/xen" -append "$XEN_ARGS" \
	-initrd "$W/vmlinuz $DOM0_ARGS,$W/dom0.cpio.gz" </dev/null 2>&1 |
	while IFS= read -r l; do
		d=$(((${EPOCHREALTIME/./} - T0US) / 10000))
		printf '[%4d.%02d] %s\n' $((d / 100)) $((d % 100)) "${l%$'\r'}"
	done >"$SERIAL" &
PIPE=$!
# watch: QEMU's peak RSS; kill QEMU by its pid if it overruns LIMIT, or if dom0
# does not power off within 20 s after it said ALL-CHECKS-DONE
HWM=0 DONE_AT= KILLED=
while kill -0 $PIPE 2>/dev/null; do
	[ -z "$QPID" ] && [ -s "$W/qemu.pid" ] && QPID=$(cat "$W/qemu.pid")
	if [ -n "$QPID" ]; then
		h=$(awk '/^VmHWM/ { print $2 }' "/proc/$QPID/status" 2>/dev/null || true)
		[ "${h:-0}" -gt "$HWM" ] && HWM=$h
	fi
	[ -z "$DONE_AT" ] && grep -a -q ALL-CHECKS-DONE "$SERIAL" 2>/dev/null && DONE_AT=$SECONDS
	over=
	[ $((SECONDS - TB)) -gt "$LIMIT" ] && over="ran over its $LIMIT s limit"
	[ -n "$DONE_AT" ] && [ $((SECONDS - DONE_AT)) -gt 20 ] && over="did not power off after the checks"
	if [ -n "$over" ] && [ -n "$QPID" ] && [ -z "$KILLED" ] && grep -q qemu-system "/proc/$QPID/comm" 2>/dev/null; then
		echo "--- the VM $over: killing QEMU pid $QPID"
		KILLED=$over
		kill "$QPID" 2>/dev/null || true
		sleep 3
		kill -9 "$QPID" 2>/dev/null || true
	fi
	sleep 0.5
done
wait $PIPE || true
BOOT=$((SECONDS - TB))
QPID=
core_report

# ---- 6. the results
PHASE="collecting the results"
[ -n "${VERBOSE:-}" ] && cat "$SERIAL"
grep -a -E 'Xen version|DOM0-INIT|ALL-CHECKS-DONE|^\[ *[0-9.]+\] === ' "$SERIAL" | sed 's/^/    /' || true
[ -n "$DAEMON_SKIP" ] && { bash "$HERE/daemon-checks.sh" --skip "$DAEMON_SKIP"; bash "$HERE/oracle.sh" --skip "$DAEMON_SKIP"; } >"$W/skips.txt"
EXPECT="dom0-boot toolstack xl-pv xl-pv-shutdown xl-pvh xl-pv-disk-nic xl-hvm xl-pci xl-snapshot $(sed -n 's/^\(RESTART_\)*CHECKS="\(.*\)"$/\2/p' "$HERE/daemon-checks.sh" "$HERE/oracle.sh")"
{
	grep -a -o -E 'CHECK (PASS|FAIL|SKIP) [a-z0-9-]+: .*' "$SERIAL" || true
	cat "$W/skips.txt" 2>/dev/null || true
} >"$W/results.txt"
rm -f "$W/skips.txt"
for c in $EXPECT; do
	line=$(grep -m 1 -E "^CHECK [A-Z]+ $c: " "$W/results.txt" || true)
	if [ -n "$line" ]; then
		line=${line#CHECK }
		result "${line%% *}" "${line#* }"
	else
		result FAIL "$c: no result (dom0 stopped before this check; see $SERIAL)"
	fi
done
if [ -n "$KILLED" ]; then
	result FAIL "vm: the VM $KILLED; QEMU was killed after $BOOT s"
elif grep -a -q ALL-CHECKS-DONE "$SERIAL"; then
	result PASS "vm: Xen booted, dom0 ran the checks and powered off; QEMU ran $BOOT s"
else
	result FAIL "vm: QEMU ended after $BOOT s before dom0 finished its checks"
fi
grep -a -o -E 'TIME .*' "$SERIAL" | sed 's/^/    /' || true
# the daemon's start and destroy over xl's on this boot, virsh's own start-up taken off
grep -a -o -E 'TIME (xl|virtxend): PV guest .*' "$SERIAL" | awk '
	/TIME xl:/ { xc = $6; xd = $9 }
	/TIME virtxend:/ { vc = $6; vd = $9; for (i = 1; i <= NF; i++) if ($i == "takes") vu = $(i + 1) }
	END { if (xc > 0 && xd > 0 && vc != "")
		printf "    RATIO daemon/xl: PV guest start %.2f, destroy %.2f (virsh start-up of %.2f s taken off)\n", (vc - vu) / xc, (vd - vu) / xd, vu }' || true
bash "$HERE/oracle-host.sh" "$SERIAL" "$W/oracle" || true
echo "    host: wall $((SECONDS - T0)) s (build $((TB - T0)) s, QEMU $BOOT s), QEMU peak RSS $((HWM / 1024)) MiB (-m $MEM, dom0 $DOM0_MEM); $SKIPPED skipped; log $SERIAL"
DONE=1
echo "$PASSED passed, $FAILED failed"
[ "$FAILED" = 0 ]
