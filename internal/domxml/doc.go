package domxml

// What Parse adds or changes, each as libvirt 11.3's libxl driver does
// (src/conf/domain_conf.c, domain_postparse.c, src/libxl/libxl_domain.c):
//
//   - uuid: generated (random v4) when absent; written in lower case.
//   - os: no <type> with a <bootloader> means PV; PV is kept as "linux"
//     (libvirt prints Xen PV guests so); arch defaults to the host's; a
//     <loader> with a path gets type='rom'. Machine and emulator are NOT
//     defaulted: libxl does not do it.
//   - sizes: memory, currentMemory, maxMemory in KiB (unit='KiB');
//     currentMemory defaults to, and is capped at, memory.
//   - vcpu: placement='static'; current= dropped when equal to the maximum.
//   - PV and PVH guests get <console type='pty'><target type='xen' port='0'/>
//     when they have none; consoles without a target type become 'xen'
//     (PV/PVH) or 'serial' (HVM); console ports are their index.
//   - HVM: the first console aliases the first serial (a serial is created
//     from a lone console, a console stub added for a lone serial);
//     <boot dev='hd'/> when nothing says how to boot; <pae/> on x86_64.
//   - implicit devices: mouse and keyboard (bus xen, or ps2 for HVM),
//     <memballoon model='xen'/>, <controller type='xenbus' index='0'/>,
//     ide/scsi/sata/fdc controllers for drive addresses, one video when
//     there is graphics but no video.
//   - disks: driver type raw by default (xl's default), driver name qemu
//     for network disks, bus from the target name, cdrom read-only, drive
//     addresses for ide/scsi/sata/fdc disks.
//   - video: model xen (PV) or cirrus, VRAM for HVM as for upstream QEMU
//     (cirrus 8192, vga/xen 16384, qxl 131072), otherwise libvirt's
//     defaults; sizes rounded up to powers of two; heads='1'; the first
//     video is primary.
//   - interfaces: a MAC in 00:16:3e when absent.
//   - graphics: the listen attribute and the first <listen> agree; port -1
//     or no port means autoport, and a define forgets automatic ports.
//   - hostdevs: managed='no' when absent.
//   - clock offset='utc', on_poweroff destroy, on_reboot restart,
//     on_crash destroy when absent; bare tristate features (<hap/>) get
//     state='on'.
//   - metadata: children without a namespace, and later duplicates of a
//     namespace, are dropped.
//
// Where this package knowingly differs from libvirt:
//   - XML syntax errors use Go's parser; the common ones are worded like
//     libxml2, others keep Go's text, always as "at line N: ..." (11.x).
//   - Elements libvirtxml does not model are lost, as libvirt drops
//     elements it does not know.
//   - The HVM VRAM defaults assume the upstream QEMU device model; libvirt
//     runs the emulator binary with -help to detect qemu-traditional.
