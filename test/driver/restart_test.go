package drivertests

import (
	"context"
	"strings"
	"syscall"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/test/daemontest"
)

// TestRestartWithRunningGuests stops the daemon (cleanly, or with kill -9)
// while guests run and starts a new one on the same root: the guests are
// still there with their ids and states, events about them flow to the new
// daemon's clients, and what happened to guests meanwhile is reflected.
func TestRestartWithRunningGuests(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) { testRestart(t, sig) })
	}
}

func testRestart(t *testing.T, sig syscall.Signal) {
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	idA := defineStart(t, d1, "alpha", guestXML("alpha", ""))
	idB := defineStart(t, d1, "beta", guestXML("beta", ""))
	d1.MustVirsh("suspend", "beta")
	// gamma powers itself off while no daemon runs.
	idG := defineStart(t, d1, "gamma", guestXML("gamma", ""))
	// delta is destroyed behind the daemon's back (xl destroy) while down,
	// and so is the transient zeta, which then is gone altogether.
	idD := defineStart(t, d1, "delta", guestXML("delta", ""))
	d1.MustVirsh("create", daemontest.WriteFile(t, t.TempDir(), "zeta.xml", guestXML("zeta", "")))
	idZ := domid(t, d1, "zeta")
	// eta crashes at once and is preserved: it stays so across restarts.
	idE := defineStart(t, d1, "eta", guestXML("eta", "<on_crash>preserve</on_crash>"+faults(`crash-after="0.2"`)))
	d1.WaitState("eta", "shut off (crashed)")

	d1.Signal(sig)
	d1.Wait(bound)
	destroyOnHost(t, d1, idD)
	destroyOnHost(t, d1, idZ)
	poweroffOnHost(t, d1, idG)

	d2 := daemontest.Start(t, root)
	w := watchEvents(t, d2)
	if got := domid(t, d2, "alpha"); got != idA {
		t.Errorf("alpha: id %d after restart, was %d", got, idA)
	}
	if got := domid(t, d2, "beta"); got != idB {
		t.Errorf("beta: id %d after restart, was %d", got, idB)
	}
	if got := strings.TrimSpace(d2.MustVirsh("domstate", "alpha")); got != "running" {
		t.Errorf("alpha: state %q after restart, want running", got)
	}
	if got := strings.TrimSpace(d2.MustVirsh("domstate", "beta")); got != "paused" {
		t.Errorf("beta: state %q after restart, want paused", got)
	}
	d2.WaitState("gamma", "shut off (shutdown)")
	d2.WaitState("delta", "shut off (destroyed)")
	if got := domid(t, d2, "delta"); got != -1 {
		t.Errorf("delta: id %d, want none", got)
	}
	if r := d2.Virsh("domstate", "zeta"); r.Code == 0 {
		t.Errorf("vanished transient guest still listed: %q", r.Stdout)
	}
	if got, id := d2.DomState("eta"), domid(t, d2, "eta"); got != "shut off (crashed)" || id != idE {
		t.Errorf("preserved crashed guest after restart: %q id %d, want shut off (crashed) id %d", got, id, idE)
	}
	if got := strings.Fields(d2.MustVirsh("list", "--name")); strings.Join(got, " ") != "Domain-0 alpha beta eta" {
		t.Errorf("active after restart: %v, want Domain-0 alpha beta eta", got)
	}

	// Events about recovered guests reach the new daemon's clients.
	d2.MustVirsh("destroy", "alpha")
	d2.MustVirsh("resume", "beta")
	w.exactly(d2, "alpha", "STOPPED/DESTROYED")
	w.exactly(d2, "beta", "RESUMED/UNPAUSED")
	d2.WaitState("alpha", "shut off (destroyed)")
	d2.WaitState("beta", "running (unpaused)")

	// The host's domids keep increasing across the restart.
	if id := defineStart(t, d2, "epsilon", guestXML("epsilon", "")); id <= idE {
		t.Errorf("new guest got id %d, not above %d", id, idE)
	}
	if code := d2.Stop(); code != 0 {
		t.Errorf("second daemon exit %d", code)
	}
}

// destroyOnHost destroys a guest directly on the simulated host, as an
// administrator's `xl destroy` would while no daemon runs.
func destroyOnHost(t *testing.T, d *daemontest.Daemon, id int) {
	t.Helper()
	h := openHost(t, d)
	defer h.Close()
	if err := h.Destroy(context.Background(), backend.DomID(id)); err != nil {
		t.Fatalf("destroy domid %d on the host: %v", id, err)
	}
}

// poweroffOnHost makes guest id power itself off, as its own poweroff
// would, with no daemon involved. (A guest told by a fault to do it some
// seconds after its start may do it before the daemon is gone, on a
// loaded machine.)
func poweroffOnHost(t *testing.T, d *daemontest.Daemon, id int) {
	t.Helper()
	h := openHost(t, d)
	defer h.Close()
	if err := h.GuestShutdown(context.Background(), backend.DomID(id), backend.ReasonPoweroff); err != nil {
		t.Fatalf("poweroff of domid %d on the host: %v", id, err)
	}
}

// openHost attaches to d's simulated host, as xl would.
func openHost(t *testing.T, d *daemontest.Daemon) *sim.Host {
	t.Helper()
	h, err := sim.Open(sim.Options{Dir: d.Paths.SimHostDir(), Host: sim.Shape(config.DefaultLibxl().Sim), PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	return h
}
