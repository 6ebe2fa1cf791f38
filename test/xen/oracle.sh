#!/bin/sh
# test/xen/oracle.sh: libvirt's own Xen driver as the oracle, on the same Xen boot. Run by
# dom0's /init after daemon-checks.sh, when the image has libvirt's libxl driver
# (libvirt_driver_libxl.so, Debian's libvirt-daemon-driver-xen 9.0) and the daemon.
#
# The same virsh session runs against Debian's libvirtd with that driver (xen:///system on
# libvirtd's own socket) and then against virtxend (backend libxl, VIRTXEND_ROOT=/vxo): one
# daemon at a time, each stopped before the other starts, with no guest left between them.
# Each area of the session is one virsh batch (commands separated by ';', each output after
# an "@@@ area/section" line; virsh flushes stdout before every error, so 2>&1 keeps the
# order; virsh -t times each command, which vxoracle sums per section and area: where ours is
# slower), written to $O/{libvirt,virtxend}/AREA.txt. The libxl JSON each daemon handed to
# libxl at each guest's first start goes to $O/SIDE/json/NAME.json (libvirt writes it to
# /var/log/libvirt/libxl/NAME.log as "Domain start: ...", virtxend to its debug log).
# vxoracle then normalizes what must differ and compares: one CHECK line per area, failing
# on any difference that oracle-known.txt does not list.
#
# The side-by-side figures (start, destroy, shutdown, reboot, save, restore of the PV guest;
# throughput of lookups and dumpxml of it running) are FIGURE lines, taken during the session on its own
# boots of the guest (area_running).
#
# "oracle.sh --skip REASON" only prints a SKIP line for every check (run.sh on the host).
set -eu
set -o pipefail
CHECKS="oracle-start oracle-host oracle-define oracle-native oracle-errors oracle-running oracle-json oracle-pci oracle-saveimage oracle-console oracle-tuning oracle-stats oracle-jobs"
if [ "${1:-}" = --skip ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: $2"; done
	exit 0
fi
XT=${XT:-/xt}
. "$XT/lib.sh"
. "$XT/pci-probe.sh" # the NIC run.sh gives dom0 (area_pci)
O=${ORACLE_OUT:-$TMPD/oracle}
HOTIMG=$TMPD/oracle-hot.img # the disk attached to vx-dev
SAVEIMG=$TMPD/oracle-pv.save # vx-pv saved
XCHG=$TMPD/oracle-xchg.save   # the other daemon's save image of vx-pv, restored (area_xchg_in)
G=$XT/guests
IN=$XT/oracle-inputs # libvirt's test inputs (libxlxml2domconfigdata, xlconfigdata)
LSOCK=/run/libvirt/libvirt-sock
LURI="xen+unix:///system?socket=$LSOCK"
VR=/vxo
VSOCK=$VR/run/libvirt/virtxend-sock
VURI="xen+unix:///system?socket=$VSOCK"
VLOG=/var/log/virtxend-oracle.log
LLOG=/var/log/libvirtd-oracle.log

# ---- the daemons
# LXMOD: libvirt's libxl driver, among libvirtd's modules only while the oracle's libvirtd runs
LXMOD=/usr/lib/x86_64-linux-gnu/libvirt/connection-driver/libvirt_driver_libxl.so
start_libvirtd() {
	# a libvirt libxl driver's state from before (none, unless a check ran one) would make
	# Domain-0 and the guests other than a fresh driver's
	rm -rf /run/libvirt/libxl /var/lib/libvirt/libxl /etc/libvirt/libxl
	cp $XT/oracle-driver/libvirt_driver_libxl.so $LXMOD
	mkdir -p /etc/libvirt /run/libvirt /var/log/libvirt/libxl
	# the libvirtd of daemon-checks.sh (virsh-net-vol) has its socket in /vx; this one is the
	# host's own: xen:///system with the default paths, on a config of its own
	printf 'auth_unix_rw = "none"\nauth_unix_ro = "none"\nlog_outputs = "3:file:%s"\n' $LLOG >/etc/libvirt/libvirtd-oracle.conf
	libvirtd -f /etc/libvirt/libvirtd-oracle.conf -p /run/libvirtd-oracle.pid >>$LLOG 2>&1 &
	SPID=$!
	wait_uri "$LURI" libvirtd
}
start_virtxend() {
	mkdir -p $VR/etc/libvirt
	echo 'backend = "libxl"' >$VR/etc/libvirt/libxl.conf
	# the libxl JSON at each start is logged at debug by the backend
	printf 'log_filters = "1:backend.libxl"\nlog_outputs = "1:file:%s"\n' $VLOG >$VR/etc/libvirt/virtxend.conf
	VIRTXEND_ROOT=$VR $XT/virtxend >>/var/log/virtxend-oracle.out 2>&1 &
	SPID=$!
	wait_uri "$VURI" virtxend
}
# wait_uri URI NAME: until virsh gets an answer (60 s); the daemon's pid is SPID
wait_uri() {
	_t=$(now)
	_i=0
	until timeout 30 virsh -q -c "$1" uri >/dev/null 2>&1; do
		kill -0 $SPID 2>/dev/null || { WHY="$2 exited"; return 1; }
		[ $_i -lt 120 ] || { WHY="$2 did not answer within 60 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
	UP=$(since "$_t")
}
# stop_daemon: no guest of the session may outlive its daemon
stop_daemon() {
	for _n in $(timeout 60 virsh -q -c "$URI" list --name 2>/dev/null | grep -v '^Domain-0$'); do
		timeout 60 virsh -q -c "$URI" destroy "$_n" >/dev/null 2>&1 || true
	done
	RSS=$(dm_rss $SPID)
	kill $SPID 2>/dev/null || true
	_i=0
	while kill -0 $SPID 2>/dev/null && [ $_i -lt 30 ]; do sleep 0.5; _i=$((_i + 1)); done
	kill -9 $SPID 2>/dev/null || true
	wait $SPID 2>/dev/null || true
	for _n in $(timeout 30 xl list 2>/dev/null | awk 'NR > 2 { print $1 }'); do
		echo "oracle: $_n left running by $SIDE; destroying it"
		timeout 60 xl destroy "$_n" || true
	done
}

# ---- the session: B collects one batch, run_batch AREA runs it against URI into $OD/AREA.txt
B=
sec() { B="$B echo @@@ $1; $2;"; }
run_batch() {
	_tb=$(now)
	_rc=0
	timeout "${ORACLE_BATCH_LIMIT:-480}" virsh -t -c "$URI" "$B" >>"$OD/$1.txt" 2>&1 || _rc=$?
	echo "oracle: $SIDE: $1 batch in $(since "$_tb") s (virsh rc $_rc)"
	# a virsh killed by timeout (rc 124) hung: say where, for the log
	[ $_rc != 124 ] || { echo "oracle: $SIDE: $1 batch hung after:"; tail -n 5 "$OD/$1.txt"; }
	B=
}
# name_of FILE: the domain name in an XML file
name_of() { sed -n 's:.*<name>\(.*\)</name>.*:\1:p' "$1" | head -n 1; }

# the guests whose XML is defined and dumped: the project's, the oracle's, and the inputs of
# libvirt's libxlxml2domconfigdata test
define_inputs() { ls $G/vx-*.xml $G/oracle/o-*.xml $IN/libxlxml2domconfigdata/*.xml; }
# the native configs converted to XML: the project's xl configs and libvirt's xl and xm tests
native_inputs() { ls $G/xt-*.cfg $IN/xlconfigdata/*.cfg; }

area_host() {
	sec host/version "version --daemon"
	sec host/nodeinfo nodeinfo
	sec host/capabilities capabilities
	sec host/domcapabilities domcapabilities
	sec host/domcapabilities-pv "domcapabilities --virttype xen --arch x86_64 --machine xenpv"
	sec host/domcapabilities-pvh "domcapabilities --virttype xen --arch x86_64 --machine xenpvh"
	sec host/domcapabilities-hvm "domcapabilities --virttype xen --arch x86_64 --machine xenfv"
	sec host/domcapabilities-bad-machine "domcapabilities --virttype xen --machine pc"
	sec host/domcapabilities-bad-virttype "domcapabilities --virttype kvm"
	sec host/freecell freecell
	sec host/freecell-all "freecell --all"
	sec host/freecell-0 "freecell --cellno 0"
	sec host/sysinfo sysinfo
	sec host/maxvcpus maxvcpus
	sec host/maxvcpus-xen "maxvcpus --type xen"
	sec host/hostname hostname
	sec host/uri uri
	sec host/nodecpumap nodecpumap
	sec host/node-memory-tune node-memory-tune
	sec host/cpu-models "cpu-models x86_64"
	sec host/list "list --all"
	run_batch host
}

area_define() {
	for _f in $(define_inputs); do
		_n=$(name_of "$_f")
		sec "define/$(basename "$_f" .xml)" "define $_f; dumpxml --inactive $_n; dumpxml --inactive --security-info $_n; dominfo $_n; undefine $_n"
	done
	run_batch define
}

area_native() {
	for _f in $(define_inputs); do
		_b=$(basename "$_f" .xml)
		sec "native/to-xl/$_b" "domxml-to-native xen-xl $_f"
		sec "native/to-xm/$_b" "domxml-to-native xen-xm $_f"
	done
	for _f in $(native_inputs); do
		sec "native/from-xl/$(basename "$_f" .cfg)" "domxml-from-native xen-xl $_f"
	done
	for _f in $IN/xmconfigdata/*.cfg; do
		sec "native/from-xm/$(basename "$_f" .cfg)" "domxml-from-native xen-xm $_f"
	done
	sec native/bad-format "domxml-from-native xen-sxpr $G/xt-pv.cfg"
	sec native/bad-config "domxml-from-native xen-xl $G/oracle/bad/malformed.xml"
	run_batch native
}

# the wrong calls; o-pv is started paused for those on a running guest
area_errors() {
	for _c in dominfo start dumpxml undefine destroy domstate; do sec "errors/$_c-unknown" "$_c nosuch"; done
	sec errors/dominfo-unknown-id "dominfo 4242"
	sec errors/dominfo-unknown-uuid "dominfo 6ba7b810-9dad-11d1-80b4-00c04fd430c8"
	for _f in $G/oracle/bad/*.xml; do
		case $_f in */dup-*) continue ;; esac
		# a definition wrongly taken must not stay for the rest of the session
		_n=$(name_of "$_f")
		sec "errors/define-$(basename "$_f" .xml)" "define $_f${_n:+; undefine $_n}"
	done
	sec errors/create-malformed "create $G/oracle/bad/malformed.xml"
	sec errors/start-macvtap "define $G/oracle/bad/nic-macvtap.xml; start bad-direct; undefine bad-direct"
	sec errors/define-o-pv "define $G/oracle/o-pv.xml"
	sec errors/define-dup-uuid "define $G/oracle/bad/dup-uuid.xml"
	sec errors/define-dup-name "define $G/oracle/bad/dup-name.xml"
	sec errors/off-destroy "destroy o-pv"
	for _c in suspend resume shutdown reboot; do sec "errors/off-$_c" "$_c o-pv"; done
	sec errors/off-setmem-over-max "setmem o-pv 999999999 --config"
	sec errors/off-setvcpus-over-max "setvcpus o-pv 999 --config"
	sec errors/off-setvcpus-live "setvcpus o-pv 1 --live"
	tuning_off
	# o-pv's one start (its disk and NIC make it the slowest to start): its live XML here too
	sec errors/start-paused "start --paused o-pv; domstate --reason o-pv; dumpxml o-pv; dominfo o-pv"
	sec errors/start-twice "start o-pv"
	sec errors/create-running "create $G/oracle/o-pv.xml"
	tuning_live
	sec errors/suspend-paused "suspend o-pv; domstate --reason o-pv"
	sec errors/destroy-graceful "destroy --graceful o-pv"
	sec errors/shutdown-initctl "shutdown --mode initctl o-pv"
	sec errors/shutdown-signal "shutdown --mode signal o-pv"
	sec errors/reboot-initctl "reboot --mode initctl o-pv"
	sec errors/undefine-running-nvram "undefine --nvram o-pv; dominfo o-pv"
	sec errors/destroy "destroy o-pv; domstate --reason o-pv"
	sec errors/destroy-twice "destroy o-pv"
	sec errors/undefine-twice "undefine o-pv"
	for _c in suspend resume shutdown reboot destroy; do sec "errors/dom0-$_c" "$_c Domain-0"; done
	sec errors/dom0-autostart "autostart Domain-0"
	sec errors/dom0-managedsave "managedsave Domain-0"
	sec errors/dom0-save "save Domain-0 $TMPD/oracle-dom0.save"
	sec errors/dom0-undefine "undefine Domain-0"
	sec errors/dom0-after "list --all; dominfo Domain-0"
	run_batch errors
}

# ---- tuning (issue 6: vCPUs, scheduler, NUMA; issue 7: memory statistics), each call's answer
# and error on both daemons, in the errors area's batch on its o-pv (no start of its own):
# tuning_off while o-pv is defined and shut off, on it and on o-tune, a copy of it only
# defined (its persistent changes would otherwise reach o-pv's start), and tuning_live while
# o-pv runs paused. The sections are tuning/* (check oracle-tuning); console/* likewise.
tuning_off() {
	sed -e 's|<name>o-pv</name>|<name>o-tune</name>|' -e '/<uuid>/d' $G/oracle/o-pv.xml >$TMPD/o-tune.xml
	sec tuning/config "define $TMPD/o-tune.xml; setmem o-tune 100M --config; setmaxmem o-tune 200M --config; setvcpus o-tune 3 --config --maximum; setvcpus o-tune 2 --config; vcpupin o-tune 1 0 --config; vcpupin o-tune --config; vcpucount o-tune; dominfo o-tune; dumpxml --inactive o-tune"
	sec tuning/config-current "setmem o-tune 90M; setvcpus o-tune 1; vcpupin o-tune 0 0-1; vcpucount o-tune; vcpupin o-tune; dominfo o-tune"
	sec tuning/config-errors "setmem o-tune 300M --config; setvcpus o-tune 4 --config; setvcpus o-tune 0 --config; vcpupin o-tune 5 0 --config; vcpupin o-tune 0 99 --config; schedinfo o-tune --config --set weight=300"
	sec tuning/config-maxmem-below "setmaxmem o-tune 64M --config; dominfo o-tune"
	sec tuning/config-link "domif-getlink o-tune 00:16:3e:4f:1c:2a --config; domif-setlink o-tune 00:16:3e:4f:1c:2a down --config; domif-getlink o-tune 00:16:3e:4f:1c:2a --config"
	sec tuning/config-others "memtune o-tune --config; numatune o-tune --config; blkiotune o-tune --config; dommemstat o-tune --period 5 --config; undefine o-tune"
	sec tuning/off-live "setmem o-pv 100M --live; setmaxmem o-pv 200M --live; vcpupin o-pv 0 0 --live; vcpupin o-pv --live"
	sec tuning/off-schedinfo "schedinfo o-pv; schedinfo o-pv --set weight=512"
	sec tuning/off-others "numatune o-pv; memtune o-pv; blkiotune o-pv; domtime o-pv; dommemstat o-pv; dommemstat o-pv --period 5; domif-getlink o-pv 00:16:3e:4f:1c:2a"
	sec console/off "ttyconsole o-pv; console o-pv"
}
tuning_live() {
	sec tuning/setmem-live "setmem o-pv 100M --live; dominfo o-pv; dommemstat o-pv"
	sec tuning/setmem-current "setmem o-pv 110M; dominfo o-pv"
	sec tuning/setmem-config "setmem o-pv 150M --config; dominfo o-pv; dumpxml --inactive o-pv"
	sec tuning/setmem-errors "setmem o-pv 300M --live; setmem o-pv 300M --config; setmem o-pv 100M --live --config --current"
	sec tuning/setmaxmem "setmaxmem o-pv 200M --live; dominfo o-pv; setmaxmem o-pv 180M --config; dominfo o-pv; dumpxml --inactive o-pv"
	sec tuning/setvcpus-live "setvcpus o-pv 2 --live; vcpucount o-pv; dominfo o-pv"
	sec tuning/setvcpus-config "setvcpus o-pv 1 --config; vcpucount o-pv"
	sec tuning/setvcpus-errors "setvcpus o-pv 3 --live; setvcpus o-pv 2 --live --maximum; setvcpus o-pv 0 --live; setvcpus o-pv 3 --config"
	sec tuning/vcpupin-live "vcpupin o-pv 1 0 --live; vcpupin o-pv; vcpupin o-pv --config"
	sec tuning/vcpupin-config "vcpupin o-pv 1 0-1 --config; vcpupin o-pv --config; vcpupin o-pv"
	sec tuning/vcpupin-errors "vcpupin o-pv 5 0; vcpupin o-pv 0 99"
	sec tuning/schedinfo-set "schedinfo o-pv --set weight=512; schedinfo o-pv --set cap=50; schedinfo o-pv; schedinfo o-pv --set weight=256 --set cap=0; schedinfo o-pv"
	sec tuning/schedinfo-errors "schedinfo o-pv --set weight=0; schedinfo o-pv --set cap=1000; schedinfo o-pv --set nosuch=1; schedinfo o-pv --config --set weight=300; schedinfo o-pv --live --set weight=300"
	sec tuning/numatune "numatune o-pv; numatune o-pv --live; numatune o-pv --mode strict --nodeset 0"
	sec tuning/memtune "memtune o-pv; memtune o-pv --hard-limit 200000"
	sec tuning/blkiotune "blkiotune o-pv; blkiotune o-pv --weight 500"
	sec tuning/domif-link "domif-getlink o-pv 00:16:3e:4f:1c:2a; domif-setlink o-pv 00:16:3e:4f:1c:2a down; domif-getlink o-pv 00:16:3e:4f:1c:2a; domif-getlink o-pv 00:16:3e:00:00:99"
	sec tuning/domtime "domtime o-pv; domtime o-pv --now; domtime o-pv --sync"
	sec tuning/dommemstat-period "dommemstat o-pv --period 5 --live; dommemstat o-pv --period 5 --config; dommemstat o-pv --period -1"
	sec console/paused "ttyconsole o-pv"
}

# vx-pv and vx-dev (disk, NIC) booted: their live XML, lists, states, vCPUs, scheduler,
# statistics, a disk attached to and detached from the running vx-dev; autostart, suspend,
# resume, reboot, save, restore, managed save and its start, and shutdown of vx-pv, destroy
# of vx-dev; a transient guest. The figures are taken on the way, from the same boots (the
# session boots a PV guest once and reboots it once, which is most of its time under TCG):
# vx-pv's starts (the rounds' and the booting one), start until its marker, the throughput
# of lookups and dumpxml of it running, reboot until the new boot's marker, save, restore,
# shutdown until xl no longer lists it; destroy, the rounds'.
area_running() {
	# (each count of a guest's console lines is taken before the start that adds one)
	_d=$(($(con_count vx-dev 'DOMU-NET-(OK|FAIL)') + 1))
	sec running/define "define $G/vx-pv.xml; define $G/vx-dev.xml; start vx-dev"
	run_batch running
	[ -n "${ORACLE_NO_FIGURES:-}" ] || rounds
	_m=$(($(con_count vx-pv DOMU-MARKER-OK) + 1))
	if timed running/start-pv start vx-pv; then
		STARTS="$STARTS $T"
		wait_con_fast vx-pv $_m 1200 && fig start-to-marker "$(since "$_t")" || echo "oracle: $SIDE: vx-pv did not boot"
	fi
	! xl domid vx-dev >/dev/null 2>&1 || wait_con vx-dev 'DOMU-NET-(OK|FAIL)' $_d 120 || echo "oracle: $SIDE: $WHY"
	[ -z "$STARTS" ] || fig start "$(mean $STARTS)"
	[ -z "$DESTROYS" ] || fig destroy "$(mean $DESTROYS)"
	for _l in list "list --all" "list --inactive" "list --all --name" "list --all --uuid" "list --all --id" \
		"list --all --title" "list --all --table" "list --state-running" "list --state-shutoff" "list --state-paused" \
		"list --state-other" "list --persistent" "list --transient" "list --autostart" "list --no-autostart" \
		"list --with-managed-save" "list --without-managed-save" "list --managed-save" \
		"list --with-snapshot" "list --without-snapshot" "list --with-checkpoint" "list --without-checkpoint"; do
		sec "running/$(echo "$_l" | sed 's/ --/-/g')" "$_l" # running/list-all-id
	done
	sec running/dumpxml-pv "dumpxml vx-pv"
	sec running/dumpxml-pv-inactive "dumpxml --inactive vx-pv"
	sec running/dumpxml-pv-secure "dumpxml --security-info vx-pv"
	sec running/dumpxml-dev "dumpxml vx-dev"
	sec running/dominfo-pv "dominfo vx-pv"
	sec running/dominfo-dev "dominfo vx-dev"
	sec running/domstate-pv "domstate --reason vx-pv"
	sec running/domblklist "domblklist vx-dev"
	sec running/domblklist-details "domblklist --details vx-dev"
	sec running/domblklist-inactive "domblklist --inactive vx-dev"
	sec running/domblklist-pv "domblklist vx-pv"
	sec running/domiflist "domiflist vx-dev"
	sec running/domiflist-inactive "domiflist --inactive vx-dev"
	sec running/domuuid-domname "domuuid vx-dev; domname vx-dev"
	sec running/dom0 "dumpxml Domain-0; dominfo Domain-0; domstate --reason Domain-0; domblklist Domain-0; domiflist Domain-0"
	# vCPUs and the scheduler (issue 6); statistics (issue 7), whose counters vxoracle
	# normalizes: their keys and shape are compared, not the traffic of the moment
	sec running/vcpuinfo "vcpuinfo vx-dev; vcpuinfo Domain-0"
	sec running/vcpupin "vcpupin vx-dev; vcpupin vx-dev --vcpu 0"
	sec running/vcpucount "vcpucount vx-dev"
	sec running/schedinfo "schedinfo vx-dev; schedinfo Domain-0"
	sec running/domblkstat "domblkstat vx-dev xvda"
	sec running/domblkstat-bad "domblkstat vx-dev xvdz"
	_vif=vif$(xl domid vx-dev 2>/dev/null).0
	sec running/domifstat "domifstat vx-dev $_vif"
	sec running/domifstat-bad "domifstat vx-dev vif4242.0"
	sec running/dommemstat "dommemstat vx-dev"
	sec running/cpu-stats "cpu-stats vx-dev --total"
	sec running/domjobinfo "domjobinfo vx-dev"
	# bulk statistics (issue 7): libvirt's libxl driver has no virConnectGetAllDomainStats
	for _g in "" --state --cpu-total --balloon --vcpu --interface --block; do
		sec "stats/domstats${_g:+-${_g#--}}" "domstats $_g vx-dev"
	done
	sec stats/domstats-all "domstats"
	sec stats/domstats-list-running "domstats --list-running --state"
	sec stats/domstats-list-shutoff "domstats --list-shutoff --state"
	sec stats/domstats-enforce "domstats --enforce --perf vx-dev"
	# jobs, snapshots and checkpoints (issues 15, 18): what libvirt's libxl driver lacks
	sec jobs/domjobabort "domjobabort vx-dev"
	sec jobs/domjobinfo-completed "domjobinfo --completed vx-dev"
	sec jobs/snapshot-list-running "snapshot-list vx-dev"
	sec jobs/checkpoint-list "checkpoint-list vx-dev"
	sec jobs/managedsave-dumpxml-none "managedsave-dumpxml vx-dev"
	sec jobs/save-image-dumpxml-missing "save-image-dumpxml $TMPD/oracle-nosuch.save"
	sec running/autostart "autostart vx-pv; dominfo vx-pv; list --autostart; autostart --disable vx-pv"
	sec running/suspend "suspend vx-pv; domstate --reason vx-pv; dominfo vx-pv; list --state-paused"
	sec running/resume "resume vx-pv; domstate --reason vx-pv"
	# device hotplug (issue 10): a disk attached to the running vx-dev, its live XML; detached
	# once the guest has seen it (its init reports it), the live XML again
	dd if=/dev/zero of=$HOTIMG bs=1k count=4096 2>/dev/null
	_b=$(($(con_count vx-dev 'DOMU-BLK-ADD xvdb') + 1))
	sec running/attach-disk "attach-disk vx-dev $HOTIMG xvdb --live; domblklist vx-dev; dumpxml vx-dev"
	sec running/attach-disk-again "attach-disk vx-dev $HOTIMG xvdb --live"
	run_batch running
	[ -n "${ORACLE_NO_FIGURES:-}" ] || load
	wait_con vx-dev 'DOMU-BLK-ADD xvdb' $_b 60 || echo "oracle: $SIDE: $WHY"
	sec running/detach-disk "detach-disk vx-dev xvdb --live; domblklist vx-dev; dumpxml vx-dev; dumpxml --inactive vx-dev"
	sec running/detach-disk-again "detach-disk vx-dev xvdb --live"
	run_batch running
	area_console
	_m=$(($(con_count vx-pv DOMU-MARKER-OK) + 1))
	timed running/reboot reboot vx-pv && wait_con_fast vx-pv $_m 1200 &&
		fig reboot-to-marker "$(since "$_t")" || echo "oracle: $SIDE: vx-pv's reboot did not boot it again"
	# save and restore (issue 15) of the booted vx-pv, each timed for the figures; then a
	# managed save and the start that restores it
	timed running/save save vx-pv $SAVEIMG && fig save "$T" || echo "oracle: $SIDE: save failed"
	sec running/after-save "domstate --reason vx-pv; dominfo vx-pv; list --all"
	run_batch running
	timed running/restore restore $SAVEIMG && fig restore "$T" || echo "oracle: $SIDE: restore failed"
	rm -f $SAVEIMG
	sec running/after-restore "domstate --reason vx-pv; dominfo vx-pv"
	sec running/managedsave "managedsave vx-pv; domstate --reason vx-pv; dominfo vx-pv; list --with-managed-save; list --managed-save --name"
	sec jobs/managedsave-dumpxml "managedsave-dumpxml vx-pv; managedsave-dumpxml --security-info vx-pv"
	run_batch running
	# the managed save image stays for the other daemon (keep_image): linked before the
	# start that restores it removes it, so that it takes no room of its own until then
	ln "$MSAVE/vx-pv.save" "$TMPD/oracle-xchg-$SIDE.save" || echo "oracle: $SIDE: no managed save image to keep"
	sec running/managedsave-start "start vx-pv; domstate --reason vx-pv; list --with-managed-save"
	run_batch running
	keep_image
	timed running/shutdown shutdown vx-pv && wait_gone_fast vx-pv 900 &&
		fig shutdown "$(since "$_t")" || echo "oracle: $SIDE: vx-pv did not shut down"
	sec running/after-shutdown "domstate --reason vx-pv; dominfo vx-pv"
	sec running/destroy "destroy vx-dev; domstate --reason vx-dev; dominfo vx-dev; list --all"
	# a disk-only snapshot of the shut-off vx-dev (ours: a qcow2 overlay over its raw image),
	# its metadata dropped again so that the undefine below takes it
	sec jobs/snapshot-create-disk-only "snapshot-create-as vx-dev o-snap --disk-only --diskspec xvda,file=$TMPD/oracle-snap.qcow2; snapshot-list vx-dev; snapshot-current vx-dev --name; domblklist vx-dev"
	sec jobs/snapshot-delete-metadata "snapshot-delete vx-dev o-snap --metadata; snapshot-list vx-dev"
	sec running/transient "create --paused $G/oracle/o-transient.xml; list --transient; dominfo o-transient; dumpxml o-transient; destroy o-transient; dominfo o-transient"
	sec running/undefine "undefine vx-pv; undefine vx-dev; list --all"
	run_batch running
	rm -f $HOTIMG $TMPD/oracle-snap.qcow2
}
# ---- the console (issue 9): virsh console runs only on a terminal, so these run on
# script(1)'s pty. A session on the booted vx-pv (the guest answers a typed line with
# DOMU-ECHO), a second one refused while it is open, one with --force that takes the console
# over (the first ends), and the wrong calls; ttyconsole of both guests. A session's
# transcript keeps virsh's lines and the guest's answer (the guest's boot output, which the
# pty held for whoever connects first, and its echo of the typed line are not compared).
area_console() {
	sec console/ttyconsole "ttyconsole vx-pv; ttyconsole vx-dev; ttyconsole Domain-0"
	sec console/errors "console vx-pv nosuch; console vx-pv --safe; console Domain-0; console nosuch"
	run_tty_batch console
	con_open a vx-pv || echo "oracle: $SIDE: $WHY"
	con_line a oracle-con-a || echo "oracle: $SIDE: $WHY"
	sec console/busy "console vx-pv"
	run_tty_batch console
	con_open b "--force vx-pv" || echo "oracle: $SIDE: $WHY"
	con_line b oracle-con-b || echo "oracle: $SIDE: $WHY"
	# the first session ends by itself once the second forced it out; ^] if it did not
	con_end a 10 noescape
	con_end b 10
	con_section console/session a
	con_section console/session-force b
}
# run_tty_batch AREA: run_batch on script(1)'s pty
run_tty_batch() {
	_tb=$(now)
	rm -f $TMPD/oracle-tty.in $TMPD/oracle-tty.out
	mkfifo $TMPD/oracle-tty.in
	script -q -f -c "timeout 30 virsh -t -c '$URI' '$B'" $TMPD/oracle-tty.out <$TMPD/oracle-tty.in >/dev/null 2>&1 &
	_sp=$!
	exec 4>$TMPD/oracle-tty.in
	_j=0
	while kill -0 $_sp 2>/dev/null && [ $_j -lt 350 ]; do sleep 0.1; _j=$((_j + 1)); done
	kill $_sp 2>/dev/null || true
	exec 4>&-
	wait $_sp 2>/dev/null || true
	# (script(1) writes a header and a footer into its file even with -q when its input is
	# no terminal)
	tr -d '\r' <$TMPD/oracle-tty.out | grep -a -v -E '^(Script (started|done) on |Authorization not available)' >>"$OD/$1.txt"
	rm -f $TMPD/oracle-tty.in $TMPD/oracle-tty.out
	echo "oracle: $SIDE: $1 batch on a pty in $(since "$_tb") s"
	B=
}
# con_open ID ARGS: "virsh console ARGS" on script(1)'s pty in the background, its input the
# fifo $TMPD/oracle-con-ID.in (held open on fd 5 or 6), its output $TMPD/oracle-con-ID.out;
# until it says "Escape character" (30 s)
con_open() {
	rm -f $TMPD/oracle-con-$1.in $TMPD/oracle-con-$1.out
	mkfifo $TMPD/oracle-con-$1.in
	script -q -f -c "virsh -c '$URI' console $2" $TMPD/oracle-con-$1.out <$TMPD/oracle-con-$1.in >/dev/null 2>&1 &
	eval "CONPID_$1=$!"
	if [ "$1" = a ]; then exec 5>$TMPD/oracle-con-$1.in; else exec 6>$TMPD/oracle-con-$1.in; fi
	con_wait "$1" 'Escape character' 30
}
# con_wait ID REGEX SECS: until session ID's output has a line matching REGEX
con_wait() {
	_j=0
	until tr -d '\r' <$TMPD/oracle-con-$1.out 2>/dev/null | grep -a -q -E "$2"; do
		[ $_j -lt $(($3 * 10)) ] || { WHY="console session $1 printed no '$2' within $3 s: $(tail -c 200 $TMPD/oracle-con-$1.out 2>/dev/null | tr -d '\r' | tr '\n' '|')"; return 1; }
		sleep 0.1
		_j=$((_j + 1))
	done
}
# con_line ID TOKEN: type TOKEN into session ID, until the guest's DOMU-ECHO of it (30 s)
con_line() {
	if [ "$1" = a ]; then printf '%s\r' "$2" >&5; else printf '%s\r' "$2" >&6; fi
	con_wait "$1" "DOMU-ECHO $2" 30
}
# con_end ID SECS [noescape]: ^] into session ID (at once, or with noescape after SECS if it
# still runs), until it exits
con_end() {
	eval "_p=\$CONPID_$1"
	_j=0
	if [ -z "${3:-}" ]; then
		if [ "$1" = a ]; then printf '\035' >&5; else printf '\035' >&6; fi
	fi
	while kill -0 $_p 2>/dev/null; do
		if [ $_j = $(($2 * 10)) ]; then
			echo "oracle: $SIDE: console session $1 still runs after $2 s; ^]"
			if [ "$1" = a ]; then printf '\035' >&5; else printf '\035' >&6; fi
		fi
		[ $_j -lt $(($2 * 20)) ] || { kill $_p; break; }
		sleep 0.1
		_j=$((_j + 1))
	done
	wait $_p 2>/dev/null || true
	if [ "$1" = a ]; then exec 5>&-; else exec 6>&-; fi
}
# con_section SECTION ID: session ID's transcript into console.txt: virsh's first two lines,
# then from the guest's answer on (what virsh printed when it ended), blank lines and
# script(1)'s footer aside
con_section() {
	{
		echo "@@@ $1"
		tr -d '\r' <$TMPD/oracle-con-$2.out | awk '/^Script (started|done) on / { next } /^(Connected to domain|Escape character)/ { print; next } /DOMU-ECHO oracle-con-/ { on = 1; sub(/^.*DOMU-ECHO/, "DOMU-ECHO") } on && NF' 
	} >>"$OD/console.txt"
	rm -f $TMPD/oracle-con-$2.in $TMPD/oracle-con-$2.out
}
# keep_image: vx-pv's managed save image, linked as $TMPD/oracle-xchg-SIDE.save, stays for
# the other daemon to read and restore (area_xchg_in), sparse: only the guest's pages that are
# not zero (about half) take room in dom0's root tmpfs, which has room for one whole image
# beside what the session has there, not for two (ENOSPC: libxl's saves, xenstored, userdata)
keep_image() {
	_k=$TMPD/oracle-xchg-$SIDE.save
	[ -f "$_k" ] || return 0
	if [ -s "$_k" ] && $XT/vxoracle sparse "$_k"; then
		echo "oracle: $SIDE: save image kept for the other daemon ($(du -k "$_k" | cut -f1) KiB in use)"
	else
		echo "oracle: $SIDE: the managed save image could not be kept"
		rm -f "$_k"
	fi
}

# ---- PCI (issue 16): nodedev-detach, -reset, -reattach of the NIC run.sh gives dom0, by
# node device name, with their errors; a PV guest started paused with it as a managed
# hostdev (when Xen has an IOMMU), its live XML, the device in use, and its return at
# destroy. libvirt's libxl driver takes these calls itself and asks libvirtd's node device
# driver for the device; ours asks a libvirtd beside it (start_beside), as virsh-pci.
area_pci() {
	_a=$(pci_find "$PCI_ID") || { echo "oracle: $SIDE: dom0 has no PCI device $PCI_ID"; return 0; }
	_nat=$(pci_driver "$_a")
	_nd=pci_$(echo "$_a" | tr ':.' '__')
	[ "$SIDE" != virtxend ] || start_beside || { echo "oracle: $SIDE: $WHY"; return 0; }
	sec pci/list "nodedev-list --cap pci"
	sec pci/dumpxml "nodedev-dumpxml $_nd"
	sec pci/reattach-attached "nodedev-reattach $_nd; nodedev-dumpxml $_nd"
	sec pci/reset-attached "nodedev-reset $_nd"
	sec pci/detach "nodedev-detach $_nd; nodedev-dumpxml $_nd"
	sec pci/detach-again "nodedev-detach $_nd"
	sec pci/reset "nodedev-reset $_nd"
	sec pci/reattach "nodedev-reattach $_nd; nodedev-dumpxml $_nd"
	sec pci/detach-driver-xen "nodedev-detach --driver xen $_nd; nodedev-dumpxml $_nd; nodedev-reattach $_nd"
	sec pci/detach-driver-vfio "nodedev-detach --driver vfio $_nd; nodedev-dumpxml $_nd; nodedev-reattach $_nd"
	sec pci/unknown "nodedev-detach pci_0000_09_00_0; nodedev-reset pci_0000_09_00_0; nodedev-reattach pci_0000_09_00_0; nodedev-detach nosuch"
	sec pci/not-pci "nodedev-detach computer; nodedev-reset computer; nodedev-reattach computer"
	if timeout 30 xl info | grep '^virt_caps' | grep -q -w pv_directio; then
		sed -e "s|<name>vx-pv</name>|<name>o-pci</name>|" -e "s|<devices>|<devices><hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0x${_a%%:*}' bus='0x$(echo "$_a" | cut -d: -f2)' slot='0x$(echo "$_a" | cut -d: -f3 | cut -d. -f1)' function='0x${_a##*.}'/></source></hostdev>|" \
			$G/vx-pv.xml >$TMPD/o-pci.xml
		sec pci/hostdev-start "define $TMPD/o-pci.xml; start --paused o-pci; domstate --reason o-pci; nodedev-dumpxml $_nd"
		sec pci/hostdev-dumpxml "dumpxml o-pci; dumpxml --inactive o-pci"
		sec pci/hostdev-in-use "nodedev-reattach $_nd; nodedev-reset $_nd; nodedev-detach $_nd"
		sec pci/hostdev-destroy "destroy o-pci; nodedev-dumpxml $_nd; undefine o-pci"
	else
		echo "oracle: $SIDE: Xen has no IOMMU: no guest with the device"
	fi
	run_batch pci
	# the next side starts from the device on its own driver
	[ "$(pci_driver "$_a")" = "$_nat" ] || { echo "oracle: $SIDE: $_a left on '$(pci_driver "$_a")'"; pci_bind "$_a" "$_nat" || echo "oracle: $WHY"; }
	[ "$SIDE" != virtxend ] || stop_beside
}
# start_beside, stop_beside: Debian's libvirtd (no libxl driver) on virtxend's run directory,
# where virtxend looks for libvirt's node device driver; BPID is its pid
start_beside() {
	mkdir -p /etc/libvirt $VR/run/libvirt
	printf 'unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' $VR/run/libvirt >/etc/libvirt/libvirtd-beside.conf
	libvirtd -f /etc/libvirt/libvirtd-beside.conf -p /run/libvirtd-beside.pid >>/var/log/libvirtd-beside.log 2>&1 &
	BPID=$!
	_i=0
	# (through virtxend, as virsh-net-vol: libvirtd has no driver of its own for xen:///)
	until V nodedev-list --cap pci >/dev/null 2>&1; do
		kill -0 $BPID 2>/dev/null || { WHY="libvirtd beside virtxend exited: $(tail -n 2 /var/log/libvirtd-beside.log | tr '\n' ' ')"; return 1; }
		[ $_i -lt 120 ] || { WHY="libvirtd beside virtxend did not serve within 60 s"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
stop_beside() {
	kill $BPID 2>/dev/null || true
	wait $BPID 2>/dev/null || true
}

# ---- save images across the daemons (issue 15): both write libvirt's libxl save header, the
# domain XML and libxl's stream. Each side keeps its own managed save image of vx-pv
# (keep_image) and reads it (area_xchg_own: libvirt 9.0's libxl driver has no
# save-image-dumpxml, which is listed); the other daemon then reads it and restores it, ours
# at its session's start (area_xchg_in, before any save of its own), libvirt's in a short
# session of its own after ours (side_xchg). The sections are named by whose image they
# read, so each compares the two daemons on the same image.
area_xchg_own() {
	[ -f "$TMPD/oracle-xchg-$SIDE.save" ] || return 0
	sec "xchg/image-$SIDE" "save-image-dumpxml $TMPD/oracle-xchg-$SIDE.save"
	run_batch xchg
}
area_xchg_in() {
	_o=libvirt
	[ "$SIDE" = virtxend ] || _o=virtxend
	[ -f "$TMPD/oracle-xchg-$_o.save" ] || return 0
	mv "$TMPD/oracle-xchg-$_o.save" $XCHG
	sec "xchg/image-$_o" "save-image-dumpxml $XCHG"
	sec xchg/restore "restore $XCHG; domstate --reason vx-pv; dominfo vx-pv; dumpxml vx-pv; list --all"
	run_batch xchg
	# a guest that did not survive its resume (on_crash destroy) is gone by now
	sleep 2
	sec xchg/restored "domstate --reason vx-pv; destroy vx-pv; list --all"
	run_batch xchg
	rm -f $XCHG
}
# side_xchg: after ours, libvirt's daemon again, on ours' image alone
side_xchg() {
	SIDE=$1
	OD=$O/$1
	_ts=$(now)
	area_xchg_in
	echo "oracle: $1: save image of virtxend read and restored in $(since "$_ts") s"
}

# timed SECTION VIRSH-ARGS...: one virsh command against URI as section SECTION of the
# running area's transcript; T is its wall time (virsh's connection included, as a client
# sees it), _t when it began
timed() {
	echo "@@@ $1" >>"$OD/running.txt"
	shift
	_t=$(now)
	_rc=0
	timeout 120 virsh -t -c "$URI" "$@" >>"$OD/running.txt" 2>&1 || _rc=$?
	T=$(since "$_t")
	return $_rc
}
# mean X...: their mean, two decimals
mean() { echo "$@" | awk '{ for (i = 1; i <= NF; i++) s += $i; if (NF) printf "%.2f", s / NF }'; }
# con_count NAME REGEX: how many lines of guest NAME's console match REGEX so far (0 before
# its first start)
con_count() {
	_c=$(grep -a -c -E "$2" "$CONLOG/guest-$1.log" 2>/dev/null || true)
	echo "${_c:-0}"
}
# state_off NAME SECS: wait until the guest is shut off (xl no longer lists it)
state_off() { wait_gone "$1" "$2" || echo "oracle: $SIDE: $WHY"; }

# guests started paused, for their live XML and for the libxl JSON of their start: one of
# each kind not started elsewhere (o-pv is, in area_errors; vx-pv and vx-dev in area_running),
# as each start costs seconds under TCG, an HVM one's device model most
area_started() {
	for _f in $G/oracle/o-pvh.xml $G/oracle/o-hvm.xml; do
		_n=$(name_of "$_f")
		sec "started/$_n" "define $_f; start --paused $_n; dumpxml $_n; domstate --reason $_n; dominfo $_n; destroy $_n; undefine $_n"
	done
	run_batch started
}

# archive PATH...: those files below $O on the console, for run.sh (oracle-host.sh) to unpack
# into $XEN_WORK/oracle; each side's as soon as its session ended
archive() {
	echo "ORACLE-ARCHIVE-BEGIN"
	(cd "$O" && ls "$@" >/dev/null 2>&1 && tar -czf - "$@" | base64)
	echo "ORACLE-ARCHIVE-END"
}

# ---- the figures: FIGURE SIDE WHAT VALUE (most are taken in area_running, on its boots)
fig() { echo "FIGURE $SIDE $1 $2" | tee -a "$O/figures.txt"; }
V() { timeout 120 virsh -q -c "$URI" "$@"; }
# rounds: ORACLE_ROUNDS (default 2) starts of the defined vx-pv, each destroyed at once (before
# its kernel is far), into STARTS and DESTROYS
rounds() {
	_n=0
	while [ $_n -lt "${ORACLE_ROUNDS:-2}" ]; do
		_t=$(now)
		V start vx-pv >/dev/null 2>&1 || { echo "oracle: figures: start failed"; return 0; }
		STARTS="$STARTS $(since "$_t")"
		_t=$(now)
		V destroy vx-pv >/dev/null 2>&1 || { echo "oracle: figures: destroy failed"; return 0; }
		DESTROYS="$DESTROYS $(since "$_t")"
		_n=$((_n + 1))
	done
}
# load: the throughput of version, lookups and dumpxml of the running vx-pv, 4 connections
load() {
	[ -x $XT/virtxend-load ] || return 0
	$XT/virtxend-load -socket "$SOCK" -domain vx-pv -workloads version,lookup,dumpxml -conns 4 \
		-duration "${ORACLE_LOAD:-2s}" -pid $SPID -json >"$O/$SIDE/load.json" 2>"$O/$SIDE/load.err" || true
	sed "s/^/FIGURE $SIDE load /" "$O/$SIDE/load.json" | tee -a "$O/figures.txt"
}
# wait_gone_fast NAME TENTHS, wait_con_fast NAME COUNT TENTHS: as wait_gone and wait_con, polled
# every 0.1 s, so that the figures are not rounded up to the next second
wait_gone_fast() {
	_i=0
	while xl domid "$1" >/dev/null 2>&1; do
		[ $_i -lt "$2" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}
wait_con_fast() {
	_i=0
	until [ "$(con_count "$1" DOMU-MARKER-OK)" -ge "$2" ]; do
		[ $_i -lt "$3" ] || return 1
		sleep 0.1
		_i=$((_i + 1))
	done
}

# side NAME: the whole session and the figures against the daemon now running
side() {
	SIDE=$1
	OD=$O/$1
	MSAVE=/var/lib/libvirt/libxl/save # where its managed saves go
	[ "$1" = libvirt ] || MSAVE=$VR/var/lib/libvirt/libxl/save
	echo "=== oracle: session against $1 (up in $UP s)"
	fig daemon-up "$UP"
	STARTS= DESTROYS=
	_ts=$(now)
	area_xchg_in
	area_host
	area_define
	area_native
	area_errors
	area_running
	area_started
	area_pci
	area_xchg_own
	echo "oracle: $1 session in $(since "$_ts") s"
	fig session "$(since "$_ts")"
}

# side_save NAME (run.sh ONLY=save): only the save figures against the daemon now running:
# vx-pv booted, then SAVE_ROUNDS saves and restores of it, each timed, their means as the
# save and restore figures
side_save() {
	SIDE=$1
	OD=$O/$1
	echo "=== oracle: saves against $1 (up in $UP s)"
	fig daemon-up "$UP"
	_m=$(($(con_count vx-pv DOMU-MARKER-OK) + 1))
	V define $G/vx-pv.xml >/dev/null 2>&1 || echo "oracle: $SIDE: define failed"
	if timed running/start-pv start vx-pv && wait_con_fast vx-pv $_m 1200; then
		_s= _r= _n=0
		while [ $_n -lt "${SAVE_ROUNDS:-3}" ]; do
			timed running/save save vx-pv $SAVEIMG || { echo "oracle: $SIDE: save failed"; break; }
			_s="$_s $T"
			timed running/restore restore $SAVEIMG || { echo "oracle: $SIDE: restore failed"; break; }
			_r="$_r $T"
			rm -f $SAVEIMG
			_n=$((_n + 1))
		done
		echo "oracle: $SIDE: save$_s s, restore$_r s"
		SAVES="${SAVES:+$SAVES; }$SIDE save$_s s, restore$_r s"
		[ -z "$_s" ] || fig save "$(mean $_s)"
		[ -z "$_r" ] || fig restore "$(mean $_r)"
	else
		echo "oracle: $SIDE: vx-pv did not boot"
	fi
	rm -f $SAVEIMG
	V destroy vx-pv >/dev/null 2>&1 || true
	V undefine vx-pv >/dev/null 2>&1 || true
}

check_start() {
	DEBUG_FN=start_debug
	rm -rf "$O"
	mkdir -p "$O/libvirt/json" "$O/virtxend/json"
	# both sessions start from a host with Domain-0 alone (the checks before may leave a guest)
	for _n in $(timeout 30 xl list 2>/dev/null | awk 'NR > 2 { print $1 }'); do
		echo "oracle: $_n left running by the checks before; destroying it"
		timeout 60 xl destroy "$_n" || true
	done
	rm -f $TMPD/oracle-xchg*.save
	# the NIC for area_pci: its driver and pciback (as virsh-pci, which ONLY=oracle skips)
	pci_modules || echo "oracle: $WHY"
	URI=$LURI SOCK=$LSOCK
	start_libvirtd || return 1
	$SIDE_FN libvirt
	stop_daemon
	rm -f $LXMOD
	fig daemon-rss "${RSS:-?}"
	$XT/vxoracle json-libvirt /var/log/libvirt/libxl "$O/libvirt/json" || true
	archive libvirt
	URI=$VURI SOCK=$VSOCK
	SIDE=virtxend
	start_virtxend || return 1
	$SIDE_FN virtxend
	stop_daemon
	fig daemon-rss "${RSS:-?}"
	if [ "$SIDE_FN" = side_save ]; then
		archive figures.txt
		DETAIL="libvirtd with libvirt's libxl driver, then virtxend: ${SAVES:-no saves}"
		return 0
	fi
	$XT/vxoracle json-virtxend $VLOG "$O/virtxend/json" || true
	archive virtxend
	if [ -f $TMPD/oracle-xchg-virtxend.save ]; then
		URI=$LURI SOCK=$LSOCK
		start_libvirtd || return 1
		side_xchg libvirt
		stop_daemon
		rm -f $LXMOD
		archive libvirt/xchg.txt
	fi
	rm -f $TMPD/oracle-xchg*.save
	DETAIL="libvirtd with libvirt's libxl driver, then virtxend: $(awk '$3 == "session" { printf "%s%s %s s", s, $2, $4; s = ", " }' "$O/figures.txt")"
}
start_debug() {
	echo "--- libvirtd log"
	tail -n 20 $LLOG
	echo "--- virtxend log"
	tail -n 20 /var/log/virtxend-oracle.out
}

# ORACLE_LIB=1: only define the functions (to try a session by hand against one daemon)
[ -z "${ORACLE_LIB:-}" ] || return 0
# run.sh packs libvirt's driver, the test inputs, vxoracle and virtxend-load (dom0's root tmpfs
# has no room for them unpacked while the save checks run)
if [ -f $XT/oracle.tgz ]; then
	tar -xzf $XT/oracle.tgz -C $XT && rm -f $XT/oracle.tgz || echo "oracle: $XT/oracle.tgz did not unpack"
fi
if [ ! -f $XT/oracle-driver/libvirt_driver_libxl.so ] || [ ! -x $XT/vxoracle ]; then
	for c in $CHECKS; do echo "CHECK SKIP $c: libvirt's libxl driver or vxoracle is not in the image"; done
	exit 0
fi
SIDE_FN=side
if [ "${XT_ONLY:-}" = save ]; then
	# run.sh ONLY=save: the save figures alone, no session to compare
	SIDE_FN=side_save
	run_check oracle-start check_start
	for c in ${CHECKS#oracle-start }; do skip $c "not run (ONLY=save)"; done
	exit 0
fi
run_check oracle-start check_start
if [ -s "$O/libvirt/host.txt" ] && [ -s "$O/virtxend/host.txt" ]; then
	if $XT/vxoracle compare -known $XT/oracle-known.txt -inputs $G -inputs $IN "$O/libvirt" "$O/virtxend" >$TMPD/oracle-compare.out 2>&1; then
		cat $TMPD/oracle-compare.out
	else
		for c in ${CHECKS#oracle-start }; do echo "CHECK FAIL $c: vxoracle: $(tail -n 1 $TMPD/oracle-compare.out)"; done
	fi
else
	for c in ${CHECKS#oracle-start }; do echo "CHECK FAIL $c: no session to compare (oracle-start failed)"; done
fi
archive report.txt figures.txt
