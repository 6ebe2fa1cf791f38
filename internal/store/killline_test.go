package store

import (
	"strings"
	"testing"
)

// FuzzKillPoint: the harness reads any line without panicking; a line it
// takes is the hook's line for what it read, and what the hook prints
// (a step without spaces, a path without a newline) reads back as itself.
func FuzzKillPoint(f *testing.F) {
	f.Add("virtxend-killpoint 12 write:renamed /tmp/r/var/lib/libvirt/libxl/g.xml", int64(12), "write:renamed", "/p")
	f.Add("virtxend-killpoint 3 clean:removed /tmp/a b/.x.tmp", int64(3), "clean:removed", "/tmp/with space/x")
	f.Add("virtxend-killpoint 1", int64(1), "s", "")
	f.Add("virtxend-killpoint +07 s p", int64(-1), "", "")
	f.Add("time=... level=INFO msg=started", int64(9223372036854775807), "mkdir:made", "/")
	f.Fuzz(func(t *testing.T, line string, n int64, step, path string) {
		if k, ok := ParseKillPoint(line); ok && k.Line() != line {
			t.Fatalf("%q reads as %+v, which prints as %q", line, k, k.Line())
		}
		want := KillPoint{N: n, Step: step, Path: path}
		printable := n > 0 && step != "" && !strings.ContainsAny(step, " \n") && !strings.Contains(path, "\n")
		if k, ok := ParseKillPoint(want.Line()); printable && (!ok || k != want) {
			t.Fatalf("%+v prints as %q, which reads as %+v (%v)", want, want.Line(), k, ok)
		}
	})
}
