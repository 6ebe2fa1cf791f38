package driver

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
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
