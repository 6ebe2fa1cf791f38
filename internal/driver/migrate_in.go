package driver

import (
	"context"
	"errors"
	"io"
	"net"
	"os"
	"strings"
	"sync"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/caller"
	"virtxend/internal/domxml"
	"virtxend/internal/job"
	"virtxend/internal/migration"
	"virtxend/internal/saveimage"
)

// The destination's side of a migration (libxlDomainMigrationDstPrepare,
// _DstPrepareTunnel3 and _DstFinish): Prepare adds the domain and holds
// its job, a receiver restores the guest paused from the data as it
// comes, and Finish resumes it, or drops it when the migration failed.

// incoming is a migration arriving, between Prepare and Finish.
type incoming struct {
	version uint32 // of the libxl stream, from the source's cookie
	owner   uint64 // the client that prepared it

	// port is the port of the migration range its listener took (0: none).
	port int

	mu sync.Mutex
	// stop ends the wait for the data or the reading of it.
	stop  []io.Closer
	ended bool
	done  chan struct{} // closed when the receiver returns
	err   error         // why the receiver failed
}

// halt stops the receiver: its listener closed, the data cut off.
func (in *incoming) halt() {
	in.mu.Lock()
	closers := in.stop
	in.stop, in.ended = nil, true
	in.mu.Unlock()
	for _, c := range closers {
		c.Close()
	}
}

// onHalt has c closed when the migration is halted (at once if it was).
func (in *incoming) onHalt(c io.Closer) {
	in.mu.Lock()
	if !in.ended {
		in.stop = append(in.stop, c)
		c = nil
	}
	in.mu.Unlock()
	if c != nil {
		c.Close()
	}
}

// MigratePrepare is virDomainMigratePrepare3Params: the destination adds
// the domain the source described and listens for its data on uri (a
// port of the migration range when uri names none), returning where the
// source is to send it.
func (drv *Driver) MigratePrepare(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (string, error) {
	d, in, p, err := drv.prepareIncoming(ctx, params, cookie, flags, "libxlDomainMigratePrepare3Params")
	if err != nil {
		return "", err
	}
	ln, at, err := drv.listenIncoming(ctx, in, p.URI)
	if err != nil {
		drv.abandonIncoming(d, in)
		return "", err
	}
	in.onHalt(ln)
	go drv.receive(d, in, func() (*os.File, error) { return acceptData(in, ln) })
	return at.URI(), nil
}

// listenIncoming listens where the source is to send the data: the
// address and port of uri, or, without one, every address and a port of
// the range, the URI naming this host (libvirt listens on the hostname's
// addresses; every address serves the same and works where the name
// resolves elsewhere).
func (drv *Driver) listenIncoming(ctx context.Context, in *incoming, uri string) (net.Listener, migration.Endpoint, error) {
	at, listenHost := migration.Endpoint{}, ""
	if uri == "" {
		host, err := drv.hostname(ctx)
		if err != nil {
			return nil, at, err
		}
		if strings.HasPrefix(host, "localhost") {
			return nil, at, libxlErr(libvirt.ErrInternalError,
				"hostname on destination resolved to localhost, but migration requires an FQDN")
		}
		at.Host = host
	} else {
		var err error
		if at, err = migration.ParseIncoming(uri); err != nil {
			return nil, at, err
		}
		listenHost = at.Host
	}
	ln, port, err := drv.migrationPorts.Listen(listenHost, at.Port)
	if err != nil {
		return nil, at, err
	}
	if at.Port == 0 {
		in.port = port
	}
	at.Port = port
	return ln, at, nil
}

// acceptData waits for the source's connection (one) and returns it as
// the file the backend reads. Halting the migration shuts the socket
// down, which ends the backend's reads; the file is closed after them.
func acceptData(in *incoming, ln net.Listener) (*os.File, error) {
	conn, err := ln.Accept()
	ln.Close()
	if err != nil {
		return nil, libxlErr(libvirt.ErrOperationFailed, "Failed to accept migration connection")
	}
	defer conn.Close()
	f, err := conn.(*net.TCPConn).File()
	if err != nil {
		return nil, errSystem(err, "cannot read the migration connection")
	}
	in.onHalt(shutdowner{f})
	return f, nil
}

// shutdowner ends the reads and writes on a socket without closing its
// descriptor, which the backend may be using.
type shutdowner struct{ f *os.File }

func (s shutdowner) Close() error { return syscall.Shutdown(int(s.f.Fd()), syscall.SHUT_RDWR) }

// MigratePrepareTunnel is virDomainMigratePrepareTunnel3Params: as
// MigratePrepare, the data coming on the call's stream, which the caller
// writes to the returned pipe and then closes.
func (drv *Driver) MigratePrepareTunnel(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (*os.File, error) {
	d, in, _, err := drv.prepareIncoming(ctx, params, cookie, flags, "libxlDomainMigratePrepareTunnel3Params")
	if err != nil {
		return nil, err
	}
	// libxl reads a file descriptor: the stream's data goes through a
	// pipe (libvirt: virFDStreamOpen on a pipe's end). Halting closes
	// the writing end, so the reader sees the end of the data.
	r, w, err := os.Pipe()
	if err != nil {
		drv.abandonIncoming(d, in)
		return nil, errSystem(err, "cannot create pipe")
	}
	in.onHalt(w)
	go drv.receive(d, in, func() (*os.File, error) { return r, nil })
	return w, nil
}

// prepareIncoming is what both Prepares share
// (libxlDomainMigrationDstPrepareDef, libxlDomainMigrationPrepareAny):
// the checks, then the domain added with the source's definition and its
// job held until Finish.
func (drv *Driver) prepareIncoming(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32, fn string) (*domain, *incoming, migration.Params, error) {
	if err := migration.CheckFlags(flags, fn); err != nil {
		return nil, nil, migration.Params{}, err
	}
	p, err := migration.ParseParams(params)
	if err != nil {
		return nil, nil, p, err
	}
	if p.DestXML == "" {
		return nil, nil, p, libxlErr(libvirt.ErrInternalError, "no domain XML passed")
	}
	def, uuid, err := parseDef(p.DestXML, false)
	if err != nil {
		return nil, nil, p, err
	}
	if p.DestName != "" {
		def.Name = p.DestName
	}
	c, err := migration.Decode(cookie)
	if err != nil {
		return nil, nil, p, err
	}
	if c.StreamVersion > migration.StreamVersion {
		return nil, nil, p, libxlErr(libvirt.ErrOperationUnsupported,
			"Xen migration stream version '%d' is not supported on this host", c.StreamVersion)
	}
	if def, uuid, err = drv.migrateHook(def, uuid); err != nil {
		return nil, nil, p, err
	}
	d, created, err := drv.addOrFind(ctx, def, uuid)
	if err != nil {
		return nil, nil, p, err
	}
	if !created {
		if err := drv.adoptLiveDef(ctx, d, def); err != nil {
			return nil, nil, p, err
		}
	}
	d.job.SetOperation(job.OpMigrationIn)
	in := &incoming{version: c.StreamVersion, owner: caller.From(ctx).Client, done: make(chan struct{})}
	d.mu.Lock()
	d.incoming = in
	// The status file the start writes says so (migrate_recover.go).
	d.migrating = &migrationInFlight{Dir: "in"}
	d.mu.Unlock()
	return d, in, p, nil
}

// abandonIncoming undoes a Prepare that failed after prepareIncoming.
func (drv *Driver) abandonIncoming(d *domain, in *incoming) {
	in.halt()
	d.mu.Lock()
	d.incoming, d.migrating = nil, nil
	d.mu.Unlock()
	d.restoreDefs()
	drv.endJob(d)
	if !d.snap().persistent {
		drv.remove(d)
	}
}

// receive restores the guest, paused, from the data open gives
// (libxlDoMigrateDstReceive); Finish reads how it went.
func (drv *Driver) receive(d *domain, in *incoming, open func() (*os.File, error)) {
	defer close(in.done)
	f, err := open()
	if err == nil {
		img := &image{f: f, hdr: saveimage.Header{Version: in.version}, def: d.snap().def.parsed(), uuid: d.uuid,
			paused: true, migrated: true}
		err = drv.boot(context.Background(), d, true, img)
		f.Close()
	}
	in.err = err
	if err != nil {
		in.halt()
		drv.log.Error("incoming migration failed", "domain", d.ref().Name, "err", err)
	}
}

// MigrateFinish is virDomainMigrateFinish3Params: once the source sent
// the data, the guest received runs here (or stays paused with
// VIR_MIGRATE_PAUSED) and, with VIR_MIGRATE_PERSIST_DEST, is defined; a
// cancelled migration, or one whose guest did not arrive, leaves nothing.
func (drv *Driver) MigrateFinish(ctx context.Context, params []libvirt.TypedParam, flags uint32, cancelled bool) (Domain, error) {
	if err := migration.CheckFlags(flags, "libxlDomainMigrateFinish3Params"); err != nil {
		return Domain{}, err
	}
	p, err := migration.ParseParams(params)
	if err != nil {
		return Domain{}, err
	}
	drv.mu.RLock()
	d := drv.byName[p.DestName]
	drv.mu.RUnlock()
	if p.DestName == "" || d == nil {
		name := p.DestName
		if name == "" {
			name = "(null)"
		}
		return Domain{}, libxlErr(libvirt.ErrOperationFailed,
			"Migration failed. No domain on destination host with matching name '%s'", name)
	}
	d.mu.Lock()
	in := d.incoming
	d.incoming = nil
	d.mu.Unlock()
	if in == nil {
		return Domain{}, libxlErr(libvirt.ErrOperationInvalid, "domain '%s' is not processing incoming migration", d.ref().Name)
	}
	if cancelled {
		in.halt()
	}
	<-in.done
	if in.port != 0 {
		drv.migrationPorts.Release(in.port)
	}
	defer drv.endJob(d)
	ref, err := drv.finishIncoming(ctx, d, in, flags, cancelled)
	if err != nil {
		drv.dropIncoming(ctx, d, in)
	} else {
		d.job.CompleteSync()
	}
	return ref, err
}

// finishIncoming runs the received guest, or says why not.
func (drv *Driver) finishIncoming(ctx context.Context, d *domain, in *incoming, flags uint32, cancelled bool) (Domain, error) {
	if cancelled {
		return Domain{}, errMigrationCancelled
	}
	s := d.snap()
	if in.err != nil || !s.active() {
		return Domain{}, libxlErr(libvirt.ErrOperationFailed, "Migration failed. Domain is not running on destination host")
	}
	if err := drv.applyDiskThrottles(ctx, d); err != nil {
		return Domain{}, err
	}
	if flags&uint32(libvirt.MigratePaused) == 0 {
		if err := drv.be.Unpause(ctx, backend.DomID(s.ref.ID)); err != nil {
			return Domain{}, libxlErr(libvirt.ErrOperationFailed, "Failed to unpause domain")
		}
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningMigrated))
		drv.emit(s.ref, libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedMigrated))
	} else {
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUser))
		drv.emit(s.ref, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused))
	}
	if flags&uint32(libvirt.MigratePersistDest) != 0 {
		if err := drv.persistIncoming(d); err != nil {
			return Domain{}, err
		}
	}
	if err := drv.markMigrating(d, nil); err != nil {
		return Domain{}, err
	}
	return d.ref(), nil
}

// errMigrationCancelled is Finish's answer to a cancelled migration, which
// libvirt's client does not read.
var errMigrationCancelled = libxlErr(libvirt.ErrOperationAborted, "migration was cancelled")

// persistIncoming defines the arrived domain (VIR_MIGRATE_PERSIST_DEST):
// as libvirt's virDomainObjGetPersistentDef, a domain already defined here
// keeps its definition, a new one is defined as it runs.
func (drv *Driver) persistIncoming(d *domain) error {
	d.mu.Lock()
	was := d.persistent
	keep := d.newDef.parsed()
	d.mu.Unlock()
	if keep == nil {
		keep = domxml.Copy(d.snap().def.parsed())
	}
	saved, err := drv.writeConfig(keep)
	if err != nil {
		return err
	}
	d.mu.Lock()
	d.persistent, d.newDef = true, saved
	d.mu.Unlock()
	detail := libvirt.DomainEventDefinedAdded
	if was {
		detail = libvirt.DomainEventDefinedUpdated
	}
	drv.emit(d.ref(), libvirt.DomainEventDefined, int32(detail))
	return nil
}

// dropIncoming removes what a failed or cancelled incoming migration left:
// the guest, if it arrived (STOPPED/FAILED), and a domain that was new.
func (drv *Driver) dropIncoming(ctx context.Context, d *domain, in *incoming) {
	d.mu.Lock()
	d.migrating = nil
	d.mu.Unlock()
	s := d.snap()
	if s.active() {
		if err := drv.be.Destroy(ctx, backend.DomID(s.ref.ID)); err != nil && !errors.Is(err, backend.ErrNoGuest) {
			drv.log.Error("cannot destroy the guest of a failed incoming migration", "domain", s.ref.Name, "err", err)
		}
		drv.stopped(d, int32(libvirt.DomainShutoffFailed), int32(libvirt.DomainEventStoppedFailed))
		return
	}
	d.restoreDefs()
	if !d.snap().persistent {
		drv.remove(d)
	}
}
