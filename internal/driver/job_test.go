package driver

import (
	"context"
	"errors"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/caller"
	"virtxend/internal/virerr"
)

// gatedBackend holds Pause of one guest until the test opens the gate.
type gatedBackend struct {
	backend.Backend
	id      backend.DomID
	entered chan struct{}
	gate    chan struct{}
}

func (g *gatedBackend) Pause(ctx context.Context, id backend.DomID) error {
	if id == g.id {
		g.entered <- struct{}{}
		<-g.gate
	}
	return g.Backend.Pause(ctx, id)
}

// gatedDriver starts a driver whose backend holds Pause of guest "a";
// guests a and b are running.
func gatedDriver(t *testing.T, opts Options) (*Driver, *gatedBackend, Domain, Domain) {
	t.Helper()
	e := newEnv(t)
	gb := &gatedBackend{Backend: e.sim(), entered: make(chan struct{}), gate: make(chan struct{})}
	drv, err := New(e.cfg, e.root, gb, nil, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	a, b := define(t, drv, "a", 1, ""), define(t, drv, "b", 2, "")
	for _, d := range []Domain{a, b} {
		if _, err := drv.Create(ctx, d, 0); err != nil {
			t.Fatal(err)
		}
	}
	ra, _ := drv.LookupByName(ctx, "a")
	gb.id = backend.DomID(ra.ID)
	return drv, gb, a, b
}

// TestJobWaitTimesOut: an operation that cannot get the domain's job in
// time fails as libvirt's does, naming the call that holds it, and the
// domain stays usable.
func TestJobWaitTimesOut(t *testing.T) {
	drv, gb, a, _ := gatedDriver(t, Options{JobWait: time.Nanosecond})
	suspended := make(chan error)
	client := caller.With(ctx, caller.Call{Client: 3, Procedure: "DOMAIN_SUSPEND"})
	go func() { suspended <- drv.Suspend(client, a) }()
	<-gb.entered
	wantErr(t, drv.Resume(ctx, a), libvirt.ErrOperationTimeout, virerr.FromNone,
		"Timed out during operation: cannot acquire state change lock (held by monitor=remoteDispatchDomainSuspend)")
	close(gb.gate)
	if err := <-suspended; err != nil {
		t.Fatal(err)
	}
	// With the usual wait, the job given up above is free again.
	drv.opts.JobWait = 0
	if err := drv.Resume(ctx, a); err != nil {
		t.Fatalf("resume once the job is free: %v", err)
	}
}

// TestJobsSerialisePerDomain: while an operation on one guest is in the
// hypervisor, another state change of that guest waits for it, while
// other guests are changed and every guest can be read.
func TestJobsSerialisePerDomain(t *testing.T) {
	drv, gb, a, b := gatedDriver(t, Options{})
	w := watch(t, drv)

	suspended := make(chan error)
	go func() { suspended <- drv.Suspend(ctx, a) }()
	<-gb.entered // a's job is held inside the hypervisor call

	// Another guest is not held up.
	if err := drv.Suspend(ctx, b); err != nil {
		t.Fatal(err)
	}
	if err := drv.Resume(ctx, b); err != nil {
		t.Fatal(err)
	}
	// Reads of the busy guest do not wait for its job.
	if st, _ := stateOf(t, drv, a); st != libvirt.DomainRunning {
		t.Errorf("a's state during its suspend: %v", st)
	}
	// A second state change of the busy guest waits: given up, it fails
	// with its context's error, never having run.
	gaveUp, cancel := context.WithCancel(ctx)
	cancel()
	if err := drv.Resume(gaveUp, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("resume of a during its suspend: %v, want it to wait", err)
	}
	resumed := make(chan error)
	go func() { resumed <- drv.Resume(ctx, a) }()
	close(gb.gate)
	if err := <-suspended; err != nil {
		t.Fatal(err)
	}
	if err := <-resumed; err != nil {
		t.Fatal(err)
	}
	w.expect(
		lc{"b", libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused)},
		lc{"b", libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused)},
		lc{"a", libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused)},
		lc{"a", libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused)},
	)
	if st, _ := stateOf(t, drv, a); st != libvirt.DomainRunning {
		t.Errorf("a's final state: %v", st)
	}
}
