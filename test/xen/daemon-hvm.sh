# shellcheck shell=sh
# virsh-hvm: the HVM guest through the daemon, its device model, cdrom media and VNC port.
# Sourced by daemon-checks.sh, whose helpers it uses.

# hold_port PORT: with the libxl backend, something else listens on PORT meanwhile (HELD is
# its pid), so the daemon's port allocator, which probes with bind() as libvirt's does, must
# pass it over; the simulated host's guests listen nowhere and it is not probed there
hold_port() {
	HELD=
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	nc -l -p "$1" </dev/null >/dev/null 2>&1 &
	HELD=$!
	_i=0
	until listening "$1"; do
		[ $_i -lt 20 ] || { WHY="nc could not hold port $1"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}
# listening PORT: something listens on TCP PORT here (/proc/net/tcp, hex port, state 0A)
listening() { awk -v p="$(printf ':%04X' "$1")" '$2 ~ p"$" && $4 == "0A" { f = 1 } END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null; }

# vnc_port NAME ID: the VNC port virsh dumpxml shows for the running guest is the one libxl
# was given for domain ID (xl list -l: display + 5900, the display left out when 0, as libxl
# writes defaults), and, with the libxl backend, the device model listens there
vnc_port() {
	step "virsh dumpxml" V dumpxml "$1" || return 1
	VNC=$(sed -n "s/.*<graphics type='vnc' port='\([0-9]*\)'.*/\1/p" $TMPD/step.out | head -n 1)
	[ -n "$VNC" ] || { WHY="dumpxml shows no VNC port: $(grep '<graphics' $TMPD/step.out)"; return 1; }
	step "xl list -l $1" xl list -l "$1" || return 1
	# one display per vnc block (the device model's and the framebuffer's), 0 when left out
	_ds=$(awk '/"vnc": \{/ { v = 1; d = 0; next }
		v && /"display":/ { gsub(/[^0-9]/, ""); d = $0 }
		v && /^[ \t]*\},?$/ { print d; v = 0 }' $TMPD/step.out | sort -u | tr '\n' ' ')
	[ "$_ds" = "$((VNC - 5900)) " ] || { WHY="dumpxml says VNC port $VNC, xl list -l says display(s) ${_ds:-none} for domain $2"; return 1; }
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_i=0
	until listening "$VNC"; do
		[ $_i -lt 20 ] || { WHY="the device model of d$2 does not listen on VNC port $VNC"; return 1; }
		sleep 0.5
		_i=$((_i + 1))
	done
}

# xs_params NAME DEVID: with the libxl backend, the params of guest NAME's vbd DEVID as its
# backend in xenstore has them (xl block-list gives the backend's path); "" elsewhere
xs_params() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_be=$(xl block-list "$1" 2>/dev/null | awk -v d="$2" '$1 == d { print $NF }')
	[ -n "$_be" ] || { echo "no-vbd-$2"; return 0; }
	xenstore-read "$_be/params" 2>/dev/null || echo "no-params"
}

# hvm_media: change-media on the running vx-hvm: virsh, libxl's config and the qdisk backend
# in xenstore (hdc is vbd 5632) agree on the new media, then on none once ejected
hvm_media() {
	step "virsh change-media --update" V change-media vx-hvm hdc /root/cd2.iso --update --live || return 1
	[ "$(xl_disk vx-hvm hdc)" = /root/cd2.iso ] || { WHY="after change-media xl list -l says hdc is $(xl_disk vx-hvm hdc)"; return 1; }
	_p=$(xs_params vx-hvm 5632)
	case $_p in "" | *:/root/cd2.iso) ;; *) WHY="after change-media the backend's params are '$_p'"; return 1 ;; esac
	step "virsh domblklist" V domblklist vx-hvm || return 1
	grep -q -E '^ *hdc +/root/cd2.iso$' $TMPD/step.out || { WHY="domblklist: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	step "virsh change-media --eject" V change-media vx-hvm hdc --eject --live || return 1
	[ "$(xl_disk vx-hvm hdc)" = - ] || { WHY="after the eject xl list -l says hdc is $(xl_disk vx-hvm hdc)"; return 1; }
	_e=$(xs_params vx-hvm 5632)
	[ -z "$_e" ] || { WHY="after the eject the backend's params are '$_e'"; return 1; }
	step "virsh domblklist" V domblklist vx-hvm || return 1
	grep -q -E '^ *hdc +-$' $TMPD/step.out || { WHY="domblklist after the eject: $(tr -s ' ' <$TMPD/step.out | tr '\n' ' ')"; return 1; }
	MEDIA="${_p:-/root/cd2.iso}"
}

# hvm_vnc: vx-hvm, shut off, defined anew with a VNC server (vx-hvm-vnc.xml) and started paused
# (its device model serves the VNC server from its start; paused, the guest runs no VGA BIOS)
# while port 5900 is held: a new id, xl agrees, a device model, and its VNC port
hvm_vnc() {
	step "virsh undefine" V undefine vx-hvm || return 1
	step "virsh define" V define "$XT/guests/vx-hvm-vnc.xml" || return 1
	step "virsh start --paused" V start --paused vx-hvm || return 1
	state vx-hvm paused 10 || return 1
	ID=$(V domid vx-hvm)
	[ "$ID" != "$_id1" ] || { WHY="restarted guest kept id $ID"; return 1; }
	[ "$(xl domid vx-hvm 2>/dev/null)" = "$ID" ] || { WHY="virsh says id $ID, xl says $(xl domid vx-hvm 2>&1)"; return 1; }
	dm_up "$ID" 10 || return 1
	vnc_port vx-hvm "$ID"
}

# hvm_shot: virsh screenshot of vx-hvm (which libvirt's libxl driver lacks): without a display,
# libvirt's error; with its VNC display, paused (a screen its guest has not drawn on yet), the
# picture its device model writes (QMP screendump), PNG or PPM, whose header SHOT describes; no
# temporary file left in the daemon's directory
hvm_shot() {
	rm -f $TMPD/shot
	step "virsh screenshot" V screenshot vx-hvm $TMPD/shot || return 1
	[ -s $TMPD/shot ] || { WHY="virsh screenshot wrote no picture"; return 1; }
	case $(head -c 4 $TMPD/shot | od -A n -t x1 | tr -d ' \n') in
	89504e47)
		set -- $(od -A n -t u1 -j 16 -N 8 $TMPD/shot)
		SHOT="PNG $(($1 * 16777216 + $2 * 65536 + $3 * 256 + $4))x$(($5 * 16777216 + $6 * 65536 + $7 * 256 + $8))"
		;;
	5036*) SHOT="PPM $(sed -n 2p $TMPD/shot | tr ' ' x)" ;;
	*) WHY="virsh screenshot wrote neither PNG nor PPM: $(head -c 16 $TMPD/shot | od -A n -t x1)"; return 1 ;;
	esac
	SHOT="$SHOT, $(wc -c <$TMPD/shot) bytes"
	_left=$(ls "$VR"/var/lib/libvirt/libxl/.screendump* 2>/dev/null | tr '\n' ' ')
	[ -z "$_left" ] || { WHY="virsh screenshot left $_left"; return 1; }
}

# cad_seen ID COUNT: vx-hvm (domain ID) took Ctrl+Alt+Delete: its Linux says "reboot: Restarting
# system" on its console (more than COUNT such lines by now) and resets the machine, which
# SeaBIOS, run again, turns into a reset through ACPI ("(dID) ... ACPI hard reset" in xl dmesg),
# which Xen makes the domain's reboot. The console line can be lost with the domain (xenconsoled
# had not read the end of the ring before the domain went: seen on 2026-12-07), and the reset
# then tells the same; a triple fault gives none (Xen shuts the domain down at once)
cad_seen() {
	[ "${VX_BACKEND:-libxl}" = libxl ] || return 0
	_i=0
	until [ "$(con_count vx-hvm 'reboot: Restarting system')" -gt "$2" ] ||
		xl dmesg 2>/dev/null | grep -a -q -E "^\(d$1\) .*ACPI hard reset"; do
		[ $_i -lt 60 ] || { WHY="guest vx-hvm: neither 'reboot: Restarting system' on its console nor SeaBIOS's reset of d$1 in xl dmesg within 60 s of Ctrl+Alt+Delete"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
}

# hvm_settled ID: vx-hvm is still domain ID (_id1 after its marker), or, when it reset since
# (a triple fault under TCG after the marker, which Xen reports as a reboot and the daemon
# restarts: seen 52 s into the check on 2026-12-07, the send-key then went to a guest still in
# its BIOS), its new boot has reached its marker: ID and the marker count follow it, RESET says so
hvm_settled() {
	# (a virsh that fails tells nothing: the check goes on, as it did before)
	_now=$(V domid vx-hvm 2>/dev/null) || return 0
	[ "$_now" != "$1" ] || return 0
	echo "=== vx-hvm: d$1 reset after its marker (now d${_now:-?}); waiting for the new boot's"
	RESET="${RESET:+$RESET, }d$1 after its marker"
	wait_con vx-hvm DOMU-MARKER-OK $(($(markers vx-hvm) + 1)) 300 || return 1
	state vx-hvm running 30 || return 1
	_id1=$(V domid vx-hvm)
}

# The HVM guest (hvmloader, SeaBIOS, the device model the daemon has libxl spawn; no graphics,
# so no VGA BIOS): define, start, the marker (its Linux boots in about 90 s under nested TCG),
# dominfo, change-media, Ctrl+Alt+Delete (send-key), which restarts it, destroy (until 2026-12-06
# a PV shutdown here: virsh-pv and virsh-pvh shut theirs down); then, with a VNC server
# (vx-hvm-vnc.xml), start paused with port 5900 held by another process: a new id and device
# model, its VNC port (dumpxml, xl list -l and the device model agree, and it is not the held
# one), and its screenshot; destroy (its device model must go too), undefine
check_virsh_hvm() {
	DEBUG_FN="hvm_debug vx-hvm"
	forget vx-hvm
	mkimg /root/cd1.iso 64
	mkimg /root/cd2.iso 128
	step "virsh define" V define "$XT/guests/vx-hvm.xml" || return 1
	_t=$(now)
	vstart vx-hvm 300 || return 1
	_boot=$(since "$_t")
	_id1=$ID
	dm_up "$ID" 10 || return 1
	_dm=$DM
	_rss=$(dm_rss "$DM")
	V screenshot vx-hvm $TMPD/shot >$TMPD/step.out 2>&1 && { WHY="virsh screenshot of a guest without a display succeeded"; return 1; }
	grep -q 'no screens to take screenshot from' $TMPD/step.out || { WHY="virsh screenshot without a display: $(cat $TMPD/step.out)"; return 1; }
	step "virsh dominfo" V dominfo vx-hvm || return 1
	grep -q -E '^OS Type: +hvm$' $TMPD/step.out || { WHY="dominfo: $(grep 'OS Type' $TMPD/step.out)"; return 1; }
	hvm_settled "$_id1" && hvm_media || return 1
	# send-key (which libvirt's libxl driver lacks) of Ctrl+Alt+Delete: the device model's PS/2
	# keyboard gives it to the guest's Linux, which restarts (ctrl_alt_del: "reboot: Restarting
	# system" on its console), and the daemon starts it again as a new domain. Its next boot is
	# not waited for (an HVM boot takes minutes under TCG): that domain is destroyed.
	hvm_settled "$_id1" || return 1
	_r=$(con_count vx-hvm 'reboot: Restarting system')
	_t=$(now)
	step "virsh send-key" V send-key vx-hvm KEY_LEFTCTRL KEY_LEFTALT KEY_DELETE || return 1
	cad_seen "$_id1" "$_r" || return 1
	_i=0
	until _idc=$(V domid vx-hvm 2>/dev/null) && [ "$_idc" != "$_id1" ] && [ "$_idc" != - ]; do
		[ $_i -lt 60 ] || { WHY="after Ctrl+Alt+Delete the guest did not restart (domid: $_idc)"; return 1; }
		sleep 1
		_i=$((_i + 1))
	done
	CAD=$(since "$_t")
	[ "$(xl domid vx-hvm 2>/dev/null)" = "$_idc" ] || { WHY="after Ctrl+Alt+Delete virsh says id $_idc, xl says $(xl domid vx-hvm 2>&1)"; return 1; }
	dm_gone "$_id1" 15 || return 1
	step "virsh destroy" V destroy vx-hvm || return 1
	state vx-hvm "shut off" 10 || return 1
	wait_gone vx-hvm 10 || return 1
	dm_gone "$_idc" 15 || return 1
	hold_port 5900 || return 1
	_rc=0
	hvm_vnc && hvm_shot || _rc=1
	[ -z "$HELD" ] || kill "$HELD" 2>/dev/null || true
	[ $_rc = 0 ] || return 1
	[ -z "$HELD" ] || [ "$VNC" != 5900 ] || { WHY="VNC port 5900 handed out while another process listened there"; return 1; }
	step "virsh destroy" V destroy vx-hvm || return 1
	state vx-hvm "shut off" 10 || return 1
	wait_gone vx-hvm 10 || return 1
	dm_gone "$ID" 15 || return 1
	step "virsh undefine" V undefine vx-hvm || return 1
	DETAIL="ids $_id1 then $ID; marker $_boot s after start${RESET:+ (reset: $RESET)} (device model pid $_dm, RSS $_rss), cdrom media changed ($MEDIA) and ejected, Ctrl+Alt+Delete restarted it as d$_idc in $CAD s; with VNC started paused: VNC port $VNC${HELD:+ (5900 held)} in dumpxml and xl, screenshot $SHOT; define start dominfo change-media send-key destroy undefine define start-paused vnc screenshot destroy undefine"
}
