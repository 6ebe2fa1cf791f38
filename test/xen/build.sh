# shellcheck shell=bash
# test/xen/build.sh: the build shared by run.sh (one Xen host) and migrate.sh (two):
# the host tools, the Xen and kernel packages (downloaded and unpacked, never
# installed), virtxend built with -tags libxl and the backend's test binary, the domU
# initramfs and the dom0 initramfs, into $W. Sourced, not run: it expects the caller's
# REPO, HERE and W, and harness.sh's XV, XB, LVMOD, T0, result and log; it sets
# DAEMON_SKIP (empty when the daemon is in the image), KPKG, KVER and MODS.

# ---- 1. host tools; the Xen and kernel packages, downloaded and unpacked only
PHASE="installing host tools (log: $W/apt.log)"
log "$PHASE"
{
	timeout 600 apt-get update -q
	timeout 900 apt-get install -y -q --no-install-recommends \
		qemu-system-x86 busybox-static cpio gzip xz-utils libxen-dev libvirt-clients libvirt-daemon gcc libc6-dev \
		dmidecode qemu-utils socat gdb file
} >"$W/apt.log" 2>&1
PHASE="downloading the Xen and kernel packages"
log "$PHASE"
KPKG=$(apt-cache depends linux-image-amd64 | awk '/Depends: linux-image-[0-9]/ { print $2; exit }')
KVER=${KPKG#linux-image-}
X=$W/x
rm -rf "$W/debs" "$X"
mkdir -p "$W/debs" "$X"
# qemu-system-xen (the HVM device model) and seabios (the BIOS hvmloader loads) are for the
# HVM checks; hvmloader itself is in xen-utils. libvirt-daemon-driver-xen (libvirt's own libxl
# driver, for the host's libvirtd) is the oracle of oracle.sh
(cd "$W/debs" && timeout 300 apt-get download -q \
	xen-hypervisor-$XV-amd64 xen-utils-$XV xen-utils-common xenstore-utils "$KPKG" \
	qemu-system-xen seabios libvirt-daemon-driver-xen >>"$W/apt.log" 2>&1)
for d in "$W"/debs/*.deb; do dpkg-deb -x "$d" "$X"; done
MODS=$X/lib/modules/$KVER/kernel
log "kernel $KPKG, $(ls "$W"/debs | grep -o 'xen-hypervisor[^ ]*')"

# Xen: QEMU's multiboot loader wants the plain ELF, not the .gz (a .gz boots silently to nothing)
zcat "$X/boot/xen-$XV-amd64.gz" >"$W/xen"
# the kernel: unpack Debian's xz bzImage once into an ELF vmlinux, which saves Xen (dom0)
# and libxenguest (each domU) a slow xz unpack under TCG (about 17 s per run)
cp "$X/boot/vmlinuz-$KVER" "$W/vmlinuz"
off=$(grep -abo $'\xfd7zXZ\x00' "$W/vmlinuz" | awk -F: 'NR == 1 { print $1 }')
tail -c +$((off + 1)) "$W/vmlinuz" | xz -dc >"$W/vmlinux" 2>/dev/null || true # trailing bytes: rc 1
if head -c 4 "$W/vmlinux" | grep -q ELF; then mv "$W/vmlinux" "$W/vmlinuz"; else rm -f "$W/vmlinux"; fi

# ---- 2. the daemon, its backend's test binary: only once the libxl backend exists
PHASE="building virtxend with -tags libxl"
BACKEND=
if grep -l -E '^//go:build .*\blibxl\b' internal/backend/libxl/*.go >/dev/null 2>&1; then BACKEND=1; fi
rm -f "$W/virtxend" "$W/libxl.test" "$W/vxoracle" "$W/virtxend-load"
# (without DWARF, -w: dom0's root is a tmpfs that the save checks fill nearly to its cap, and
# a Go binary's panics and tracebacks need none)
DAEMON_SKIP=
if [ -n "$BACKEND" ]; then
	log "$PHASE"
	if timeout 900 go build -tags libxl -ldflags=-w -o "$W/virtxend" ./cmd/virtxend >"$W/go-build.log" 2>&1 &&
		timeout 900 go test -c -tags libxl -ldflags=-w -o "$W/libxl.test" ./internal/backend/libxl >>"$W/go-build.log" 2>&1 &&
		CGO_ENABLED=0 timeout 900 go build -ldflags=-s -o "$W/vxoracle" ./test/xen/vxoracle >>"$W/go-build.log" 2>&1 &&
		CGO_ENABLED=0 timeout 900 go build -ldflags=-s -o "$W/virtxend-load" ./cmd/virtxend-load >>"$W/go-build.log" 2>&1; then
		result PASS "daemon-build: virtxend and libxl.test built with -tags libxl"
	else
		result FAIL "daemon-build: $(tail -n 3 "$W/go-build.log" | tr '\n' ' ')"
		rm -f "$W/virtxend" "$W/libxl.test"
		DAEMON_SKIP="the daemon did not build (daemon-build failed)"
	fi
else
	DAEMON_SKIP="the libxl backend is not built yet (internal/backend/libxl has no files with the libxl build tag)"
fi

# ---- 3. the domU initramfs: static busybox and domu-init.sh
PHASE="building the initramfs images"
log "$PHASE"
U=$W/domuroot R=$W/dom0root
rm -rf "$U" "$R"
mkdir -p "$U/bin" "$U/lib/modules"
cp /bin/busybox "$U/bin/"
install -m 755 "$HERE/domu-init.sh" "$U/init"
cp "$MODS/drivers/block/xen-blkfront.ko" "$MODS/drivers/net/xen-netfront.ko" "$U/lib/modules/"
# PCI passthrough (xt.pci): pcifront, and the driver of the NIC run.sh gives dom0 for it
cp "$MODS/drivers/pci/xen-pcifront.ko" "$MODS/drivers/net/ethernet/intel/e1000e/e1000e.ko" "$U/lib/modules/"
(cd "$U" && find . | cpio -o -H newc --quiet) | gzip -1 >"$W/domu.cpio.gz"

# ---- 4. the dom0 initramfs
mkdir -p "$R"/{bin,sbin,usr/bin,usr/sbin,$XB,etc,proc,sys,dev,run,tmp,root,lib/modules,var/log,xt}
ln -s ../run "$R/var/run"
cp /bin/busybox "$R/bin/"
install -m 755 "$HERE/dom0-init.sh" "$R/init"
cp "$HERE/lib.sh" "$HERE/dom0-checks.sh" "$HERE/pci-probe.sh" "$HERE"/daemon-*.sh "$HERE"/oracle*.sh "$HERE/oracle-known.txt" "$HERE/migrate-checks.sh" "$R/xt/"
cp -r "$HERE/guests" "$R/xt/"
# Debian's /usr/sbin/xl and friends are links to xen-utils-wrapper: take the real binaries
for b in xl xenstored xenconsoled xenconsole xen-init-dom0 libxl-save-helper xenstore-control; do
	cp "$X$XB/$b" "$R$XB/"
done
cp -a "$X"/usr/bin/xenstore* "$R/usr/bin/"
find "$R/usr/bin" -xtype l -delete
cp -a "$X/etc/xen" "$R/etc/" # hotplug scripts (block, vif-bridge), from xen-utils-common
# HVM: hvmloader, SeaBIOS, the device model where libxl looks for them (strings libxenlight.so),
# and what the device model reads from QEMU's data directory: the option ROM for direct kernel
# boot (fw_cfg without DMA under Xen: linuxboot.bin) and the keymap -vnc none still loads.
# Those two come from the host's qemu-system-data, the same QEMU release.
mkdir -p "$R$XB/../boot" "$R/usr/libexec" "$R/usr/share/seabios" "$R/usr/share/qemu/keymaps"
cp "$X/usr/lib/xen-$XV/boot/hvmloader" "$R$XB/../boot/"
cp "$X/usr/libexec/xen-qemu-system-i386" "$R/usr/libexec/"
cp "$X/usr/share/seabios/bios-256k.bin" "$R/usr/share/seabios/"
# the cirrus card's VGA BIOS, which the device model loads from its data directory (vx-hvm has
# the card libvirt adds for its VNC server; libvirt refuses a video of type none)
cp "$X/usr/share/seabios/vgabios-cirrus.bin" "$R/usr/share/seabios/"
ln -s ../seabios/vgabios-cirrus.bin "$R/usr/share/qemu/vgabios-cirrus.bin"
cp /usr/share/qemu/linuxboot.bin "$R/usr/share/qemu/"
cp /usr/share/qemu/keymaps/en-us "$R/usr/share/qemu/keymaps/"
# disk snapshots (xl-snapshot): qemu-img makes the overlays and lists internal snapshots,
# qemu-io reads the images beside the device model, socat talks QMP to it (HMP, which xl
# qemu-monitor-command speaks, cannot name a xen-block disk's node to snapshot_blkdev). The
# host's qemu-utils is the QEMU release of qemu-system-xen
cp /usr/bin/qemu-img /usr/bin/qemu-io "$(command -v socat)" "$R/usr/bin/"
# the hotplug scripts want bash and the real flock, losetup, stat, readlink
cp /bin/bash "$R/bin/"
cp "$(command -v flock)" "$(command -v losetup)" "$(command -v stat)" "$(command -v readlink)" "$R/usr/bin/"
printf 'root:x:0:0:root:/root:/bin/sh\n' >"$R/etc/passwd"
printf 'root:x:0:\n' >"$R/etc/group"
if [ -z "$DAEMON_SKIP" ]; then
	cp "$W/virtxend" "$R/xt/"
	# go test -c writes nothing when the package has no tests: daemon-checks.sh then skips the suite
	if [ -f "$W/libxl.test" ]; then cp "$W/libxl.test" "$R/xt/"; fi
	# the translation's golden inputs, which the test binary's libxl checks read from
	# testdata/ beside it (libxlconftest.TestdataDir)
	[ -d internal/libxlconf/testdata ] && cp -r internal/libxlconf/testdata "$R/xt/"
	cp /usr/bin/virsh "$R/usr/bin/"
	# migrate.sh: libvirt's bridge from a remote client's connection to the host's daemon
	# (what xen+ssh runs on the far end), behind busybox nc on TCP: Debian 12 has no virtproxyd
	cp /usr/bin/virt-ssh-helper "$R/usr/bin/"
	# util-linux's script: virsh console wants a terminal, which busybox cannot give it
	cp "$(command -v script)" "$R/usr/bin/"
	# libvirtd with only the drivers the Xen driver uses (network, storage with its dir
	# backend, secret, node devices): it loads the modules it finds and skips the others
	cp /usr/sbin/libvirtd "$R/usr/sbin/"
	for m in connection-driver/libvirt_driver_network connection-driver/libvirt_driver_storage \
		connection-driver/libvirt_driver_secret connection-driver/libvirt_driver_nodedev \
		storage-backend/libvirt_storage_backend_fs \
		storage-file/libvirt_storage_file_fs; do
		cp -L --parents "$LVMOD/$m.so" "$R"
	done
	# the oracle (oracle.sh): libvirt's libxl driver, which oracle.sh puts among libvirtd's
	# modules for its own libvirtd only (the libvirtd of virsh-net-vol runs beside virtxend and
	# must not manage Xen too), the CPU map its capabilities read, libvirt's test inputs, and
	# our comparer and load generator. All but the map go into /xt/oracle.tgz, which oracle.sh
	# unpacks: 3 MB in dom0's root tmpfs until then instead of 8 (the save checks before it
	# need the room)
	OS=$W/oracle-stage
	rm -rf "$OS"
	mkdir -p "$OS/oracle-driver" "$OS/oracle-inputs"
	cp "$X$LVMOD/connection-driver/libvirt_driver_libxl.so" "$OS/oracle-driver/"
	mkdir -p "$R/usr/share/libvirt/cpu_map"
	cp /usr/share/libvirt/cpu_map/index.xml /usr/share/libvirt/cpu_map/x86_* "$R/usr/share/libvirt/cpu_map/"
	# every model of the map has vme, which TCG lacks: no model would decode the host CPU, and
	# libvirt's libxl driver would not initialize ("Cannot find suitable CPU model for given
	# data"); without vme in its smallest model, 486, the host CPU decodes as that
	sed -i "/<feature name='vme'\/>/d" "$R/usr/share/libvirt/cpu_map/x86_486.xml"
	FIX=$REPO/../shared/fixtures/libvirt-tests
	for d in libxlxml2domconfigdata xlconfigdata xmconfigdata; do
		if [ -d "$FIX/$d" ]; then cp -r "$FIX/$d" "$OS/oracle-inputs/"; fi
	done
	cp "$W/vxoracle" "$W/virtxend-load" "$OS/"
	tar -czf "$R/xt/oracle.tgz" -C "$OS" .
	# libvirt reads the host's SMBIOS with dmidecode (virSysinfoReadDMI): sysinfo compared
	cp /usr/sbin/dmidecode "$R/usr/sbin/"
fi
# shared libraries: the ldd closure of every dynamic binary (a failing ldd must not end the loop)
for f in "$R$XB"/* "$R"/usr/bin/* "$R"/usr/sbin/* "$R"/usr/libexec/* "$R"/bin/bash "$R"/xt/virtxend "$R"/xt/libxl.test \
	"$R$LVMOD"/*/*.so "$W"/oracle-stage/oracle-driver/*.so; do
	if [ -f "$f" ]; then ldd "$f" 2>/dev/null || true; fi
done | awk '/=> \// { print $3 } /^[ \t]*\/lib64\// { print $1 }' | sort -u |
	while read -r l; do cp -L --parents "$l" "$R"; done
# glibc dlopen()s libgcc_s for pthread_cancel (libxl uses it): ldd cannot see it
cp -L --parents /lib/x86_64-linux-gnu/libgcc_s.so.1 "$R"
# the dom0 drivers Debian builds as modules (dom0-checks.sh loads them in this order)
for m in xen/xen-evtchn xen/xen-privcmd xen/xenfs/xenfs xen/xen-gntdev xen/xen-gntalloc \
	block/xen-blkback/xen-blkback net/xen-netback/xen-netback block/loop; do
	cp "$MODS/drivers/$m.ko" "$R/lib/modules/"
done
cp "$MODS/net/llc/llc.ko" "$MODS/net/802/stp.ko" "$MODS/net/bridge/bridge.ko" "$R/lib/modules/"
# migrate.sh's link between two hosts: QEMU's e1000 NIC
cp "$MODS/drivers/net/ethernet/intel/e1000/e1000.ko" "$R/lib/modules/"
# PCI passthrough (pci-probe.sh): the driver of the e1000e NIC run.sh gives dom0, and pciback
cp "$MODS/drivers/net/ethernet/intel/e1000e/e1000e.ko" "$MODS/drivers/xen/xen-pciback/xen-pciback.ko" "$R/lib/modules/"
# the domU kernel and initramfs; the kernel gzipped, dom0-init.sh unpacks it (see there)
gzip -1 -c "$W/vmlinuz" >"$R/root/vmlinuz.gz"
cp "$W/domu.cpio.gz" "$R/root/"
cp "$X/boot/vmlinuz-$KVER" "$R/root/bzImage" # the HVM guest's: QEMU boots only a bzImage
(cd "$R" && find . | cpio -o -H newc --quiet) | gzip -1 >"$W/dom0.cpio.gz"
log "images: xen $(du -h "$W/xen" | cut -f1), kernel $(du -h "$W/vmlinuz" | cut -f1), dom0 initramfs $(du -h "$W/dom0.cpio.gz" | cut -f1) ($(du -s -m --apparent-size "$R" | cut -f1) MB unpacked); build took $((SECONDS - T0)) s"

