package drivertests

import (
	"fmt"
	"os/exec"
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

// TestVirshReset: virsh reset, which libvirt's Xen driver does not serve,
// boots the running guest again at once (the open console session prints
// the banner of a new boot, under a new id, as on Xen), with the events of a destroy and
// a boot; libvirt-python's reset does the same; libvirt's errors for a
// guest that does not run, for Domain-0 and on the read-only socket.
func TestVirshReset(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	define(t, d, "g", guestXML("g", ""))
	if r := d.Virsh("reset", "g"); r.Code == 0 || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("reset of a shut-off guest: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("start", "g")
	ttyconsole(t, d, "g")
	tm := console(t, d, "g")
	tm.Expect("(domid 1,")
	d.MustVirsh("reset", "g")
	// the session follows the guest to its new boot
	tm.Expect("Booting simulated Xen guest 'g' (domid 2,")
	if got, want := domid(t, d, "g"), 2; got != want {
		t.Fatalf("after reset: id %d, want %d", got, want)
	}
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("after reset: %q", got)
	}
	ttyconsole(t, d, "g")
	tm.Type("\x1d")
	tm.Wait()

	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("g")
dom.suspend()
print(dom.reset(0), conn.lookupByName("g").ID(), dom.state())
`)
	if got := strings.TrimSpace(r.Stdout); got != "0 3 [3, 1]" {
		t.Errorf("libvirt-python's reset of a paused guest: %q %s", got, r.Stderr)
	}
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/DESTROYED", "STARTED/BOOTED",
		"SUSPENDED/PAUSED", "STOPPED/DESTROYED", "STARTED/BOOTED")

	if r := d.Virsh("reset", "Domain-0"); r.Code == 0 || !strings.Contains(r.Stderr, "Domain-0 does not support requested operation") {
		t.Errorf("reset Domain-0: %d %q", r.Code, r.Stderr)
	}
	r = daemontest.Run(t, "virsh", "-c", d.ROURI(), "reset", "g")
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainReset") {
		t.Errorf("read-only reset: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("destroy", "g")
}

// TestVirshSetLifecycleAction: virsh set-lifecycle-action, which libvirt's
// Xen driver does not serve, changes what a guest's reboot does: live,
// for this boot only (a reboot on Xen starts from the persistent
// definition), and in the persistent definition; libvirt's errors for an
// action the event does not take, Domain-0, a transient guest's config
// and the read-only socket.
func TestVirshSetLifecycleAction(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	id := defineStart(t, d, "g", guestXML("g", ""))
	d.MustVirsh("set-lifecycle-action", "g", "crash", "preserve", "--live")
	mustHave(t, d.MustVirsh("dumpxml", "g"), "<on_crash>preserve</on_crash>")
	if x := d.MustVirsh("dumpxml", "--inactive", "g"); strings.Contains(x, "<on_crash>preserve") {
		t.Errorf("a live change reached the persistent definition:\n%s", x)
	}
	// live: this boot's reboot powers off
	d.MustVirsh("set-lifecycle-action", "g", "reboot", "destroy")
	d.MustVirsh("reboot", "g")
	d.WaitState("g", "shut off (shutdown)")
	// config: every boot's reboot does
	d.MustVirsh("set-lifecycle-action", "g", "reboot", "destroy", "--config")
	mustHave(t, d.MustVirsh("dumpxml", "--inactive", "g"), "<on_reboot>destroy</on_reboot>")
	d.MustVirsh("start", "g")
	d.MustVirsh("reboot", "g")
	d.WaitState("g", "shut off (shutdown)")
	d.MustVirsh("set-lifecycle-action", "g", "reboot", "restart", "--config")
	newID := defineStartAgain(t, d, "g", id)
	d.MustVirsh("reboot", "g")
	waitNewID(t, d, "g", newID)
	// no event for the change itself, as from libvirt's QEMU driver
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED",
		"STOPPED/SHUTDOWN", "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED")

	for _, tc := range []struct{ args, want string }{
		{"g poweroff coredump-destroy", "error: unsupported configuration: Lifecycle event 'poweroff' doesn't support 'coredump-destroy' action"},
		{"Domain-0 crash preserve", "Domain-0 does not support requested operation"},
	} {
		if r := d.Virsh(append([]string{"set-lifecycle-action"}, strings.Fields(tc.args)...)...); r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("set-lifecycle-action %s: %d %q", tc.args, r.Code, r.Stderr)
		}
	}
	r := daemontest.Run(t, "virsh", "-c", d.ROURI(), "set-lifecycle-action", "g", "crash", "preserve")
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainSetLifecycleAction") {
		t.Errorf("read-only set-lifecycle-action: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("destroy", "g")
}

// defineStartAgain starts a defined guest and returns its new id.
func defineStartAgain(t *testing.T, d *daemontest.Daemon, name string, old int) int {
	t.Helper()
	d.MustVirsh("start", name)
	id := domid(t, d, name)
	if id == old {
		t.Fatalf("%s started with its old id %d", name, id)
	}
	return id
}

func mustHave(t *testing.T, s string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(s, p) {
			t.Errorf("no %q in:\n%s", p, s)
		}
	}
}

// TestVirshDomcontrol: virsh domcontrol, which libvirt's Xen driver does
// not serve: ok for a running guest no call holds, occupied (and for how
// long) while one does (a suspend the simulated host makes slow),
// libvirt's error for a guest that does not run. The save job's
// "background job" is in TestSaveJob.
func TestVirshDomcontrol(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "g", guestXML("g", faults(`delay="2"`)))
	if r := d.Virsh("domcontrol", "g"); r.Code == 0 || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("domcontrol of a shut-off guest: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("start", "g")
	if got := strings.TrimSpace(d.MustVirsh("domcontrol", "g")); got != "ok" {
		t.Errorf("domcontrol of an idle guest: %q", got)
	}
	suspend := make(chan error, 1)
	go func() {
		out, err := exec.Command("virsh", "-c", d.URI(), "suspend", "g").CombinedOutput()
		if err != nil {
			err = fmt.Errorf("%v: %s", err, out)
		}
		suspend <- err
	}()
	var got string
	for deadline := time.Now().Add(bound); !strings.HasPrefix(got, "occupied ("); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("domcontrol during the suspend: %q", got)
		}
		got = d.MustVirsh("domcontrol", "g")
	}
	if err := <-suspend; err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if got := strings.TrimSpace(d.MustVirsh("domcontrol", "g")); got != "ok" {
		t.Errorf("domcontrol after the suspend: %q", got)
	}
}
