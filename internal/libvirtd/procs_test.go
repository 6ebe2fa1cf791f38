package libvirtd

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"virtxend/tools/genprocs/procfile"
)

// TestProcedureNumbers checks the numbers against the record of libvirt's
// remote_protocol.x that tools/genprocs keeps.
func TestProcedureNumbers(t *testing.T) {
	_, self, _, _ := runtime.Caller(0)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "..", "tools", "genprocs", "libvirt-*.procs"))
	if len(matches) == 0 {
		t.Fatal("no procedure data file")
	}
	r, err := os.Open(matches[len(matches)-1])
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	f, err := procfile.Parse(r)
	if err != nil {
		t.Fatal(err)
	}
	byName := map[string]uint32{}
	for _, p := range f.Procs {
		byName[p.Name] = p.Number
	}
	for num, name := range procNames {
		if byName[name] != num {
			t.Errorf("%s is %d in libvirt, %d here", name, byName[name], num)
		}
	}
}
