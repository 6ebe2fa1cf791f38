package remote

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

func TestProcNames(t *testing.T) {
	for num, want := range map[uint32]string{1: "virConnectOpen", 187: "virDomainSnapshotNum",
		344: "virConnectGetAllDomainStats", 273: "virConnectListAllDomains"} {
		p, ok := lookupProcName(num)
		if !ok || p.API != want {
			t.Errorf("proc %d: %+v, want %s", num, p, want)
		}
	}
	if _, ok := lookupProcName(99999); ok {
		t.Error("found a procedure that does not exist")
	}
}

// TestProcNamesAreGenerated checks procnames.gen.go is what the generator
// makes now: generated code is never edited by hand.
func TestProcNamesAreGenerated(t *testing.T) {
	out := filepath.Join(t.TempDir(), "procnames.gen.go")
	cmd := exec.Command("go", "run", "../../tools/genprocs", "-o", out)
	if msg, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("genprocs: %v\n%s", err, msg)
	}
	want, _ := os.ReadFile(out)
	got, _ := os.ReadFile("procnames.gen.go")
	if string(got) != string(want) {
		t.Fatal("procnames.gen.go is stale: run go generate ./internal/remote")
	}
}
