package driver

import (
	"context"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
)

// TestPausedBehindTheDriversBack: a guest paused and unpaused by another
// toolstack (a second handle on the simulated host, as xl is on Xen) is
// seen by the driver's watch, with libvirt's events, and its status saved.
func TestPausedBehindTheDriversBack(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	w := watch(t, drv)
	d := define(t, drv, "g", 1, "")
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	xl := e.sim() // another process's view of the same host
	defer xl.Close()
	id := backend.DomID(started.ID)
	if err := xl.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	drv.reconcile(ctx)
	if st, reason := stateOf(t, drv, d); st != libvirt.DomainPaused || reason != int32(libvirt.DomainPausedUnknown) {
		t.Fatalf("after xl pause: state %v reason %d", st, reason)
	}
	if err := xl.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	drv.reconcile(ctx)
	if st, reason := stateOf(t, drv, d); st != libvirt.DomainRunning || reason != int32(libvirt.DomainRunningUnpaused) {
		t.Fatalf("after xl unpause: state %v reason %d", st, reason)
	}
	w.expect(
		lc{"g", libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedAdded)},
		lc{"g", libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedBooted)},
		lc{"g", libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused)},
		lc{"g", libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused)},
	)
	// The status file follows: a restarted driver sees it running.
	drv2, _ := e.restart(drv)
	if st, _ := stateOf(t, drv2, d); st != libvirt.DomainRunning {
		t.Fatalf("after restart: %v", st)
	}
}

// staleHost hands the watch a read of the guests, then lets the test act
// before the watch goes on with it.
type staleHost struct {
	*sim.Host
	afterRead func()
}

func (h *staleHost) Guests(ctx context.Context) ([]backend.GuestInfo, error) {
	g, err := h.Host.Guests(ctx)
	if f := h.afterRead; f != nil {
		h.afterRead = nil
		f()
	}
	return g, err
}

// TestWatchIgnoresAReadOlderThanTheDriversChange: a guest the driver
// pauses after the watch read the hypervisor (which then still said
// running) stays paused as the driver left it; the stale read is not
// taken for an unpause behind its back. (The same race made a guest just
// started, read while libxl still held it paused, "running (unpaused)".)
func TestWatchIgnoresAReadOlderThanTheDriversChange(t *testing.T) {
	e := newEnv(t)
	h := &staleHost{Host: e.sim()}
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	started, err := drv.Create(ctx, define(t, drv, "g", 1, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	h.afterRead = func() {
		if err := drv.Suspend(ctx, started); err != nil {
			t.Error(err)
		}
	}
	drv.reconcile(ctx)
	drv.reconcile(ctx) // a fresh read: paused, as the driver has it
	if st, reason := stateOf(t, drv, started); st != libvirt.DomainPaused || reason != int32(libvirt.DomainPausedUser) {
		t.Fatalf("state %v reason %d, want paused by the user", st, reason)
	}
}
