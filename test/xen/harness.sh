# shellcheck shell=bash
# test/xen/harness.sh: what run.sh (one Xen host) and migrate.sh (two) share before
# their build: Xen's paths, the counters of results, result, log, and the start's
# checks. Sourced, not run: it expects the caller's REPO and W.

XV=4.17
XB=/usr/lib/xen-$XV/bin
LVMOD=/usr/lib/x86_64-linux-gnu/libvirt # libvirtd's driver modules
export DEBIAN_FRONTEND=noninteractive PATH=/usr/local/go/bin:$PATH
T0=$SECONDS
PASSED=0 FAILED=0 SKIPPED=0 DONE=

result() { # result PASS|FAIL|SKIP LINE
	echo "$1 ${2}"
	case $1 in PASS) PASSED=$((PASSED + 1)) ;; FAIL) FAILED=$((FAILED + 1)) ;; *) SKIPPED=$((SKIPPED + 1)) ;; esac
}
log() { echo "--- $*"; }

# stopped_early NAME RC: the failure line and the count of a harness that ended before
# its checks did (its EXIT trap calls it unless DONE is set)
stopped_early() {
	result FAIL "harness: $1 stopped early (rc=$2) while: ${PHASE:-starting}; see $W"
	echo "$PASSED passed, $FAILED failed"
	exit 1
}

# harness_start NAME: root, and a work directory outside the repo (absolute from here on:
# QEMU runs in it, see in_core_dir)
harness_start() {
	[ "$(id -u)" = 0 ] || { echo "$1: must run as root (apt-get, and the checks)" >&2; exit 2; }
	mkdir -p "$W"
	W=$(realpath "$W")
	case $W in "$REPO" | "$REPO"/*) echo "$1: XEN_WORK must be outside the repo" >&2; exit 2 ;; esac
	rm -f "$W"/core "$W"/core.[0-9]*
}

# in_core_dir CMD...: run CMD in $W with core dumps on, so that a crash of QEMU leaves a core
# there for core_report (with the kernel's default core_pattern, "core" in the process's
# directory). QEMU crashed twice in virsh-pci (segfault at address 0xa0 in
# memory_region_dispatch_read: a null MemoryRegion); its caller is what a backtrace shows.
# QEMU's -machine dump-guest-core=off keeps the guest's memory out of the core.
in_core_dir() {
	(cd "$W" && ulimit -c unlimited && exec "$@")
}

# core_report: the backtrace of every core in $W (gdb, from the host tools), then the core
# removed (hundreds of MB); QEMU's exported symbols name its functions without debug symbols
core_report() {
	for c in "$W"/core "$W"/core.[0-9]*; do
		[ -f "$c" ] || continue
		log "a core dump: $(file -b "$c" 2>/dev/null | cut -c1-160)"
		if command -v gdb >/dev/null; then
			timeout 120 gdb -q -batch -ex 'info threads' -ex bt -ex 'thread apply all bt 8' "$(command -v qemu-system-x86_64)" "$c" 2>&1 |
				grep -v -E '^\[New LWP|^warning: ' | head -n 150 | sed 's/^/    | /'
		fi
		rm -f "$c"
	done
}
