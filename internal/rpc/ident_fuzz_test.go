package rpc

import (
	"fmt"
	"testing"
)

// FuzzStartTime: any /proc/PID/stat text reads without a panic, and the
// start time (field 22) of a line the kernel could write is found whatever
// the command name holds (spaces, parentheses, newlines), as libvirt's
// virProcessGetStartTime finds it, from the last ')'.
func FuzzStartTime(f *testing.F) {
	f.Add("virsh", uint64(123456))
	f.Add("a) (b", uint64(0))
	f.Add(") 1 2 3", uint64(18446744073709551615))
	f.Add("", uint64(7))
	f.Fuzz(func(t *testing.T, comm string, ticks uint64) {
		parseStartTime(comm)
		line := fmt.Sprintf("4242 (%s) S 1 4242 4242 34816 4242 4194304 1197 0 0 0 3 1 0 0 20 0 1 0 %d 9580544 1117 "+
			"18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", comm, ticks)
		if got, ok := parseStartTime(line); !ok || got != ticks {
			t.Fatalf("start time of %q: %d %v, want %d", line, got, ok, ticks)
		}
	})
}
