//go:build libxl

package libxl

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// realXen skips a test unless VIRTXEND_TEST_REAL_XEN=1 asks for real Xen
// (test/xen sets it in dom0); once asked, not being root in a Xen dom0 is
// a failure, so that the suite never passes there by skipping.
func realXen(t *testing.T) {
	t.Helper()
	if os.Getenv("VIRTXEND_TEST_REAL_XEN") != "1" {
		t.Skip("set VIRTXEND_TEST_REAL_XEN=1 to run on real Xen (as root in a dom0; test/xen/run.sh does)")
	}
	if _, err := os.Stat("/dev/xen/privcmd"); err != nil {
		t.Fatalf("VIRTXEND_TEST_REAL_XEN=1 but this is not a Xen dom0: %v", err)
	}
	if os.Geteuid() != 0 {
		t.Fatal("VIRTXEND_TEST_REAL_XEN=1 needs root")
	}
}

// TestBackendConformance runs the suite every backend passes, on real
// Xen (see realXen). The guests boot VIRTXEND_TEST_KERNEL (default
// /boot/vmlinuz) with VIRTXEND_TEST_INITRD, if set: a guest that answers
// shutdown and reboot requests, as test/xen's busybox initramfs does.
func TestBackendConformance(t *testing.T) {
	realXen(t)
	kernel := testKernel()
	for _, f := range []string{kernel, os.Getenv("VIRTXEND_TEST_INITRD")} {
		if _, err := os.Stat(f); f != "" && err != nil {
			t.Fatalf("guest image: %v", err)
		}
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		return newBootable(t, b)
	})
}

// testKernel is the guests' kernel: VIRTXEND_TEST_KERNEL, by default
// /boot/vmlinuz.
func testKernel() string {
	if k := os.Getenv("VIRTXEND_TEST_KERNEL"); k != "" {
		return k
	}
	return "/boot/vmlinuz"
}

// newBootable is b with what the suite's guests boot (see bootable).
func newBootable(t *testing.T, b *Backend) bootable {
	return bootable{Backend: b, kernel: testKernel(), initrd: os.Getenv("VIRTXEND_TEST_INITRD"),
		disk: diskImage(t), bridge: os.Getenv("VIRTXEND_TEST_BRIDGE"), pvhMigration: pvhMigration(t, b),
		markers: &bootMarkers{before: map[string]int{}}}
}

// pvhMigration: this Xen cannot save a PV guest live (it has no shadow
// paging: Debian's) but has HAP, with which it tracks a PVH guest's
// dirty pages, so the suite's live migration moves a PVH guest.
func pvhMigration(t *testing.T, b *Backend) bool {
	p, err := b.c.PhysInfo()
	if err != nil {
		t.Fatal(err)
	}
	return !p.Shadow && p.HAP
}

// diskImage is an empty 8 MiB raw image for the suite's guest with a disk:
// blkback serves it through a loop device, as for any file on phy.
func diskImage(t *testing.T) string {
	p := filepath.Join(t.TempDir(), "disk.img")
	f, err := os.Create(p)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if err := f.Truncate(8 << 20); err != nil {
		t.Fatal(err)
	}
	return p
}

// bootable gives the suite's guests a kernel and initrd that boot here,
// at least the memory that takes, a disk image that exists and the bridge
// (VIRTXEND_TEST_BRIDGE, default xenbr0) for their NICs. It embeds the
// backend itself, not the interface, so that the optional features
// (pinning, scheduling, ...) stay visible to the suite.
type bootable struct {
	*Backend
	kernel, initrd string
	disk, bridge   string
	// pvhMigration makes the guests of the live migration PVH.
	pvhMigration bool
	markers      *bootMarkers
}

// bootMarkers holds, for each guest name, how many boot markers its
// console log had when a guest of that name was last created. xenconsoled
// appends every guest of a name to one log, so a guest has booted when the
// log holds one more: a marker already there is an earlier guest's (the
// second and third tries of bootAndMove once took one for their own, and
// were asked to suspend in early boot).
type bootMarkers struct {
	mu     sync.Mutex
	before map[string]int
}

// bootMarker is what the suite's guest init prints on its console once booted.
var bootMarker = []byte("DOMU-MARKER-OK")

// consoleLog is the file where xenconsoled logs guest name's console
// (test/xen/lib.sh starts it with --log=guest), or "" without that log.
func consoleLog(name string) string {
	dir := os.Getenv("VIRTXEND_TEST_CONSOLE_LOGS")
	if dir == "" {
		dir = "/var/log/xen/console"
	}
	if _, err := os.Stat(dir); err != nil {
		return ""
	}
	return filepath.Join(dir, "guest-"+name+".log")
}

// markersIn counts the boot markers in a console log (none without one).
func markersIn(path string) int {
	b, _ := os.ReadFile(path)
	return bytes.Count(b, bootMarker)
}

// bootMinKiB is the least memory a Debian kernel boots in as a PV guest:
// libxenguest refuses to load its 58 MiB image into 64 MiB.
const bootMinKiB = 128 * 1024

func (b bootable) boot(cfg *libxltypes.DomainConfig) *libxltypes.DomainConfig {
	c := *cfg
	c.BInfo.Kernel, c.BInfo.Ramdisk, c.BInfo.Cmdline = b.kernel, b.initrd, "console=hvc0"
	if b.pvhMigration && strings.HasPrefix(c.CInfo.Name, backendtest.MigrateName) {
		c.CInfo.Type, c.BInfo.PV, c.BInfo.PVH = "pvh", nil, &libxltypes.PVHInfo{}
		// One vCPU: under QEMU's TCG the live suspend of a 2-vCPU PVH
		// guest timed out and the guest, resumed, triple-faulted (1 run
		// of 1), where migrate.sh's 1-vCPU PVH guest moved live every
		// time; WaitBooted then says when it has booted.
		c.BInfo.MaxVCPUs, c.BInfo.AvailVCPUs = 1, []int{0}
	}
	if c.BInfo.MaxMemKiB < bootMinKiB {
		c.BInfo.MaxMemKiB, c.BInfo.TargetMemKiB = bootMinKiB, bootMinKiB
	}
	c.Disks = slices.Clone(c.Disks)
	for i := range c.Disks {
		if c.Disks[i].PdevPath == backendtest.StatsDisk.PdevPath {
			c.Disks[i].PdevPath = b.disk
		}
	}
	c.NICs = slices.Clone(c.NICs)
	for i := range c.NICs {
		if b.bridge != "" {
			c.NICs[i].Bridge = b.bridge
		}
	}
	return &c
}

func (b bootable) Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions) (backend.DomID, error) {
	if path := consoleLog(cfg.CInfo.Name); path != "" && b.markers != nil {
		b.markers.mu.Lock()
		b.markers.before[cfg.CInfo.Name] = markersIn(path)
		b.markers.mu.Unlock()
	}
	return b.Backend.Create(ctx, b.boot(cfg), opts)
}

func (b bootable) NeedMemory(ctx context.Context, cfg *libxltypes.DomainConfig) (uint64, error) {
	return b.Backend.NeedMemory(ctx, b.boot(cfg))
}

// A restored guest is the guest that was saved: its configuration too.
func (b bootable) Restore(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, f *os.File, version uint32) (backend.DomID, error) {
	return b.Backend.Restore(ctx, b.boot(cfg), opts, f, version)
}

// The suite's hotplugged disk gets the image too, and its NIC the bridge.
func (b bootable) AddDevice(ctx context.Context, id backend.DomID, dev backend.Device) (backend.Device, error) {
	if dev.Disk != nil && dev.Disk.PdevPath == backendtest.HotplugDisk.PdevPath {
		d := *dev.Disk
		d.PdevPath = b.disk
		dev.Disk = &d
	}
	if dev.NIC != nil && b.bridge != "" {
		n := *dev.NIC
		n.Bridge = b.bridge
		dev.NIC = &n
	}
	return b.Backend.AddDevice(ctx, id, dev)
}

func (b bootable) RemoveDevice(ctx context.Context, id backend.DomID, dev backend.Device) error {
	return b.Backend.RemoveDevice(ctx, id, dev)
}

func (b bootable) InsertMedia(ctx context.Context, id backend.DomID, disk libxltypes.Disk) error {
	return b.Backend.InsertMedia(ctx, id, disk)
}

// WaitBooted implements backendtest.BootWaiter: the guest's init prints
// its marker on the console, which xenconsoled logs in dom0; without the
// log, a fixed wait.
func (b bootable) WaitBooted(t *testing.T, name string) bool {
	t.Helper()
	path := consoleLog(name)
	if path == "" || b.markers == nil {
		time.Sleep(20 * time.Second)
		return true
	}
	b.markers.mu.Lock()
	before := b.markers.before[name]
	b.markers.mu.Unlock()
	for deadline := time.Now().Add(backendtest.EventWait); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if markersIn(path) > before {
			return true
		}
	}
	t.Logf("%s printed no new %s in %s (%d before its creation)", name, bootMarker, path, before)
	return false
}
