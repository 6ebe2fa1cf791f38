package driver

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strconv"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/migration"
)

// The source's side of a migration after Begin
// (libxlDomainMigrationSrcPerform, _SrcConfirm): Perform sends the
// guest's state to the destination, leaving it suspended here; Confirm
// then destroys it, or, when the destination did not take it, resumes it.
// The migration is d's async job from Begin to Confirm, so domjobinfo
// follows it and domjobabort cancels it (which libvirt's Xen driver
// cannot).

// outgoing is a migration leaving, between Begin and Confirm.
type outgoing struct {
	a     *job.Async
	flags uint32
	owner uint64 // the client that began it
	// speed paces the data once it is sent; nil before (migrate_speed.go).
	// The domain's mu guards the pointer.
	speed *migrationSpeed

	// Guarded by the domain's mu: a client's going away reads them.
	// sent: the guest's state went and the guest is suspended here.
	sent bool
	// wasPaused: the guest was paused when it was sent.
	wasPaused bool
}

// sentState says whether out's guest went, and whether it was paused.
func (d *domain) sentState(out *outgoing) (sent, wasPaused bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	return out.sent, out.wasPaused
}

const (
	migrateLive      = uint32(libvirt.MigrateLive)
	migratePeer2Peer = uint32(libvirt.MigratePeer2peer)
	migrateTunnelled = uint32(libvirt.MigrateTunnelled)
	migrateUndefine  = uint32(libvirt.MigrateUndefineSource)
)

// MigratePerform is virDomainMigratePerform3Params on the source: with
// VIR_MIGRATE_PEER2PEER or _TUNNELLED the whole migration, this daemon
// talking to the destination's at dconnuri; otherwise the sending of the
// guest's state to the URI the destination's Prepare gave.
func (drv *Driver) MigratePerform(ctx context.Context, dom Domain, dconnuri string, params []libvirt.TypedParam, flags uint32) error {
	if err := migration.CheckFlags(flags, "libxlDomainMigratePerform3Params"); err != nil {
		return err
	}
	p, err := migration.ParseParams(params)
	if err != nil {
		return err
	}
	d, err := drv.find(dom)
	if err != nil {
		return err
	}
	if flags&(migratePeer2Peer|migrateTunnelled) != 0 {
		return drv.migratePeer2Peer(ctx, d, dconnuri, p, flags)
	}
	out := d.migrationOut()
	if out == nil {
		return libxlErr(libvirt.ErrOperationInvalid, "domain '%s' is not being migrated", d.ref().Name)
	}
	d.startSpeed(out, p.Bandwidth)
	if err := drv.sendDirect(d, out, p.URI); err != nil {
		// libvirt ends the job here: Confirm will not follow a failure.
		drv.endOutgoing(d, out, err)
		return err
	}
	return nil
}

// migrationOut is d's outgoing migration, nil if none.
func (d *domain) migrationOut() *outgoing {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.outgoing
}

// sendDirect sends the guest's state over a TCP connection to uri.
func (drv *Driver) sendDirect(d *domain, out *outgoing, uri string) error {
	out.a.SetPhase("perform3")
	at, err := migration.ParseOutgoing(uri)
	if err != nil {
		return err
	}
	port := strconv.Itoa(at.Port)
	var dialer net.Dialer
	conn, err := dialer.DialContext(out.a.Context(), "tcp", net.JoinHostPort(at.Host, port))
	if err != nil {
		// libvirt's virNetSocketNewConnectTCP reports the system error.
		return drv.jobFailed(out.a, errSystem(err, "unable to connect to server at '%s:%s'", at.Host, port),
			"migration out", "unable to connect to server at '%s:%s'", at.Host, port)
	}
	f, err := conn.(*net.TCPConn).File()
	conn.Close()
	if err != nil {
		return errSystem(err, "unable to connect to server at '%s:%s'", at.Host, port)
	}
	defer f.Close()
	// An abort cuts the connection: a send blocked on a link gone quiet
	// returns at once, whatever the backend does with its context.
	stop := context.AfterFunc(out.a.Context(), func() { shutdowner{f}.Close() })
	defer stop()
	return drv.sendState(d, out, f)
}

// sendState writes the guest's state to dst (libxlDoMigrateSrcSend),
// at out's speed: live with VIR_MIGRATE_LIVE, the guest running while its
// memory goes. On success the guest is suspended here (SUSPENDED/MIGRATED)
// until Confirm; on failure or abort it is as it was.
func (drv *Driver) sendState(d *domain, out *outgoing, dst io.Writer) error {
	s := d.snap()
	if !s.active() {
		return errNotRunning()
	}
	id := backend.DomID(s.ref.ID)
	progress := drv.progressOf(out.a)
	wasPaused := s.state == libvirt.DomainPaused
	if err := drv.markMigrating(d, &migrationInFlight{Dir: "out", Paused: wasPaused}); err != nil {
		return err
	}
	err := pacedSend(out.a.Context(), dst, out.speed, func(w *os.File) error {
		return drv.send(out, id, w, progress)
	})
	if err != nil {
		drv.markMigrating(d, nil)
		return drv.jobFailed(out.a, err, "migration out", "Failed to send migration data to destination host")
	}
	d.mu.Lock()
	out.sent, out.wasPaused = true, wasPaused
	d.mu.Unlock()
	d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedMigration))
	drv.emit(s.ref, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedMigrated))
	return drv.markMigrating(d, &migrationInFlight{Dir: "out", Sent: true, Paused: wasPaused})
}

// send writes the guest's state, live when asked and possible. A guest
// the hypervisor cannot send live (a PV guest on a Xen without shadow
// paging, as Debian builds it: it cannot track a PV guest's dirty memory)
// is sent as xl would send it without --live, suspended first: the
// migration works, with a longer pause.
func (drv *Driver) send(out *outgoing, id backend.DomID, f *os.File, progress backend.Progress) error {
	saver, ok := drv.be.(backend.Saver)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainMigratePerform3Params")
	}
	if m, ok := drv.be.(backend.Migrator); ok && out.flags&migrateLive != 0 {
		err := m.SaveLive(out.a.Context(), id, f, progress)
		if !errors.Is(err, backend.ErrUnsupported) {
			return err
		}
		drv.log.Warn("the hypervisor cannot send this guest live; sending it suspended", "domid", id, "err", err)
	}
	return saver.Save(out.a.Context(), id, f, progress)
}

// MigrateConfirm is virDomainMigrateConfirm3Params on the source: the
// guest that went is destroyed here (STOPPED/MIGRATED) and, with
// VIR_MIGRATE_UNDEFINE_SOURCE, undefined; a cancelled migration resumes
// it.
func (drv *Driver) MigrateConfirm(ctx context.Context, dom Domain, params []libvirt.TypedParam, flags uint32, cancelled bool) error {
	if err := migration.CheckFlags(flags, "libxlDomainMigrateConfirm3Params"); err != nil {
		return err
	}
	if _, err := migration.ParseParams(params); err != nil {
		return err
	}
	d, err := drv.find(dom)
	if err != nil {
		return err
	}
	out := d.migrationOut()
	if out == nil {
		if cancelled {
			return nil // a failed Perform ended it already, as libvirt's does
		}
		return libxlErr(libvirt.ErrOperationInvalid, "domain '%s' is not being migrated", d.ref().Name)
	}
	return drv.confirmOutgoing(d, out, flags, cancelled)
}

// confirmOutgoing ends the migration out: the guest gone, or resumed when
// cancelled.
func (drv *Driver) confirmOutgoing(d *domain, out *outgoing, flags uint32, cancelled bool) error {
	out.a.SetPhase("confirm3")
	if err := out.a.Begin(drv.jobWait()); err != nil {
		drv.endOutgoing(d, out, err)
		return err
	}
	var err error
	if cancelled {
		err = drv.resumeSource(d, out)
	} else if err = drv.migrated(d, flags); err == nil {
		drv.announceCompleted(d, out.a)
	}
	drv.endJob(d)
	switch {
	case err != nil:
		drv.endOutgoing(d, out, err)
	case cancelled:
		drv.endOutgoing(d, out, errMigrationCancelled)
	default:
		drv.endOutgoing(d, out, nil)
	}
	return err
}

// endOutgoing ends d's migration job with err (nil: it completed).
func (drv *Driver) endOutgoing(d *domain, out *outgoing, err error) {
	d.mu.Lock()
	if d.outgoing == out {
		d.outgoing = nil
	}
	d.mu.Unlock()
	out.a.End(err)
}

// migrated ends the guest that went: destroyed here, the domain stopped
// (STOPPED/MIGRATED) and, with VIR_MIGRATE_UNDEFINE_SOURCE, undefined.
func (drv *Driver) migrated(d *domain, flags uint32) error {
	d.mu.Lock()
	d.migrating = nil
	d.mu.Unlock()
	s := d.snap()
	if s.active() {
		if err := drv.be.Destroy(context.Background(), backend.DomID(s.ref.ID)); err != nil && !errors.Is(err, backend.ErrNoGuest) {
			return libxlFailed(err, "Failed to destroy domain '%d'", s.ref.ID)
		}
		drv.stopped(d, int32(libvirt.DomainShutoffMigrated), int32(libvirt.DomainEventStoppedMigrated))
	}
	if flags&migrateUndefine == 0 || !d.snap().persistent {
		return nil
	}
	if err := drv.deleteConfig(s.ref.Name); err != nil {
		return err
	}
	drv.remove(d)
	drv.emit(d.ref(), libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRemoved))
	return nil
}

// resumeSource gives the guest back its run when its migration failed
// after its state was sent (RESUMED/MIGRATED); a paused guest stays
// paused.
func (drv *Driver) resumeSource(d *domain, out *outgoing) error {
	sent, wasPaused := d.sentState(out)
	if !sent {
		return nil
	}
	s := d.snap()
	if !s.active() {
		return nil
	}
	if err := drv.resumeGuest(context.Background(), backend.DomID(s.ref.ID), wasPaused); err != nil {
		drv.log.Warn("Guest probably left in 'paused' state on source", "domain", s.ref.Name, "err", err)
		return libxlFailed(err, "Failed to resume domain '%d' with libxenlight", s.ref.ID)
	}
	d.mu.Lock()
	out.sent = false
	d.mu.Unlock()
	if wasPaused {
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUser))
	} else {
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningMigrationCanceled))
	}
	drv.emit(s.ref, libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedMigrated))
	return drv.markMigrating(d, nil)
}
