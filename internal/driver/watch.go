package driver

import (
	"context"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
)

// DefaultWatchInterval is how often the driver compares what the
// hypervisor says of its running guests with its own view.
const DefaultWatchInterval = time.Second

// watchLoop notices what was done to the guests behind the driver's back,
// with xl or another toolstack, which libxl sends no event for: a guest
// paused or unpaused. libvirt's libxl driver misses it and shows a guest
// `xl pause`d as running (the kind of confusion Qubes OS issue 4578
// reports). A guest destroyed behind its back already comes as a death
// event, and dominfo reads memory and CPU time from the hypervisor. The
// online vCPU count is not followed: a booting guest's lags the count it
// was given until its kernel brings them up. One read of the hypervisor
// serves every guest, each second.
func (drv *Driver) watchLoop(interval time.Duration) {
	defer drv.handlers.Done()
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-drv.stop:
			return
		case <-t.C:
			drv.reconcile(context.Background())
		}
	}
}

// watched is a domain as it was before the watch read the hypervisor.
type watched struct {
	d   *domain
	gen uint64 // its stateGeneration then
}

// reconcile brings each running domain in line with the hypervisor. The
// domains and their state generations are taken before the hypervisor is
// read: a domain started, paused or resumed by the driver after that is
// left to the next look (a start that the read caught still paused, as
// libxl creates a guest, was taken for a pause behind the driver's back,
// then an unpause: the oracle saw "running (unpaused)").
func (drv *Driver) reconcile(ctx context.Context) {
	drv.mu.RLock()
	byID := make(map[int32]watched, len(drv.byID))
	for id, d := range drv.byID {
		byID[id] = watched{d: d}
	}
	drv.mu.RUnlock()
	for id, w := range byID {
		w.gen = w.d.stateGeneration()
		byID[id] = w
	}
	guests, err := drv.be.Guests(ctx)
	if err != nil {
		drv.log.Debug("cannot read the guests to watch them", "err", err)
		return
	}
	for _, g := range guests {
		if w, ok := byID[int32(g.DomID)]; ok && g.DomID != backend.Dom0 && g.UUID == w.d.uuid {
			drv.reconcileGuest(ctx, w, g)
		}
	}
}

// reconcileGuest applies to w's domain what the hypervisor reports of its
// guest, under the domain's job and only if the job is free and the
// domain's state has not changed since the read: a change the driver is
// making, or has made since, is not one made behind its back, and the
// next look will see it settled.
func (drv *Driver) reconcileGuest(ctx context.Context, w watched, g backend.GuestInfo) {
	d := w.d
	if !d.job.TryBegin(ctx, job.Modify) {
		return
	}
	defer drv.endJob(d)
	s := d.snap()
	if s.ref.ID != int32(g.DomID) || d.stateGeneration() != w.gen {
		return // stopped, restarted or changed by the driver since the read
	}
	if drv.reconcileState(d, s, g) {
		if err := drv.writeStatus(d.snap()); err != nil {
			drv.log.Warn("cannot save status", "domain", s.ref.Name, "err", err)
		}
	}
}

// reconcileState follows a pause or unpause made outside the daemon, with
// the events libvirt's drivers send when a guest stops or resumes by
// itself (as QEMU's driver does for a pause it did not ask for).
func (drv *Driver) reconcileState(d *domain, s snapshot, g backend.GuestInfo) bool {
	paused := g.State == backend.StatePaused
	switch {
	case paused && s.state == libvirt.DomainRunning:
		drv.log.Info("guest paused outside the daemon", "domain", s.ref.Name)
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUnknown))
		drv.emit(s.ref, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused))
		return true
	case !paused && s.state == libvirt.DomainPaused &&
		(g.State == backend.StateRunning || g.State == backend.StateBlocked):
		drv.log.Info("guest unpaused outside the daemon", "domain", s.ref.Name)
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningUnpaused))
		drv.emit(s.ref, libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused))
		return true
	}
	return false
}
