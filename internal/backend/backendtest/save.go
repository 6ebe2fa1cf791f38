package backendtest

import (
	"context"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// testSaveRestore saves a booted guest, destroys it, restores it under a
// new id from the stream, and saves it again with an abort part-way: the
// aborted save leaves the guest running.
func testSaveRestore(t *testing.T, b backend.Backend) {
	saver, ok := b.(backend.Saver)
	if !ok {
		t.Skip("backend cannot save guests")
	}
	ctx := context.Background()
	cfg := Config("conf-save", 31, 64*1024, 2)
	id := create(t, b, cfg, false)
	defer func() { b.Destroy(ctx, id) }()
	Eventually(t, b, id, "booted (both vCPUs online)", func(gi backend.GuestInfo) bool { return gi.VCPUsOnline == 2 })
	f, err := os.Create(filepath.Join(t.TempDir(), "conf-save.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	start := time.Now()
	if err := saver.Save(ctx, id, f, nil); err != nil {
		t.Fatal(err)
	}
	st, _ := f.Stat()
	t.Logf("saved %d KiB in %v", st.Size()/1024, time.Since(start).Round(time.Millisecond))
	if err := b.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	// Xen gives a destroyed domain's memory back a moment later: wait for
	// it, as the driver makes memory free before any start.
	waitFreeMemory(t, b, cfg)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		t.Fatal(err)
	}
	restored, err := saver.Restore(ctx, cfg, backend.CreateOptions{Marker: "conformance"}, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	old := id
	id = restored
	gi := guest(t, b, id)
	if id == old || gi.Name != "conf-save" || gi.State == backend.StateShutdown || gi.Marker != "conformance" {
		t.Fatalf("restored guest %d (was %d): %+v", id, old, gi)
	}

	// An aborted save: the guest runs on.
	g, err := os.Create(filepath.Join(t.TempDir(), "conf-save-aborted.img"))
	if err != nil {
		t.Fatal(err)
	}
	defer g.Close()
	actx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := saver.Save(actx, id, g, nil); err == nil {
		t.Log("the save ended before its abort")
		return
	}
	gi = Eventually(t, b, id, "running again", func(gi backend.GuestInfo) bool {
		return gi.State == backend.StateRunning || gi.State == backend.StateBlocked
	})
	if gi.DomID != id {
		t.Fatalf("after the aborted save: %+v", gi)
	}
}

// waitFreeMemory waits until the host has the memory a guest of cfg needs.
func waitFreeMemory(t *testing.T, b backend.Backend, cfg *libxltypes.DomainConfig) {
	t.Helper()
	ctx := context.Background()
	need, err := b.NeedMemory(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	var hi backend.HostInfo
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if hi, err = b.HostInfo(ctx); err == nil && hi.FreeMemKiB >= need {
			return
		}
	}
	t.Fatalf("the host has %d KiB free, a guest needs %d KiB (%v)", hi.FreeMemKiB, need, err)
}
