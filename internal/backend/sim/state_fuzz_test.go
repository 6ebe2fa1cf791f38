package sim

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// FuzzState feeds arbitrary host.json contents to the simulated host: it
// must refuse what it cannot use, never panic, and keep serving what it
// accepts.
func FuzzState(f *testing.F) {
	f.Add(`{"version":1,"kernel_boot_id":"boot-1","next_domid":3,"dom0_mem_kib":2097152,
"guests":[{"domid":1,"name":"a","max_mem_kib":262144,"target_mem_kib":262144,"vcpus_max":2,"vcpus_online":1,
"created_at":"2026-01-01T00:00:00Z","running_since":"2026-01-01T00:00:00Z","request":{"reason":1,"due":"2026-01-01T00:00:01Z"}}]}`)
	// a guest dying until after the clock below, beside its running successor
	f.Add(`{"version":1,"kernel_boot_id":"boot-1","next_domid":3,"dom0_mem_kib":2097152,"guests":[
{"domid":2,"name":"a","max_mem_kib":262144,"target_mem_kib":262144,"vcpus_max":1,"vcpus_online":1,
"created_at":"2026-01-01T00:00:30Z","faults":{"dying":5000000000}}],"dying":[
{"domid":1,"name":"a","max_mem_kib":262144,"target_mem_kib":262144,"vcpus_max":1,"vcpus_online":1,
"created_at":"2026-01-01T00:00:00Z","faults":{"dying":5000000000},"dying_until":"2026-01-01T00:02:00Z"}]}`)
	f.Add(`{"version":1,"kernel_boot_id":"boot-1","guests":[null]}`)
	f.Add(`{"version":1,"kernel_boot_id":"boot-1","guests":[{"domid":2},{"domid":2}]}`)
	f.Add(`{"version":2}`)
	f.Add(`{`)
	clk := time.Date(2026, 1, 1, 0, 1, 0, 0, time.UTC)
	f.Fuzz(func(t *testing.T, content string) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		h, err := Open(Options{Dir: dir, Host: shape(), ShutdownDelay: -1, PollInterval: -1,
			KernelBootID: "boot-1", Now: func() time.Time { return clk }})
		if err != nil {
			return
		}
		defer h.Close()
		ctx := context.Background()
		if err := h.Poll(); err != nil {
			return
		}
		guests, err := h.Guests(ctx)
		if err != nil {
			t.Fatalf("accepted state, then Guests failed: %v", err)
		}
		if _, err := h.HostInfo(ctx); err != nil {
			t.Fatalf("accepted state, then HostInfo failed: %v", err)
		}
		// A cancelled context: a guest's "delay" fault may be years long.
		cancelled, cancel := context.WithCancel(ctx)
		cancel()
		for _, g := range guests {
			if g.DomID == 0 {
				continue
			}
			h.Guest(ctx, g.DomID)
			h.Destroy(cancelled, g.DomID)
		}
	})
}
