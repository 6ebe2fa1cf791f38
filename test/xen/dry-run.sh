#!/usr/bin/env bash
# test/xen/dry-run.sh: exercises daemon-checks.sh on the host, in a few seconds and
# without Xen, against virtxend's simulated backend, so the script can be trusted
# before the libxl backend exists. A stub "xl" answers from virsh, and a loop
# stands in for the guests: it writes DOMU-MARKER-OK (and, for vx-dev, the disk
# and NIC lines) into the console log each time a guest gets a new id, and for vx-hvm
# starts a stand-in device model that it stops when the domain goes. Run from
# the repo root as root (needs busybox, as dom0 runs the script under busybox sh). It proves the script's logic, not anything about Xen.
set -euo pipefail
cd "$(dirname "$0")/../.."
D=$(mktemp -d /tmp/virtxend-xen-dry.XXXXXX)
mkdir -p "$D/xt" "$D/bin" "$D/console" "$D/tmp"
go build -o "$D/xt/virtxend" ./cmd/virtxend
go build -o "$D/bin/simxl" ./cmd/simxl
cp test/xen/lib.sh test/xen/pci-probe.sh test/xen/daemon-*.sh "$D/xt/"
cp -r test/xen/guests "$D/xt/"
URI="xen+unix:///system?socket=$D/vx/run/libvirt/virtxend-sock"
cat >"$D/bin/xl" <<XL
#!/bin/sh
v() { virsh -q -c '$URI' "\$@"; }
case "\$1 \$2" in
domid\ *) id=\$(v domid "\$2" 2>/dev/null) && [ -n "\$id" ] && [ "\$id" != - ] && echo "\$id" ;;
# xl list -l NAME: the configuration the simulated host keeps for the guest, as xl shows libxl's
list\ -l) python3 -c '
import json, sys
st = json.load(open(sys.argv[1]))
out = [{"domid": g["domid"], "config": g.get("config", {})} for g in st["guests"] if g["name"] == sys.argv[2]]
json.dump(out, sys.stdout, indent=4)
print()
sys.exit(0 if out else 1)' "$D/vx/run/virtxend-simhost/host.json" "\$3" ;;
# xl list ID: whether a domain has that id
list\ [0-9]*) v list | awk -v id="\$2" '\$1 == id { f = 1 } END { exit !f }' ;;
# xl info: Xen's free memory is the simulated host's (virsh freecell)
info\ *) printf 'xen_version            : 4.17.0\nvirt_caps              : pv hvm hap\n'
	v freecell | awk '/KiB/ { printf "free_memory            : %d\n", \$(NF - 1) / 1024 }' ;;
# what xl does behind the daemon's back: simxl does it to the simulated host
pause\ *|unpause\ *|destroy\ *) VIRTXEND_ROOT='$D/vx' '$D/bin/simxl' "\$1" "\$2" ;;
# what xl reads of the host: simxl reads the simulated host
vcpu-list\ *|sched-credit*) VIRTXEND_ROOT='$D/vx' '$D/bin/simxl' "\$@" ;;
*) v list --all ;;
esac
XL
chmod 755 "$D/bin/xl"
# fake_dms: "pid domid" of each stand-in device model of this run
fake_dms() { ps -eo pid,args | awk -v d="$D" '$2 == "/usr/libexec/xen-qemu-system-i386" && $(NF - 2) == d && $(NF - 1) == "-xen-domid" { print $1, $NF }'; }
(
	while sleep 0.3; do
		for n in $(virsh -q -c "$URI" list --name 2>/dev/null); do
			id=$(virsh -q -c "$URI" domid "$n" 2>/dev/null) || continue
			[ "$(cat "$D/seen-$n" 2>/dev/null)" = "$id" ] && continue
			echo "$id" >"$D/seen-$n"
			# the HVM guest's device model: a process whose command line looks like libxl's qemu's
			if [ "$n" = vx-hvm ]; then
				(exec -a /usr/libexec/xen-qemu-system-i386 bash -c 'while :; do sleep 1; done' "$D" -xen-domid "$id") &
			fi
			echo DOMU-MARKER-OK >>"$D/console/guest-$n.log"
			case $n in vx-dev | vx-netvol) printf 'DOMU-DISK-OK\nDOMU-NET-OK\n' >>"$D/console/guest-$n.log" ;; esac
		done
		# a device model goes with its domain
		ids=" $(virsh -q -c "$URI" list 2>/dev/null | awk '{ print $1 }' | tr '\n' ' ') "
		fake_dms | while read -r pid id; do
			case $ids in *" $id "*) ;; *) kill "$pid" 2>/dev/null || true ;; esac
		done
	done
) &
FAKE=$!
trap 'kill $FAKE 2>/dev/null || true; fake_dms | while read -r pid id; do kill "$pid"; done; pkill -F "$D/vx/run/virtxend.pid" 2>/dev/null || true; pkill -F "$D/vx/libvirtd/libvirtd.pid" 2>/dev/null || true' EXIT
# the checks, then the one dom0-init.sh runs last (--restarts)
for mode in "" --restarts; do
	env XT="$D/xt" VR="$D/vx" CONLOG="$D/console" DLOG="$D/virtxend.log" TMPD="$D/tmp" VX_BACKEND=simulated \
		LIBVIRTD_BESIDE="$PWD/scripts/libvirtd-beside" LVLOG="$D/libvirtd.log" \
		PATH="$D/bin:$PATH" VX_TIMES=2 busybox sh "$D/xt/daemon-checks.sh" $mode
done | tee "$D/out.txt"
echo "work dir: $D"
! grep -q '^CHECK FAIL' "$D/out.txt"
