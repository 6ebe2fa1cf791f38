package hostdev

import (
	"log/slog"
	"os"
	"path/filepath"
	"testing"
)

// FuzzState: any state file loads without panicking, and what loads saves
// and loads back to the same books.
func FuzzState(f *testing.F) {
	f.Add([]byte(`{"active":[{"addr":"0000:01:00.0","managed":true,"unbind_from_stub":true,"domain":"vm1"}],"inactive":[{"addr":"0000:02:00.0"}]}`))
	f.Add([]byte(`{"active":[{"addr":"zz"}]}`))
	f.Add([]byte(`null`))
	f.Fuzz(func(t *testing.T, b []byte) {
		path := filepath.Join(t.TempDir(), "hostdevs.json")
		if err := os.WriteFile(path, b, 0o600); err != nil {
			t.Fatal(err)
		}
		log := slog.New(slog.DiscardHandler)
		m := New(newFakeHost(), path, log)
		m.mu.Lock()
		m.save()
		m.mu.Unlock()
		m2 := New(newFakeHost(), path, log)
		if len(m2.active) != len(m.active) || len(m2.inactive) != len(m.inactive) {
			t.Fatalf("reloaded %d/%d, had %d/%d", len(m2.active), len(m2.inactive), len(m.active), len(m.inactive))
		}
	})
}
