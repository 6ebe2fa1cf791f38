//go:build libxl

package libxl

import (
	"context"
	"net"
	"os"
	"testing"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
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
	kernel := os.Getenv("VIRTXEND_TEST_KERNEL")
	if kernel == "" {
		kernel = "/boot/vmlinuz"
	}
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
		return bootable{Backend: b, kernel: kernel, initrd: os.Getenv("VIRTXEND_TEST_INITRD")}
	})
}

// bootable gives the suite's guests a kernel and initrd that boot here,
// and at least the memory that takes.
type bootable struct {
	backend.Backend
	kernel, initrd string
}

// bootMinKiB is the least memory a Debian kernel boots in as a PV guest:
// libxenguest refuses to load its 58 MiB image into 64 MiB.
const bootMinKiB = 128 * 1024

func (b bootable) boot(def *libvirtxml.Domain) *libvirtxml.Domain {
	d := *def
	o := *def.OS
	o.Kernel, o.Initrd, o.Cmdline = b.kernel, b.initrd, "console=hvc0"
	d.OS = &o
	if backend.MemoryKiB(def.Memory) < bootMinKiB {
		d.Memory = &libvirtxml.DomainMemory{Value: bootMinKiB, Unit: "KiB"}
	}
	return &d
}

func (b bootable) Create(ctx context.Context, def *libvirtxml.Domain, opts backend.CreateOptions) (backend.DomID, error) {
	return b.Backend.Create(ctx, b.boot(def), opts)
}

func (b bootable) NeedMemory(ctx context.Context, def *libvirtxml.Domain) (uint64, error) {
	return b.Backend.NeedMemory(ctx, b.boot(def))
}

// TestGraphicsPorts: a port another process listens on is skipped; a
// free one is handed out once, goes to the guest after create and comes
// back after; a failed create gives its ports back.
func TestGraphicsPorts(t *testing.T) {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	busy := l.Addr().(*net.TCPAddr).Port
	var got []int
	b := &Backend{opts: Options{PortMin: busy, PortMax: busy}, ports: map[int]backend.DomID{}}
	if p, err := b.acquirePort(&got)(); err == nil {
		t.Fatalf("got port %d, which another process listens on", p)
	}
	free := freePort(t)
	b.opts = Options{PortMin: free, PortMax: free}
	take := b.acquirePort(&got)
	if p, err := take(); err != nil || p != free {
		t.Fatalf("port %d, %v; want %d", p, err, free)
	}
	if _, err := take(); err == nil {
		t.Fatal("the same port handed out twice")
	}
	b.assignPorts(got, 5)
	if b.ports[free] != 5 {
		t.Fatalf("ports %v", b.ports)
	}
	b.releasePorts(5)
	got = nil
	if _, err := take(); err != nil {
		t.Fatalf("after release: %v", err)
	}
	b.assignPorts(got, pendingPort)
	if len(b.ports) != 0 {
		t.Fatalf("a failed create kept ports %v", b.ports)
	}
}

func freePort(t *testing.T) int {
	l, err := net.Listen("tcp", ":0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}
