package procfile

import (
	"fmt"
	"os"
	"path/filepath"
	"runtime"
)

// CheckNumbers compares the procedure numbers a client of the remote
// program keeps by hand (number → name as remote_protocol.x spells it)
// with the committed data file (tools/genprocs/libvirt-VERSION.procs,
// found beside this source, so only tests can use it), and describes
// each that differs.
func CheckNumbers(names map[uint32]string) ([]string, error) {
	_, self, _, _ := runtime.Caller(0)
	matches, _ := filepath.Glob(filepath.Join(filepath.Dir(self), "..", "libvirt-*.procs"))
	if len(matches) == 0 {
		return nil, fmt.Errorf("no procedure data file beside %s", self)
	}
	r, err := os.Open(matches[len(matches)-1])
	if err != nil {
		return nil, err
	}
	defer r.Close()
	f, err := Parse(r)
	if err != nil {
		return nil, err
	}
	byName := map[string]uint32{}
	for _, p := range f.Procs {
		byName[p.Name] = p.Number
	}
	var bad []string
	for num, name := range names {
		if byName[name] != num {
			bad = append(bad, fmt.Sprintf("%s is %d in libvirt, %d here", name, byName[name], num))
		}
	}
	return bad, nil
}
