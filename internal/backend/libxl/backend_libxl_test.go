//go:build libxl

package libxl

import (
	"net"
	"os"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
)

// TestBackendConformance runs the suite every backend passes, on real
// Xen: only as root in a Xen dom0 (test/xen runs it there), with a PV
// kernel at /boot/vmlinuz for the guests.
func TestBackendConformance(t *testing.T) {
	if _, err := os.Stat("/dev/xen/privcmd"); err != nil || os.Geteuid() != 0 {
		t.Skip("not root in a Xen dom0")
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
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
