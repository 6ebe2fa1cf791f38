package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
)

// nodeSuspendTargetMem is VIR_NODE_SUSPEND_TARGET_MEM, suspend to RAM.
const nodeSuspendTargetMem = 0

// pmSuspender is the backend's suspend-to-RAM feature, or libvirt's
// answer for a libxl without it (LIBXL_HAVE_DOMAIN_SUSPEND_ONLY unset):
// the call does not exist.
func (drv *Driver) pmSuspender(api string) (backend.PMSuspender, error) {
	p, ok := drv.be.(backend.PMSuspender)
	if !ok {
		return nil, domainErr(libvirt.ErrNoSupport, "%s", api)
	}
	return p, nil
}

// PMSuspendForDuration is libxlDomainPMSuspendForDuration (no flags):
// suspend to RAM only, for no set duration, through
// libxl_domain_suspend_only; the domain is then PMSUSPENDED and a
// PMSUSPENDED/MEMORY event says so.
//
// Beyond libvirt, Domain-0 is refused as for the other lifecycle calls
// (libvirt would ask libxl to suspend the control domain), and the status
// file records the new state, so that it survives a daemon restart as the
// hypervisor's does.
func (drv *Driver) PMSuspendForDuration(ctx context.Context, dom Domain, target uint32, duration uint64, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainPMSuspendForDuration"); err != nil {
		return err
	}
	if target != nodeSuspendTargetMem {
		return libxlErr(libvirt.ErrArgumentUnsupported, "PMSuspend type %d not supported by libxenlight driver", target)
	}
	if duration != 0 {
		return libxlErr(libvirt.ErrArgumentUnsupported, "Duration not supported. Use 0 for now")
	}
	p, err := drv.pmSuspender("virDomainPMSuspendForDuration")
	if err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if err := p.SuspendToRAM(ctx, backend.DomID(s.ref.ID)); err != nil {
		return libxlFailed(err, "Failed to suspend domain '%d'", s.ref.ID)
	}
	d.setState(libvirt.DomainPmsuspended, int32(libvirt.DomainPmsuspendedUnknown))
	if err := drv.writeStatus(d.snap()); err != nil {
		drv.log.Warn("cannot save status", "domain", s.ref.Name, "err", err)
	}
	drv.emit(s.ref, libvirt.DomainEventPmsuspended, int32(libvirt.DomainEventPmsuspendedMemory))
	return nil
}

// PMWakeup is libxlDomainPMWakeup (no flags): a PMSUSPENDED domain is
// resumed (libxl_domain_resume with suspend_cancel) and runs again,
// RUNNING/WAKEUP, with a STARTED/WAKEUP event.
func (drv *Driver) PMWakeup(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainPMWakeup"); err != nil {
		return err
	}
	p, err := drv.pmSuspender("virDomainPMWakeup")
	if err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if s.state != libvirt.DomainPmsuspended {
		return libxlErr(libvirt.ErrOperationInvalid, "Domain is not suspended")
	}
	if err := p.Wakeup(ctx, backend.DomID(s.ref.ID)); err != nil {
		return libxlFailed(err, "Failed to resume domain '%d'", s.ref.ID)
	}
	d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningWakeup))
	if err := drv.writeStatus(d.snap()); err != nil {
		drv.log.Warn("cannot save status", "domain", s.ref.Name, "err", err)
	}
	drv.emit(s.ref, libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedWakeup))
	return nil
}
