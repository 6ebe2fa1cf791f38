package libxl

import (
	"os"
	"path/filepath"
	"testing"
)

// TestConsoledID: xenconsoled is found by its pid file or among the
// processes, named by pid and start time; another process in its pid
// file, or none at all, is not it.
func TestConsoledID(t *testing.T) {
	proc := t.TempDir()
	stat := func(pid, comm, start string) {
		d := filepath.Join(proc, pid)
		os.MkdirAll(d, 0o755)
		line := pid + " (" + comm + ") S 1 1 1 0 -1 4194560 10 0 0 0 0 0 0 0 20 0 1 0 " + start + " 1000 100"
		os.WriteFile(filepath.Join(d, "stat"), []byte(line), 0o644)
	}
	pidFile := filepath.Join(t.TempDir(), "xenconsoled.pid")
	if _, err := consoledID(proc, []string{pidFile}); err == nil {
		t.Fatal("found a xenconsoled among no processes")
	}
	stat("7", "sh (x) y", "99")
	stat("42", "xenconsoled", "1234")
	os.WriteFile(pidFile, []byte("7\n"), 0o644) // stale: another process now
	id, err := consoledID(proc, []string{pidFile})
	if err != nil || id != "42@1234" {
		t.Fatalf("consoledID = %q, %v; want 42@1234", id, err)
	}
	stat("42", "xenconsoled", "5678") // restarted with the same pid
	os.WriteFile(pidFile, []byte("42\n"), 0o644)
	if id, err := consoledID(proc, []string{pidFile}); err != nil || id != "42@5678" {
		t.Fatalf("after a restart consoledID = %q, %v; want 42@5678", id, err)
	}
}
