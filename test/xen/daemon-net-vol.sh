# shellcheck shell=sh
# virsh-net-vol: a guest on a network and a volume of Debian's libvirtd beside the daemon.
# Sourced by daemon-checks.sh, whose helpers it uses.

# start_libvirtd: Debian's libvirtd beside the daemon, serving the network, storage and secret
# drivers (the only ones in the image) on $VR/run/libvirt/libvirt-sock, where virtxend looks;
# LIBVIRTD_BESIDE, if set, starts it instead (dry-run.sh: scripts/libvirtd-beside, so that it
# touches nothing of the host). LPID is its pid.
LVLOG=${LVLOG:-/var/log/libvirtd.log}
start_libvirtd() {
	if [ -n "${LIBVIRTD_BESIDE:-}" ]; then
		$LIBVIRTD_BESIDE $VR >>$LVLOG 2>&1 &
	else
		mkdir -p /etc/libvirt $VR/run/libvirt
		printf 'unix_sock_dir = "%s"\nauth_unix_rw = "none"\nauth_unix_ro = "none"\n' $VR/run/libvirt >/etc/libvirt/libvirtd.conf
		libvirtd -f /etc/libvirt/libvirtd.conf >>$LVLOG 2>&1 &
	fi
	LPID=$!
	_i=0
	until V net-list --all >/dev/null 2>&1; do
		kill -0 $LPID 2>/dev/null || { WHY="libvirtd exited: $(tail -n 2 $LVLOG | tr '\n' ' ')"; return 1; }
		[ $_i -lt 120 ] || { WHY="libvirtd did not serve within 60 s: $(V net-list 2>&1 | tail -n 1)"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
netvol_debug() {
	vguest_debug vx-netvol
	echo "--- libvirtd log"
	grep -a -v 'ethtool ioctl' $LVLOG | tail -n 20
}

# A PV guest whose NIC is on a libvirt network bridged to xenbr0 (<forward mode='bridge'/>),
# whose port libvirtd's network driver gives at start, and whose disk is a volume of a dir pool
# libvirtd's storage driver resolves: the guest reads the volume's magic and pings dom0; the
# live XML shows the port (<interface type='bridge'>, <source network portid bridge>) and the
# pool and volume; libxl got xenbr0 and the volume's path; domhostname reads the network's DHCP
# leases (vhostname); destroy deletes the port.
check_virsh_net_vol() {
	DEBUG_FN=netvol_debug
	forget vx-netvol
	_t=$(now)
	start_libvirtd || return 1
	_up=$(since "$_t")
	step "virsh net-define" V net-define $XT/guests/net-xenbr0.xml || return 1
	step "virsh net-start" V net-start xenbr0 || return 1
	mkdir -p $VR/pool
	dd if=/dev/zero of=$VR/pool/disk-nv.img bs=1M count=8 2>/dev/null
	printf XENQEMU-DISK-OK! | dd of=$VR/pool/disk-nv.img conv=notrunc 2>/dev/null
	step "virsh pool-define-as" V pool-define-as vxpool dir --target $VR/pool || return 1
	step "virsh pool-start" V pool-start vxpool || return 1
	step "virsh vol-path" V vol-path --pool vxpool disk-nv.img || return 1
	_path=$(cat $TMPD/step.out)
	step "virsh define" V define $XT/guests/vx-netvol.xml || return 1
	vstart vx-netvol || return 1
	wait_con vx-netvol 'DOMU-NET-(OK|FAIL)' 1 120 || return 1
	grep -a -q DOMU-DISK-OK $CONLOG/guest-vx-netvol.log || { WHY="guest did not read the volume's magic"; return 1; }
	grep -a -q DOMU-NET-OK $CONLOG/guest-vx-netvol.log || { WHY="guest could not ping dom0 over the network's bridge"; return 1; }
	step "virsh dumpxml" V dumpxml vx-netvol || return 1
	_port=$(sed -n "s/^ *<source network='xenbr0' portid='\([0-9a-f-]*\)' bridge='xenbr0'\/>\$/\1/p" $TMPD/step.out)
	[ -n "$_port" ] || { WHY="dumpxml shows no port on xenbr0: $(grep -A 2 '<interface' $TMPD/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	grep -q "<interface type='bridge'>" $TMPD/step.out || { WHY="dumpxml: $(grep '<interface' $TMPD/step.out)"; return 1; }
	grep -q "<source pool='vxpool' volume='disk-nv.img'/>" $TMPD/step.out || { WHY="dumpxml: $(grep '<source pool' $TMPD/step.out)"; return 1; }
	vhostname vx-netvol || return 1
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ "$(tr -d ' \n' <$TMPD/step.out)" = "$_port" ] || { WHY="net-port-list xenbr0: $(tr '\n' ' ' <$TMPD/step.out), dumpxml says $_port"; return 1; }
	port_bandwidth vx-netvol "$_port" || return 1
	step "xl list -l" xl list -l vx-netvol || return 1
	grep -q "\"pdev_path\": \"$_path\"" $TMPD/step.out || { WHY="libxl's disk is not $_path: $(grep pdev_path $TMPD/step.out)"; return 1; }
	grep -q '"bridge": "xenbr0"' $TMPD/step.out || { WHY="libxl's NIC is not on xenbr0: $(grep bridge $TMPD/step.out)"; return 1; }
	_rss=$(dm_rss "$LPID")
	step "virsh destroy" V destroy vx-netvol || return 1
	wait_gone vx-netvol 20 || return 1
	step "virsh net-port-list" V net-port-list xenbr0 --uuid || return 1
	[ -z "$(tr -d ' \n' <$TMPD/step.out)" ] || { WHY="port left after destroy: $(tr '\n' ' ' <$TMPD/step.out)"; return 1; }
	step "virsh undefine" V undefine vx-netvol || return 1
	# nothing of this check stays for the checks after (oracle.sh's libvirtd reads the same
	# network and storage configuration)
	for _c in "net-destroy xenbr0" "net-undefine xenbr0" "pool-destroy vxpool" "pool-undefine vxpool"; do
		V $_c >/dev/null 2>&1 || echo "virsh-net-vol: virsh $_c failed"
	done
	kill "$LPID" 2>/dev/null || true
	wait "$LPID" 2>/dev/null || true
	DETAIL="libvirtd serving in $_up s (RSS ${_rss:-?}); id $ID: port $_port on xenbr0, volume $_path; disk read, ping over xenbr0, $HOSTNAME_SEEN, $PORT_BW, port deleted on destroy"
}

# port_bandwidth NAME PORT: a live virsh domiftune --outbound 64 of the running guest NAME's NIC
# on xenbr0 becomes its vif's rate (vif_rate_now) and reaches its port PORT in libvirtd's network
# driver (virNetworkPortSetParameters, as libvirt's QEMU driver makes it: net-port-dumpxml shows
# it), and the live XML shows it; --outbound 0 takes it from both. PORT_BW says what was seen.
port_bandwidth() {
	_mac=$(V dumpxml "$1" | sed -n "s/.*<mac address='\([^']*\)'.*/\1/p" | head -n 1)
	step "virsh domiftune --live --outbound 64" V domiftune "$1" "$_mac" --live --outbound 64 || return 1
	_r=$(vif_rate_now "$1")
	[ "$_r" = 3276,50000 ] || { WHY="after domiftune --outbound 64 the vif's rate is '$_r', want 3276,50000"; return 1; }
	step "virsh net-port-dumpxml" V net-port-dumpxml xenbr0 "$2" || return 1
	grep -q "<outbound average='64'/>" $TMPD/step.out || { WHY="libvirtd's port after domiftune: $(grep -A 3 '<bandwidth' $TMPD/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	step "virsh dumpxml" V dumpxml "$1" || return 1
	grep -q "<outbound average='64'/>" $TMPD/step.out || { WHY="live XML after domiftune: $(grep -A 3 '<bandwidth' $TMPD/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	step "virsh domiftune --live --outbound 0" V domiftune "$1" "$_mac" --live --outbound 0 || return 1
	step "virsh net-port-dumpxml" V net-port-dumpxml xenbr0 "$2" || return 1
	! grep -q "<outbound" $TMPD/step.out || { WHY="libvirtd's port after domiftune --outbound 0: $(grep -A 3 '<bandwidth' $TMPD/step.out | tr -s ' ' | tr '\n' ' ')"; return 1; }
	[ -z "$(vif_rate_now "$1")" ] || { WHY="after domiftune --outbound 0 the vif's rate is '$(vif_rate_now "$1")'"; return 1; }
	PORT_BW="domiftune $_mac: rate $_r and libvirtd's port outbound 64, then neither"
}

# vhostname NAME: virsh domhostname (which libvirt's libxl driver lacks) of the running guest NAME
# on the network xenbr0 reads the host name from the network's DHCP leases, through libvirtd's
# network driver: none before a lease ("no hostname found"), then the one of a lease for the
# guest's MAC, written where dnsmasq's lease helper records it (xenbr0 bridges, so no dnsmasq
# runs); the lease file is removed after. HOSTNAME_SEEN says what was seen.
vhostname() {
	if [ -n "${LIBVIRTD_BESIDE:-}" ]; then _ld=$VR/libvirtd/var-lib-libvirt/dnsmasq; else _ld=/var/lib/libvirt/dnsmasq; fi
	! V domhostname "$1" >$TMPD/hostname.out 2>&1 || { WHY="domhostname before any lease: $(cat $TMPD/hostname.out)"; return 1; }
	grep -q "no hostname found for domain $1" $TMPD/hostname.out || { WHY="domhostname before any lease: $(cat $TMPD/hostname.out)"; return 1; }
	_mac=$(V dumpxml "$1" | sed -n "s/.*<mac address='\([^']*\)'.*/\1/p" | head -n 1)
	mkdir -p "$_ld"
	printf '[{"ip-address": "192.0.2.10", "mac-address": "%s", "hostname": "%s-host", "expiry-time": %d}]\n' \
		"$_mac" "$1" $(($(date +%s) + 3600)) >"$_ld/xenbr0.status"
	step "virsh domhostname" V domhostname "$1" || { rm -f "$_ld/xenbr0.status"; return 1; }
	rm -f "$_ld/xenbr0.status"
	[ "$(cat $TMPD/step.out)" = "$1-host" ] || { WHY="domhostname with a lease for $_mac: $(cat $TMPD/step.out)"; return 1; }
	HOSTNAME_SEEN="domhostname $1-host from a lease for $_mac"
}
