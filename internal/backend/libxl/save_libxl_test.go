//go:build libxl

package libxl

import (
	"context"
	"errors"
	"io"
	"os"
	"testing"
	"time"

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
	kernel := testKernel()
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

// TestSaveFailsWhenTheGuestReboots: a guest that reboots during its live
// save never answers the suspend request at the save's end, and libxl
// would wait 60 s for it, then fail with guest_timedout; the backend
// fails the save as soon as the guest has shut down (errShutDownInSave),
// and leaves it shut down for its reboot. The stream is read at 4 MiB a second, so that the save still
// runs when the guest, asked to reboot a second in, has done so.
func TestSaveFailsWhenTheGuestReboots(t *testing.T) {
	realXen(t)
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	if p, err := b.c.PhysInfo(); err != nil || !p.HAP {
		t.Skipf("this Xen has no HAP (%v): no PVH guest to save live", err)
	}
	bt := newBootable(t, b)
	bt.pvhMigration = true
	ctx := context.Background()
	cfg := backendtest.Config(backendtest.MigrateName+"-reboots", 0x5c, bootMinKiB, 1)
	var id backend.DomID
	for try := 1; ; try++ { // under TCG a PVH guest's boot fails now and then
		if id, err = bt.Create(ctx, cfg, backend.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		if bt.WaitBooted(t, cfg.CInfo.Name) {
			break
		}
		b.Destroy(ctx, id)
		if try == 2 {
			t.Fatal("the guest did not boot twice")
		}
	}
	defer b.Destroy(ctx, id)
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		buf := make([]byte, 64<<10)
		for {
			if _, err := r.Read(buf); err != nil {
				return
			}
			time.Sleep(16 * time.Millisecond) // 4 MiB a second
		}
	}()
	go func() {
		time.Sleep(time.Second)
		if err := b.Reboot(ctx, id); err != nil {
			t.Errorf("reboot: %v", err)
		}
	}()
	start := time.Now()
	err = b.SaveLive(ctx, id, w, nil)
	took := time.Since(start)
	w.Close()
	if !errors.Is(err, errShutDownInSave) {
		t.Fatalf("the live save of a guest that rebooted: %v (after %v)", err, took)
	}
	t.Logf("the save failed %.2f s after its start: %v", took.Seconds(), err)
	if gi, err := b.Guest(ctx, id); err != nil || gi.State != backend.StateShutdown || gi.ShutdownReason != backend.ReasonReboot {
		t.Errorf("after the failed save: %+v, %v", gi, err)
	}
}
