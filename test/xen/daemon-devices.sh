# shellcheck shell=sh
# virsh-pv-disk-nic, virsh-stats and virsh-hotplug: one PV guest with a disk and a NIC,
# its statistics, and devices plugged in and out while it runs. Sourced by daemon-checks.sh,
# whose helpers it uses.

# guest_sees NAME REGEX BEFORE SECS: with the libxl backend, wait until guest NAME's console has
# more than BEFORE lines matching REGEX (what its init reports of hot-plugged devices); the
# simulated host's guests print nothing
guest_sees() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	wait_con "$1" "$2" $(($3 + 1)) "$4"
}
# con_count NAME REGEX: how many lines of guest NAME's console match REGEX so far
con_count() { grep -a -c -E "$2" "$CONLOG/guest-$1.log" 2>/dev/null || true; }

# The PV guest with a disk and a NIC: it reads the disk's magic and pings dom0 over xenbr0. The
# guest stays up for virsh-stats and virsh-hotplug, with its counters as they were right after
# its start (before its kernel ran) in $TMPD/stats-before-*.out.
check_virsh_pv_dev() {
	DEBUG_FN="vguest_debug vx-dev"
	forget vx-dev
	step "virsh define" V define $XT/guests/vx-dev.xml || return 1
	AFTER_START=stats_at_start
	vstart vx-dev || { AFTER_START=; return 1; }
	AFTER_START=
	wait_con vx-dev 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-dev.log || { WHY="guest did not read the disk's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-dev.log || { WHY="guest could not ping dom0 over xenbr0"; return 1; }
	step "virsh domblklist" V domblklist vx-dev || return 1
	grep -q xvda $TMPD/step.out || { WHY="domblklist shows no xvda"; return 1; }
	step "virsh domiflist" V domiflist vx-dev || return 1
	grep -q -E "^ *vif$ID\.0 +bridge +xenbr0 " $TMPD/step.out || { WHY="domiflist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	domifaddr_arp || return 1
	DETAIL="id $ID: disk read, ping over xenbr0, domiflist names vif$ID.0, domifaddr --source arp 169.254.77.2; left running for virsh-stats and virsh-hotplug"
}

# domifaddr_arp: domifaddr --source arp (which libvirt's libxl driver refuses) names vx-dev's
# address in dom0's neighbour table, learnt from its pings (the simulated host's guests send
# none). An entry between states (delay, probe) is left out, as libvirt leaves it, so the
# answer is asked for up to 10 times.
domifaddr_arp() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_i=0
	until V domifaddr vx-dev --source arp >$TMPD/arp.out 2>&1 && grep -q -E "^ *vif$ID\.0 +[0-9a-f:]+ +ipv4 +169\.254\.77\.2/0 *$" $TMPD/arp.out; do
		_i=$((_i + 1))
		[ $_i -lt 10 ] || { WHY="domifaddr --source arp: $(tr -s ' ' <$TMPD/arp.out | tr '\n' ' '); ip neigh: $(ip -4 neigh | tr '\n' ' ')"; return 1; }
		sleep 1
	done
}

# stats_at_start NAME: the disk's and the NIC's counters of the guest just started (vstart's
# AFTER_START), before its kernel has run
stats_at_start() {
	V domblkstat "$1" xvda >$TMPD/stats-before-blk.out 2>&1 || true
	V domifstat "$1" "vif$(V domid "$1").0" >$TMPD/stats-before-if.out 2>&1 || true
}

# statv FILE NAME: the value of NAME in virsh's "[DEV] NAME VALUE" lines (domblkstat, domifstat,
# dommemstat), or in domstats' "NAME=VALUE"; empty when absent
statv() { awk -v k="$2" '{ sub(/^[ \t]+/, "") } $(NF - 1) == k { print $NF; exit } index($0, k "=") == 1 { print substr($0, length(k) + 2); exit }' "$1"; }

# The statistics of vx-dev (left running by virsh-pv-disk-nic, and for virsh-hotplug) on Xen as
# libvirt reads them: blkback's counters of xvda (/sys/bus/xen-backend/devices/vbd-ID-51712/
# statistics) and its vif's line of /proc/net/dev (swapped into the guest's view) grew by its
# disk read and its three pings (each way) since its start; dommemstat has libxl's balloon and
# the definition's 128 MiB; cpu-stats the guest's CPU time; domstats every group of it;
# domjobinfo no job, domcontrol ok; domiftune's rate (vif_rate); domblkinfo xvda's image's sizes;
# domblkerror none; an NMI the guest reports and survives.
check_virsh_stats() {
	DEBUG_FN="vguest_debug vx-dev"
	state vx-dev running 5 || return 1
	ID=$(V domid vx-dev)
	_rd0=$(statv $TMPD/stats-before-blk.out rd_req) _tx0=$(statv $TMPD/stats-before-if.out tx_packets)
	_rx0=$(statv $TMPD/stats-before-if.out rx_packets)
	[ -n "$_rd0" ] && [ -n "$_tx0" ] || { WHY="at start: $(cat $TMPD/stats-before-blk.out $TMPD/stats-before-if.out | tr '\n' ' ' | cut -c1-240)"; return 1; }
	step "virsh domblkstat" V domblkstat vx-dev xvda || return 1
	_rd=$(statv $TMPD/step.out rd_req) _rb=$(statv $TMPD/step.out rd_bytes)
	[ "${_rd:-0}" -gt "$_rd0" ] && [ "${_rb:-0}" -gt 0 ] || { WHY="xvda's reads did not grow: rd_req $_rd0 then $_rd ($(tr '\n' ' ' <$TMPD/step.out))"; return 1; }
	step "virsh domblkstat (all disks)" V domblkstat vx-dev || return 1
	step "virsh domifstat" V domifstat vx-dev "vif$ID.0" || return 1
	_tx=$(statv $TMPD/step.out tx_packets) _rx=$(statv $TMPD/step.out rx_packets)
	[ "${_tx:-0}" -ge $((_tx0 + 3)) ] && [ "${_rx:-0}" -ge $((_rx0 + 3)) ] ||
		{ WHY="vif$ID.0 did not count 3 pings each way: tx $_tx0 then $_tx, rx $_rx0 then $_rx"; return 1; }
	step "virsh dommemstat" V dommemstat vx-dev || return 1
	_act=$(statv $TMPD/step.out actual)
	[ "${_act:-0}" -gt 0 ] && [ "$(statv $TMPD/step.out available)" = 131072 ] || { WHY="dommemstat: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh cpu-stats" V cpu-stats vx-dev || return 1
	grep -q '^CPU0:' $TMPD/step.out && grep -q '^Total:' $TMPD/step.out || { WHY="cpu-stats: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	_cpu=$(awk '/^Total:/ { t = 1 } t && /cpu_time/ { print $2; exit }' $TMPD/step.out)
	step "virsh domstats" V domstats vx-dev || return 1
	for _k in state.state cpu.time balloon.current balloon.maximum vcpu.current vcpu.0.state vcpu.0.time net.count \
		net.0.name net.0.rx.pkts net.0.tx.bytes block.count block.0.name block.0.rd.reqs block.0.wr.bytes block.0.errors; do
		[ -n "$(statv $TMPD/step.out $_k)" ] || { WHY="domstats has no $_k: $(tr '\n' ' ' <$TMPD/step.out | cut -c1-300)"; return 1; }
	done
	[ "$(statv $TMPD/step.out net.0.name)" = "vif$ID.0" ] || { WHY="domstats names the NIC $(statv $TMPD/step.out net.0.name)"; return 1; }
	[ "$(statv $TMPD/step.out block.0.rd.reqs)" -ge "$_rd" ] || { WHY="domstats' reads went back: $(statv $TMPD/step.out block.0.rd.reqs) < $_rd"; return 1; }
	step "virsh domjobinfo" V domjobinfo vx-dev || return 1
	grep -q -E '^Job type: +None' $TMPD/step.out || { WHY="domjobinfo: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	# domcontrol (which libvirt's libxl driver lacks): no call holds the guest
	step "virsh domcontrol" V domcontrol vx-dev || return 1
	[ "$(cat $TMPD/step.out)" = ok ] || { WHY="domcontrol: $(cat $TMPD/step.out)"; return 1; }
	vif_rate vx-dev || return 1
	blkinfo_is vx-dev xvda /root/disk-vx.img || return 1
	step "virsh domblkerror" V domblkerror vx-dev || return 1
	grep -q '^No errors found' $TMPD/step.out || { WHY="domblkerror: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	# an NMI (virsh inject-nmi, which libvirt's libxl driver lacks), which the guest's kernel
	# reports on its console and survives
	_b=$(con_count vx-dev 'NMI received')
	step "virsh inject-nmi" V inject-nmi vx-dev || return 1
	guest_sees vx-dev 'NMI received' "$_b" 60 || return 1
	state vx-dev running 5 || return 1
	DETAIL="id $ID: xvda rd_req $_rd0 -> $_rd ($_rb bytes), vif$ID.0 tx $_tx0 -> $_tx rx $_rx0 -> $_rx packets, balloon $_act KiB, CPU ${_cpu:-?} s; domstats: all groups; domblkinfo $BLKINFO, no disk errors, an NMI reported; $IFTUNE; left running for virsh-hotplug"
}

# vif_rate NAME: virsh domiftune (which libvirt's libxl driver lacks) of the running guest NAME
# (id in ID), whose vif is vifID.0: --live --outbound 64 becomes the rate netback limits what the
# guest sends to (64 KiB/s over libxl's 50 ms: 3276 bytes an interval), in the vif's backend
# directory, which netback watches, and in libxl's record of the device; domiftune shows it;
# --outbound 0 removes it; a live inbound limit is refused (netback has none). The simulated
# host keeps the rate in its libxl configuration (xl list -l). IFTUNE says what was seen.
vif_rate() {
	_vif=vif$ID.0
	step "virsh domiftune --live --outbound 64" V domiftune "$1" "$_vif" --live --outbound 64 || return 1
	_r=$(vif_rate_now "$1")
	[ "$_r" = 3276,50000 ] || { WHY="after domiftune --outbound 64 the vif's rate is '$_r', want 3276,50000"; return 1; }
	step "virsh domiftune" V domiftune "$1" "$_vif" || return 1
	grep -q -E '^outbound.average: 64$' $TMPD/step.out || { WHY="domiftune: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	! V domiftune "$1" "$_vif" --live --inbound 100 >$TMPD/iftune.out 2>&1 || { WHY="a live inbound limit was taken"; return 1; }
	grep -q 'Xen limits only what a running guest sends' $TMPD/iftune.out || { WHY="live inbound: $(cat $TMPD/iftune.out)"; return 1; }
	step "virsh domiftune --live --outbound 0" V domiftune "$1" "$_vif" --live --outbound 0 || return 1
	_r0=$(vif_rate_now "$1")
	[ -z "$_r0" ] || { WHY="after domiftune --outbound 0 the vif's rate is '$_r0'"; return 1; }
	IFTUNE="domiftune: $_vif rate $_r, then none"
}
# vif_rate_now NAME: the rate of guest NAME's vif 0 ("BYTES,USECS"; "" for none): on Xen what
# netback reads and libxl's record (they must agree), on the simulated host its configuration's
vif_rate_now() {
	if [ "${VX_BACKEND:-libxl}" != libxl ]; then
		xl list -l "$1" | awk -F'[:,]' '/"rate_bytes_per_interval"/ { b = $2 + 0 } /"rate_interval_usecs"/ { u = $2 + 0 } END { if (b) printf "%d,%d", b, u }'
		return
	fi
	_be=$(xenstore-read "/local/domain/0/backend/vif/$ID/0/rate" 2>/dev/null)
	_lx=$(xenstore-read "/libxl/$ID/device/vif/0/rate" 2>/dev/null)
	[ "$_be" = "$_lx" ] || { echo "backend '$_be', libxl '$_lx'"; return; }
	echo "$_be"
}

# blkinfo_is NAME DISK IMAGE: virsh domblkinfo of guest NAME's raw DISK gives IMAGE's length as
# its capacity and physical size and its blocks as its allocation, as stat(1) reads them in
# dom0 (BLKINFO: the three)
blkinfo_is() {
	# the dry run's guests have no images
	[ -e "$3" ] || [ "${VX_BACKEND:-libxl}" = libxl ] || { BLKINFO="(no image: $3)"; return 0; }
	step "virsh domblkinfo" V domblkinfo "$1" "$2" || return 1
	BLKINFO=$(awk '{ printf "%s%s", (NR > 1 ? " " : ""), $2 }' $TMPD/step.out)
	_want=$(stat -c '%s %b %B' "$3" | awk '{ print $1, $2 * $3, $1 }')
	[ "$BLKINFO" = "$_want" ] || { WHY="domblkinfo $1 $2: $BLKINFO, stat of $3: $_want (capacity, allocation, physical)"; return 1; }
}

# hot_disk NAME: attach-disk --live of an image to the running guest NAME, which the guest
# reports with the image's size and magic, and libxl and domblklist show; detach-disk --live,
# which the guest reports, after which neither shows it. VA and VD are how long virsh's calls
# took (they return once libxl's asynchronous add or remove has completed), ADD and DEL how
# long until the guest saw it.
hot_disk() {
	mkimg /root/hot.img 4096 XENQEMU-HOTDISK!
	_b=$(con_count "$1" 'DOMU-BLK-ADD xvdb')
	_t=$(now)
	step "virsh attach-disk" V attach-disk "$1" /root/hot.img xvdb --live || return 1
	VA=$(since "$_t")
	guest_sees "$1" 'DOMU-BLK-ADD xvdb sectors=8192 magic=XENQEMU-HOTDISK!' "$_b" 60 || return 1
	ADD=$(since "$_t")
	[ "$(xl_disk "$1" xvdb)" = /root/hot.img ] || { WHY="xl list -l: xvdb is $(xl_disk "$1" xvdb)"; return 1; }
	step "virsh domblklist" V domblklist "$1" || return 1
	grep -q -E '^ *xvdb +/root/hot.img$' $TMPD/step.out || { WHY="domblklist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	hot_resize "$1" || return 1
	_b=$(con_count "$1" 'DOMU-BLK-DEL xvdb')
	_t=$(now)
	step "virsh detach-disk" V detach-disk "$1" xvdb --live || return 1
	VD=$(since "$_t")
	guest_sees "$1" 'DOMU-BLK-DEL xvdb' "$_b" 60 || return 1
	DEL=$(since "$_t")
	[ "$(xl_disk "$1" xvdb)" = gone ] || { WHY="after detach-disk xl list -l still has xvdb"; return 1; }
	step "virsh domblklist" V domblklist "$1" || return 1
	! grep -q xvdb $TMPD/step.out || { WHY="domblklist still shows xvdb"; return 1; }
}

# hot_resize NAME: virsh blockresize (which libvirt's libxl driver lacks) of the plugged-in xvdb
# of guest NAME from 4 to 8 MiB: the image grows, and so its loop device, which blkback serves;
# the guest's kernel reports the new capacity (blkfront: 8192 to 16384 sectors). RESIZE is how
# long until it did.
hot_resize() {
	# dry-run.sh's simulated host has no image there (mkimg makes none off Xen)
	[ "${VX_BACKEND:-libxl}" = libxl ] || { RESIZE=-; return 0; }
	_b=$(con_count "$1" 'xvdb: detected capacity change')
	_t=$(now)
	step "virsh blockresize" V blockresize "$1" xvdb 8M || return 1
	[ "$(stat -c %s /root/hot.img)" = 8388608 ] || { WHY="after blockresize the image is $(stat -c %s /root/hot.img) bytes"; return 1; }
	guest_sees "$1" 'xvdb: detected capacity change from 8192 to 16384' "$_b" 60 || return 1
	RESIZE=$(since "$_t")
}

# hot_nic NAME ID: attach-interface --live on xenbr0 to the running guest NAME (domain ID):
# domiflist names it vifID.1, and the guest, which gives it its address, pings dom0 through
# it alone; detach-device-alias --live of the alias the live XML gives it (NIC_ALIAS), which the
# guest reports and domiflist shows. NET is how long until the guest's ping through it.
hot_nic() {
	_mac=00:16:3e:77:00:03
	_b=$(con_count "$1" 'DOMU-HOTNET-(OK|FAIL) eth1')
	_t=$(now)
	step "virsh attach-interface" V attach-interface "$1" --type bridge --source xenbr0 --mac $_mac --live || return 1
	guest_sees "$1" 'DOMU-HOTNET-(OK|FAIL) eth1' "$_b" 90 || return 1
	NET=$(since "$_t")
	[ "${VX_BACKEND:-libxl}" != libxl ] || grep -a -q 'DOMU-HOTNET-OK eth1' "$CONLOG/guest-$1.log" ||
		{ WHY="the guest could not ping dom0 through the hot-plugged NIC"; return 1; }
	step "virsh domiflist" V domiflist "$1" || return 1
	grep -q -E "^ *vif$2\.1 +bridge +xenbr0 +- +$_mac\$" $TMPD/step.out || { WHY="domiflist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	# detached by the alias the live XML gives it (detach-device-alias, which libvirt's libxl
	# driver lacks)
	NIC_ALIAS=$(V dumpxml "$1" | awk -v m="$_mac" -v q="'" '/<interface/ { f = 0 } index($0, "address=" q m q) { f = 1 } f && /<alias name=/ { split($0, a, q); print a[2]; exit }')
	[ -n "$NIC_ALIAS" ] || { WHY="the live XML gives the hot-plugged NIC no alias"; return 1; }
	_b=$(con_count "$1" 'DOMU-NET-DEL eth1')
	step "virsh detach-device-alias" V detach-device-alias "$1" "$NIC_ALIAS" --live || return 1
	guest_sees "$1" 'DOMU-NET-DEL eth1' "$_b" 60 || return 1
	step "virsh domiflist" V domiflist "$1" || return 1
	! grep -q $_mac $TMPD/step.out || { WHY="domiflist still shows the detached NIC"; return 1; }
}

# time_xl_disk NAME: the same image attached and detached with xl block-attach and
# block-detach (behind the daemon's back; the guest must see the disk come before it is
# detached), to set beside virsh's VA and VD: XA and XD, or XFAIL saying what failed. One
# round each, a measure, not a check; before virsh's round, so that virsh's does not have
# the first use of the image and the block script.
time_xl_disk() {
	XA= XD= XFAIL=
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	mkimg /root/hot.img 4096 XENQEMU-HOTDISK!
	_a=$(con_count "$1" 'DOMU-BLK-ADD xvdc') _b=$(con_count "$1" 'DOMU-BLK-DEL xvdc')
	_t=$(now)
	timeout 60 xl block-attach "$1" format=raw,vdev=xvdc,access=rw,target=/root/hot.img >/dev/null 2>&1 ||
		{ XFAIL="xl block-attach failed"; return 0; }
	XA=$(since "$_t")
	wait_con "$1" 'DOMU-BLK-ADD xvdc' $((_a + 1)) 60 || { XFAIL="the guest did not see xl's disk"; return 0; }
	_t=$(now)
	timeout 60 xl block-detach "$1" xvdc >/dev/null 2>&1 || { XFAIL="xl block-detach failed"; return 0; }
	XD=$(since "$_t")
	wait_con "$1" 'DOMU-BLK-DEL xvdc' $((_b + 1)) 60 || XFAIL="the guest did not see xl's disk go"
}
# time_hotplug: the TIME line of virsh-hotplug
time_hotplug() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_t=$(now)
	V uri >/dev/null 2>&1 || true
	if [ -n "$XFAIL" ]; then
		echo "TIME hotplug: virsh attach-disk $VA s, detach-disk $VD s; $XFAIL"
	else
		echo "TIME hotplug: virsh attach-disk $VA s, detach-disk $VD s; xl block-attach $XA s, block-detach $XD s (one round each, xl's first; a virsh uri alone takes $(since "$_t") s)"
	fi
}

# virsh-hotplug, on the vx-dev guest virsh-pv-disk-nic left running (one boot for both): a
# disk and a NIC plugged in and unplugged again with stock virsh, as the guest sees them (its
# init reports devices that come and go) and as libxl and virsh show them; then destroy and
# undefine.
check_virsh_hotplug() {
	DEBUG_FN="vguest_debug vx-dev"
	state vx-dev running 5 || return 1
	ID=$(V domid vx-dev)
	time_xl_disk vx-dev
	hot_disk vx-dev || return 1
	time_hotplug
	hot_nic vx-dev "$ID" || return 1
	vremove vx-dev || return 1
	DETAIL="id $ID: disk seen by the guest $ADD s after attach-disk (the call $VA s), grown to 8 MiB by blockresize (the guest saw it in $RESIZE s), gone $DEL s after detach-disk (the call $VD s); NIC vif$ID.1 pinging dom0 $NET s after attach-interface, detached by its alias $NIC_ALIAS; destroyed, undefined"
}
