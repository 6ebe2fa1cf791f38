package drivertests

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestChangesBehindTheDaemonsBack: what another toolstack does to a
// running guest (simxl, xl for the simulated host) is seen by virsh
// within a second or two, with libvirt's lifecycle events: a pause and an
// unpause, a balloon target, a crash, and a destroy.
func TestChangesBehindTheDaemonsBack(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	w := watchEvents(t, d)
	id := strconv.Itoa(defineStart(t, d, "g", guestXML("g", "")))
	w.waitFor("g", 2) // DEFINED, STARTED

	daemontest.SimXL(t, root, "pause", "g")
	d.WaitState("g", "paused (unknown)")
	daemontest.SimXL(t, root, "unpause", id)
	d.WaitState("g", "running (unpaused)")
	daemontest.SimXL(t, root, "mem-set", "g", "65536")
	waitInfo(t, d, "g", "Used memory:    65536 KiB")

	daemontest.SimXL(t, root, "destroy", "g")
	d.WaitState("g", "shut off (destroyed)")
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/PAUSED", "RESUMED/UNPAUSED", "STOPPED/DESTROYED")

	defineStart(t, d, "c", guestXML("c", "<on_crash>destroy</on_crash>"))
	daemontest.SimXL(t, root, "crash", "c")
	d.WaitState("c", "shut off (crashed)")
}

// waitInfo polls virsh dominfo until it shows line.
func waitInfo(t *testing.T, d *daemontest.Daemon, name, line string) {
	t.Helper()
	info := ""
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if info = d.MustVirsh("dominfo", name); strings.Contains(info, line) {
			return
		}
	}
	t.Fatalf("dominfo never showed %q:\n%s", line, info)
}
