# shellcheck shell=sh
# test/xen/oracle-areas.sh: the areas of the oracle's virsh session that need no terminal and
# no other daemon: host, define, native, errors (with tuning) and running.
# Sourced by oracle.sh, whose settings and session helpers (sec, run_batch, SIDE, URI,
# OD) it uses.

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
	sec host/nodememstats nodememstats
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
	# what libvirt's libxl driver lacks, refused for Domain-0 here (the guests' own are in test/xen's
	# virsh-pv and virsh-stats)
	sec errors/domrename-dom0 "domrename Domain-0 renamed"
	sec errors/inject-nmi-dom0 "inject-nmi Domain-0"
	sec errors/reset-dom0 "reset Domain-0"
	sec errors/screenshot-dom0 "screenshot Domain-0 /tmp/oracle-shot"
	sec errors/set-lifecycle-action-dom0 "set-lifecycle-action Domain-0 crash preserve"
	sec errors/send-key-dom0 "send-key Domain-0 KEY_ESC"
	sec errors/blockresize-dom0 "blockresize Domain-0 xvda 1G"
	sec errors/detach-device-alias-dom0 "detach-device-alias Domain-0 xen-disk0"
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
	# suspend to RAM last, as it may leave o-pv suspended: its destroy follows
	sec tuning/pm-suspend "dompmsuspend o-pv mem; domstate --reason o-pv; dompmwakeup o-pv; domstate --reason o-pv"
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
	area_failed_starts
}

# ---- failed starts (issue 21): the PV guests of daemon-failures.sh that libxl refuses
# half-way (a kernel, a disk image, a bridge that do not exist; more memory than Xen has free,
# which neither daemon balloons for: dom0_mem is fixed), each defined, started once and
# undefined in a batch of its own: the start's error, the state and list after it; then what
# xl lists once the guest is gone (fail_xl), as no batch can ask xl. Domain-0 is alone here.
area_failed_starts() {
	_free=$(timeout 30 xl info 2>/dev/null | awk -F': *' '$1 ~ /^free_memory/ { print $2 }')
	case $_free in "" | *[!0-9]*) echo "oracle: $SIDE: xl info gives no free_memory ('$_free')" ;; esac
	failxml vx-fail-kernel 128 /root/no-such-vmlinuz "" no
	failxml vx-fail-mem $((${_free:-0} + 256)) /root/vmlinuz "" no
	failxml vx-fail-disk 128 /root/vmlinuz "<disk type='file' device='disk'><source file='/root/no-such-disk.img'/><target dev='xvda' bus='xen'/></disk>" no
	failxml vx-fail-nic 128 /root/vmlinuz "<interface type='bridge'><source bridge='nosuchbr0'/></interface>" no
	for _g in vx-fail-kernel vx-fail-mem vx-fail-disk vx-fail-nic; do
		sec "errors/${_g#vx-}" "define $TMPD/$_g.xml; start $_g; domstate --reason $_g; list --all; undefine $_g"
		run_batch errors
		fail_xl $_g "errors/${_g#vx-}-xl" >>"$OD/errors.txt"
	done
}
# fail_xl NAME SECTION: section SECTION, the domains xl lists (by name) once NAME is no longer
# listed and Domain-0 is alone, or after 10 s (a domain libxl destroyed may stay a moment, dying)
fail_xl() {
	echo "@@@ $2"
	_i=0
	while { xl domid "$1" >/dev/null 2>&1 || [ "$(xl list 2>/dev/null | wc -l)" -gt 2 ]; } && [ $_i -lt 10 ]; do
		sleep 1
		_i=$((_i + 1))
	done
	timeout 30 xl list 2>&1 | awk 'NR > 1 { print "xl lists " $1 }'
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
	sec tuning/pm-off "dompmsuspend o-pv mem; dompmwakeup o-pv"
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
	sec tuning/pm-errors "dompmsuspend o-pv disk; dompmsuspend o-pv hybrid; dompmsuspend o-pv mem --duration 60; dompmwakeup o-pv"
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
	# each one, in order: a start after a destroy may wait for Xen to release the memory of
	# the guest destroyed, which the mean hides
	echo "oracle: $SIDE: starts${STARTS:- none}, destroys${DESTROYS:- none} (s)"
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
	sec running/domcontrol "domcontrol vx-dev"
	sec running/domiftune "domiftune vx-dev $_vif"
	sec running/blkdeviotune "blkdeviotune vx-dev xvda"
	sec running/blockjob "blockjob vx-dev xvda --info"
	sec running/domhostname "domhostname vx-dev"
	sec running/domifaddr-arp "domifaddr vx-dev --source arp"
	sec running/migrate-getspeed "migrate-getspeed vx-dev"
	# bulk statistics (issue 7): libvirt's libxl driver has no virConnectGetAllDomainStats
	for _g in "" --state --cpu-total --balloon --vcpu --interface --block; do
		sec "stats/domstats${_g:+-${_g#--}}" "domstats $_g vx-dev"
	done
	sec stats/domstats-all "domstats"
	# nor has it virDomainGetBlockInfo (the sizes of the disks' images) and virDomainGetDiskErrors
	sec stats/domblkinfo "domblkinfo vx-dev xvda; domblkinfo vx-dev --all; domblkinfo vx-dev xvdz; domblkerror vx-dev"
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
