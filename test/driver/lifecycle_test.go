package drivertests

import (
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// Guest-initiated lifecycle through clients: what virsh shows and the
// lifecycle events a libvirt-python event loop receives, with libvirt's
// libxl event/detail pairs (libxlDomainShutdownThread).

func TestShutdownIsAsynchronous(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "g", guestXML("g", ""))
	d.MustVirsh("shutdown", "g") // returns before the guest acts
	d.WaitState("g", "shut off (shutdown)")
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN")

	// A paused guest cannot act on the request: the call returns and the
	// guest stays paused until resumed, then shuts down.
	d.MustVirsh("start", "g")
	d.MustVirsh("suspend", "g")
	d.MustVirsh("shutdown", "g")
	if got := d.DomState("g"); got != "paused (user)" {
		t.Errorf("paused guest after shutdown: %q", got)
	}
	d.MustVirsh("resume", "g")
	d.WaitState("g", "shut off (shutdown)")
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN",
		"STARTED/BOOTED", "SUSPENDED/PAUSED", "RESUMED/UNPAUSED", "STOPPED/SHUTDOWN")
}

func TestOnPoweroffRestart(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	id := defineStart(t, d, "g", guestXML("g", "<on_poweroff>restart</on_poweroff>"))
	d.MustVirsh("shutdown", "g")
	newID := waitNewID(t, d, "g", id)
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("after restart: %q (id %d)", got, newID)
	}
	d.MustVirsh("destroy", "g")
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED", "STOPPED/DESTROYED")
}

func TestReboot(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	id := defineStart(t, d, "g", guestXML("g", ""))
	d.MustVirsh("reboot", "g")
	waitNewID(t, d, "g", id)
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("after reboot: %q", got)
	}
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED")

	// on_reboot=destroy: the guest's reboot ends it.
	d.MustVirsh("destroy", "g")
	define(t, d, "h", guestXML("h", "<on_reboot>destroy</on_reboot>"))
	d.MustVirsh("start", "h")
	d.MustVirsh("reboot", "h")
	d.WaitState("h", "shut off (shutdown)")
	w.exactly(d, "h", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN")
}

func TestOnCrash(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	crash := faults(`crash-after="0.5"`)

	// Default (destroy): the crashed guest is shut off.
	defineStart(t, d, "dflt", guestXML("dflt", crash))
	d.WaitState("dflt", "shut off (crashed)")
	w.exactly(d, "dflt", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/CRASHED")

	// preserve: shut off (crashed) but kept with its id until destroyed.
	id := defineStart(t, d, "keep", guestXML("keep", "<on_crash>preserve</on_crash>"+crash))
	d.WaitState("keep", "shut off (crashed)")
	if got := domid(t, d, "keep"); got != id {
		t.Errorf("preserved crashed guest: id %d, want %d", got, id)
	}
	d.MustVirsh("destroy", "keep")
	d.WaitState("keep", "shut off (destroyed)")
	w.exactly(d, "keep", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/CRASHED", "STOPPED/DESTROYED")

	// restart: a new boot after each crash (the fault applies to every
	// boot, so it keeps crashing until destroyed).
	id = defineStart(t, d, "again", guestXML("again", "<on_crash>restart</on_crash>"+crash))
	waitNewID(t, d, "again", id)
	d.MustVirsh("destroy", "again")
	evs := w.waitFor("again", 5)
	want := []string{"DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/CRASHED", "STARTED/BOOTED"}
	if strings.Join(evs[:4], " ") != strings.Join(want, " ") || evs[len(evs)-1] != "STOPPED/DESTROYED" {
		t.Errorf("again: events %v, want %v ... STOPPED/DESTROYED", evs, want)
	}
}

// waitNewID polls until the guest runs with an id other than old.
func waitNewID(t *testing.T, d *daemontest.Daemon, name string, old int) int {
	t.Helper()
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if id := domid(t, d, name); id >= 0 && id != old {
			return id
		}
	}
	t.Fatalf("%s never ran with an id other than %d", name, old)
	return 0
}
