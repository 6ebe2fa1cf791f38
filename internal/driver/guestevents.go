package driver

import (
	"context"
	"fmt"
	"path/filepath"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

// eventLoop hands each backend event to its own goroutine, as libvirt
// starts a thread per shutdown or death event: handling one may wait for
// the domain's job or restart a guest, and must not hold up others.
func (drv *Driver) eventLoop() {
	defer close(drv.loopDone)
	for {
		select {
		case <-drv.stop:
			return
		case ev, ok := <-drv.be.Events():
			if !ok {
				return
			}
			drv.handlers.Add(1)
			go func() {
				defer drv.handlers.Done()
				drv.handleEvent(ev)
			}()
		}
	}
}

func (drv *Driver) handleEvent(ev backend.Event) {
	drv.mu.RLock()
	d := drv.byID[int32(ev.DomID)]
	drv.mu.RUnlock()
	if d == nil || ev.DomID == backend.Dom0 {
		return
	}
	ctx := context.Background()
	if err := drv.beginJob(ctx, d); err != nil {
		return
	}
	defer drv.endJob(d)
	if d.ref().ID != int32(ev.DomID) {
		return // stale: the domain stopped or restarted meanwhile
	}
	switch ev.Kind {
	case backend.EventDeath:
		drv.stopped(d, int32(libvirt.DomainShutoffDestroyed), int32(libvirt.DomainEventStoppedDestroyed))
	case backend.EventShutdown:
		drv.guestShutdown(ctx, d, ev.Reason)
	}
}

// Lifecycle actions (<on_poweroff> etc.) and libvirt's defaults for them.
const (
	actDestroy         = "destroy"
	actRestart         = "restart"
	actRenameRestart   = "rename-restart"
	actPreserve        = "preserve"
	actCoredumpDestroy = "coredump-destroy"
	actCoredumpRestart = "coredump-restart"
)

func orDefault(action, def string) string {
	if action == "" {
		return def
	}
	return action
}

// guestShutdown is libxlDomainShutdownThread: the guest shut itself down
// for reason; record it, report it, then do what on_poweroff, on_reboot or
// on_crash says, as libxl does.
func (drv *Driver) guestShutdown(ctx context.Context, d *domain, reason backend.ShutdownReason) {
	def := d.snap().def.parsed()
	var stateReason, detail int32
	var action string
	switch reason {
	case backend.ReasonSuspend:
		return // as xl, libvirt leaves suspend to the suspend path
	case backend.ReasonPoweroff:
		stateReason, detail = int32(libvirt.DomainShutoffShutdown), int32(libvirt.DomainEventStoppedShutdown)
		action = orDefault(def.OnPoweroff, actDestroy)
	case backend.ReasonReboot:
		stateReason, detail = int32(libvirt.DomainShutoffShutdown), int32(libvirt.DomainEventStoppedShutdown)
		action = orDefault(def.OnReboot, actRestart)
	case backend.ReasonCrash:
		stateReason, detail = int32(libvirt.DomainShutoffCrashed), int32(libvirt.DomainEventStoppedCrashed)
		action = orDefault(def.OnCrash, actDestroy)
	default:
		drv.log.Info("Unhandled shutdown_reason", "domain", def.Name, "reason", reason)
		return
	}
	d.setState(libvirt.DomainShutoff, stateReason)
	ref := d.ref()
	if reason != backend.ReasonCrash && (action == actCoredumpDestroy || action == actCoredumpRestart) {
		action = actPreserve // libxl only dumps core on crash
	}
	switch action {
	case actCoredumpDestroy, actCoredumpRestart:
		drv.coreDump(ctx, d)
	}
	switch action {
	case actDestroy, actCoredumpDestroy:
		drv.destroyStopped(ctx, d, false)
		drv.emit(ref, libvirt.DomainEventStopped, detail)
	case actRestart, actRenameRestart, actCoredumpRestart:
		drv.destroyStopped(ctx, d, true)
		// Reported before the new boot's STARTED event (libvirt queues
		// them the other way round).
		drv.emit(ref, libvirt.DomainEventStopped, detail)
		if err := drv.start(ctx, d, false); err != nil {
			drv.log.Error(fmt.Sprintf("Failed to restart VM '%s': %v", ref.Name, err))
			if !d.snap().persistent {
				drv.remove(d)
			}
		}
	default: // preserve: the shut-down guest stays, still holding its id
		if err := drv.writeStatus(d.snap()); err != nil {
			drv.log.Warn("cannot save status", "domain", ref.Name, "err", err)
		}
		drv.emit(ref, libvirt.DomainEventStopped, detail)
	}
}

// destroyStopped destroys the shut-down guest and cleans up; a transient
// domain is dropped unless it is about to restart.
func (drv *Driver) destroyStopped(ctx context.Context, d *domain, restarting bool) {
	id := backend.DomID(d.ref().ID)
	if err := drv.be.Destroy(ctx, id); err != nil {
		drv.log.Warn("cannot destroy shut-down guest", "id", id, "err", err)
	}
	drv.cleanup(d)
	if !restarting && !d.snap().persistent {
		drv.remove(d)
	}
}

// coreDump asks the backend for a core dump into the dump directory when it
// can make one (libxlDomainAutoCoreDump).
func (drv *Driver) coreDump(ctx context.Context, d *domain) {
	dumper, ok := drv.be.(backend.CoreDumper)
	if !ok {
		return
	}
	ref := d.ref()
	path := filepath.Join(drv.paths.DumpDir(), ref.Name+"-"+time.Now().Format("2006-01-02-15:04:05"))
	if err := dumper.CoreDump(ctx, backend.DomID(ref.ID), path, nil); err != nil {
		drv.log.Warn("core dump failed", "domain", ref.Name, "err", err)
	}
}
