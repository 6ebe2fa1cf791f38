//go:build libxl

package libxl

import (
	"bytes"
	"errors"
	"log/slog"
	"os"
	"strings"
	"testing"

	"virtxend/internal/backend"
)

// TestOpenWithoutXen: on a host that is not a Xen dom0, Open fails with a
// typed error that carries libxl's own explanation, which reached Go
// through the logger bridge, whatever the logger's level (libxl's
// messages below it stay in C, its errors never do).
func TestOpenWithoutXen(t *testing.T) {
	if _, err := os.Stat("/dev/xen/privcmd"); err == nil {
		t.Skip("this is a Xen host: TestOpenOnXen covers it")
	}
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelError} {
		t.Run(level.String(), func(t *testing.T) { testOpenWithoutXen(t, level) })
	}
}

func testOpenWithoutXen(t *testing.T, level slog.Level) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: level}))
	c, err := Open(log)
	if err == nil {
		c.Close()
		t.Fatal("Open succeeded without Xen")
	}
	var xe *Error
	if !errors.As(err, &xe) || xe.Op != "libxl_ctx_alloc" {
		t.Fatalf("error %v (%T), want an *Error from libxl_ctx_alloc", err, err)
	}
	if !errors.Is(err, backend.ErrFailed) {
		t.Errorf("error %v is not backend.ErrFailed", err)
	}
	if xe.Message == "" || !strings.Contains(logs.String(), xe.Message) {
		t.Errorf("libxl's message %q did not come through the log:\n%s", xe.Message, logs.String())
	}
}

// TestOpenOnXen runs only on real Xen (see realXen): open, read the host,
// list Domain-0, close.
func TestOpenOnXen(t *testing.T) {
	realXen(t)
	c, err := Open(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	v, err := c.Version()
	if err != nil || v.Major < 4 {
		t.Fatalf("Version: %+v, %v", v, err)
	}
	p, err := c.PhysInfo()
	if err != nil || p.CPUs < 1 || p.TotalKiB == 0 {
		t.Fatalf("PhysInfo: %+v, %v", p, err)
	}
	// every online CPU in some node, every node with memory (what
	// libvirt's capabilities show of the host)
	cpus := 0
	for _, n := range c.NUMA() {
		if n.MemKiB == 0 || n.MemKiB > p.TotalKiB+p.TotalKiB/8 {
			t.Errorf("NUMA node %+v of a host of %d KiB", n, p.TotalKiB)
		}
		cpus += len(n.CPUs)
	}
	if cpus != p.CPUs {
		t.Errorf("NUMA nodes have %d CPUs, physinfo %d: %+v", cpus, p.CPUs, c.NUMA())
	}
	doms, err := c.List()
	if err != nil || len(doms) == 0 || doms[0].ID != 0 {
		t.Fatalf("List: %+v, %v", doms, err)
	}
	if err := c.Destroy(0x7ff0); err == nil {
		t.Error("Destroy of a missing domain succeeded")
	}
}
