package drivertests

import (
	"context"
	"slices"
	"strconv"
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

// TestDyingGuests: a guest Xen still lists as dying (destroyed, its pages
// not all released yet; the simulator's "dying" fault keeps it so) never
// runs again. One destroyed with xl while no daemon ran is shut off by the
// next daemon, not reconnected as running, and starts again beside its
// dying self; a start that needs the memory a dying guest still holds
// waits for it, as xl's create does, rather than failing.
func TestDyingGuests(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	old := defineStart(t, d1, "g", guestXML("g", faults(`dying="120"`)))
	d1.Signal(syscall.SIGKILL)
	d1.Wait(bound)
	daemontest.SimXL(t, root, "destroy", "g")

	d2 := daemontest.Start(t, root)
	if got := d2.DomState("g"); got != "shut off (destroyed)" {
		t.Errorf("a guest dying at the daemon's start: %q, want shut off (destroyed)", got)
	}
	if got := strings.Join(strings.Fields(d2.MustVirsh("list", "--name")), " "); got != "Domain-0" {
		t.Errorf("running after the start: %s, want Domain-0 alone", got)
	}
	dying := "g " + strconv.Itoa(old) + " 131072 dying"
	if host := simGuests(t, root); !slices.Contains(host, dying) {
		t.Errorf("the host has %q, not %q", host, dying)
	}
	id := defineStartAgain(t, d2, "g", old)
	if host, running := simGuests(t, root), "g "+strconv.Itoa(id)+" 131072 running"; !slices.Contains(host, dying) || !slices.Contains(host, running) {
		t.Errorf("the host, g started again: %q, want %q and %q", host, dying, running)
	}
	d2.MustVirsh("destroy", "g")

	// 10 GiB of the host's 12 free: two do not fit, and the first holds
	// its memory for 4 s after its destroy
	big := strings.Replace(guestXML("big", faults(`dying="4"`)), "<memory unit='MiB'>128</memory>", "<memory unit='MiB'>10240</memory>", 1)
	first := defineStart(t, d2, "big", big)
	d2.MustVirsh("destroy", "big")
	if host := simGuests(t, root); !slices.Contains(host, "big "+strconv.Itoa(first)+" 10485760 dying") {
		t.Logf("big was gone before its start again (a slow machine), so the start's wait is not exercised: %q", host)
	}
	if again := defineStartAgain(t, d2, "big", first); again <= id {
		t.Errorf("big started as %d, not above %d", again, id)
	}
}
