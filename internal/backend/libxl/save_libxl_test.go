//go:build libxl

package libxl

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
)

// TestSaveLivePVRefused: on a Xen without shadow paging (Debian's) a live
// save of a PV guest is refused as unsupported, before libxl is asked
// (whose error would blame the guest for not answering), and the guest
// is left as it was. The guest need not boot: it is created paused.
func TestSaveLivePVRefused(t *testing.T) {
	realXen(t)
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if p, err := b.c.PhysInfo(); err != nil || p.Shadow {
		t.Skipf("this Xen has shadow paging (%v): it saves PV guests live", err)
	}
	kernel := os.Getenv("VIRTXEND_TEST_KERNEL")
	if kernel == "" {
		kernel = "/boot/vmlinuz"
	}
	cfg := backendtest.Config("conf-pv-live", 0x5b, bootMinKiB, 1)
	cfg.BInfo.Kernel = kernel
	ctx := context.Background()
	id, err := b.Create(ctx, cfg, backend.CreateOptions{Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Destroy(ctx, id)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go io.Copy(io.Discard, r)
	err = b.SaveLive(ctx, id, w, nil)
	w.Close()
	if !errors.Is(err, backend.ErrUnsupported) {
		t.Fatalf("live save of a PV guest without shadow paging: %v", err)
	}
	t.Log(err)
	if gi, err := b.Guest(ctx, id); err != nil || gi.State != backend.StatePaused {
		t.Fatalf("after the refusal: %+v, %v", gi, err)
	}
}
