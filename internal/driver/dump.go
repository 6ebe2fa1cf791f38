package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
)

// CoreDump writes the guest's memory to the file to as an ELF core
// (virDomainCoreDump, libxlDomainCoreDump; flags: VIR_DUMP_LIVE,
// VIR_DUMP_CRASH, and VIR_DUMP_BYPASS_CACHE, which libvirt's Xen driver
// refuses and costs nothing here). Unless live, the guest is paused while
// its memory is written; with crash it is destroyed afterwards
// (STOPPED/CRASHED). It runs as an async job with progress; an abort
// removes the partial file and leaves the guest as it was.
func (drv *Driver) CoreDump(ctx context.Context, dom Domain, to string, flags uint32) error {
	live, crash, bypass := uint32(libvirt.DumpLive), uint32(libvirt.DumpCrash), uint32(libvirt.DumpBypassCache)
	if err := checkFlags(flags, live|crash|bypass, "libxlDomainCoreDump"); err != nil {
		return err
	}
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return err
	}
	dumper, ok := drv.be.(backend.CoreDumper)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainCoreDump")
	}
	a, err := drv.beginAsync(ctx, d, job.OpDump)
	if err != nil {
		return err
	}
	err = drv.dump(a, d, dumper, to, flags&live != 0, flags&crash != 0)
	a.End(err)
	return err
}

func (drv *Driver) dump(a *job.Async, d *domain, dumper backend.CoreDumper, to string, live, crash bool) error {
	s := d.snap()
	if !s.active() {
		return errNotRunning()
	}
	ctx := a.Context()
	id := backend.DomID(s.ref.ID)
	paused := false
	if !live && s.state == libvirt.DomainRunning {
		if err := drv.be.Pause(ctx, id); err != nil {
			return libxlFailed(err, "Before dumping core, failed to suspend domain '%d' with libxenlight", id)
		}
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedDump))
		paused = true
	}
	err := dumper.CoreDump(ctx, id, to, drv.progressOf(a))
	if err != nil {
		removePartial(to)
		err = drv.jobFailed(a, err, "domain core dump", "Failed to dump core of domain '%d' with libxenlight", id)
	} else {
		drv.announceCompleted(d, a)
		if crash {
			return drv.crashAfterDump(a, d)
		}
	}
	if paused && d.snap().active() {
		if uerr := drv.be.Unpause(context.WithoutCancel(ctx), id); uerr != nil {
			return libxlFailed(uerr, "After dumping core, failed to resume domain '%d' with libxenlight", id)
		}
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningUnpaused))
	}
	return err
}

// crashAfterDump destroys the guest once dumped with VIR_DUMP_CRASH
// (STOPPED/CRASHED); a guest that stopped by itself meanwhile is no
// error, for the dump is written.
func (drv *Driver) crashAfterDump(a *job.Async, d *domain) error {
	return drv.destroyInStep(a, d, guestEnd{
		reason: int32(libvirt.DomainShutoffCrashed),
		detail: int32(libvirt.DomainEventStoppedCrashed),
	})
}

// AbortJob aborts the domain's async job (virDomainAbortJobFlags, which
// libvirt's Xen driver lacks, as its QEMU driver does it; no flags:
// VIR_DOMAIN_ABORT_JOB_POSTCOPY is migration's): the job ends soon after
// with "operation aborted".
func (drv *Driver) AbortJob(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainAbortJobFlags"); err != nil {
		return err
	}
	d, err := drv.find(dom)
	if err != nil {
		return err
	}
	if err := drv.beginJobOf(ctx, d, job.Abort); err != nil {
		return err
	}
	defer drv.endJob(d)
	if _, ok := d.job.Current(); !ok {
		return domainErr(libvirt.ErrOperationInvalid, "no job is active on the domain")
	}
	if err := d.job.AbortAsync(); err != nil {
		return domainErr(libvirt.ErrOperationInvalid, "no job is active on the domain")
	}
	return nil
}
