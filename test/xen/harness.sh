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

# harness_start NAME: root, and a work directory outside the repo
harness_start() {
	[ "$(id -u)" = 0 ] || { echo "$1: must run as root (apt-get, and the checks)" >&2; exit 2; }
	mkdir -p "$W"
	case $(realpath "$W") in "$REPO" | "$REPO"/*) echo "$1: XEN_WORK must be outside the repo" >&2; exit 2 ;; esac
}
