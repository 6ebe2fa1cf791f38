//go:build libxl

package libxl

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// configJSON is what libxl receives for cfg: its JSON, as the driver
// translated it. The backend changes nothing in it: the graphics ports the
// driver chose (and shows in the live XML) are the ones the guest gets.
func configJSON(cfg *libxltypes.DomainConfig) ([]byte, error) {
	if cfg == nil {
		return nil, fmt.Errorf("%w: no domain configuration", backend.ErrInvalid)
	}
	js, err := cfg.JSON()
	if err != nil {
		return nil, errors.Join(backend.ErrInvalid, err)
	}
	return js, nil
}

// NeedMemory is libxl_domain_need_memory for cfg.
func (b *Backend) NeedMemory(ctx context.Context, cfg *libxltypes.DomainConfig) (uint64, error) {
	js, err := configJSON(cfg)
	if err != nil {
		return 0, err
	}
	return b.c.NeedMemory(js)
}

// Create builds the guest paused, marks it ours, watches it, and unpauses
// it unless asked not to.
func (b *Backend) Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions) (backend.DomID, error) {
	return b.makeGuest(cfg, opts, func(js []byte) (uint32, []byte, error) {
		debug := b.log.Enabled(ctx, slog.LevelDebug)
		domid, started, err := b.c.CreateFromJSON(js, true, debug || b.opts.DomainLogs != nil)
		if err == nil && debug {
			// libvirt's libxl driver writes this to the domain's log as
			// "Domain start: JSON" (so does DomainLogs): libxl's defaults in
			// it, so that the two daemons' configurations compare as libxl
			// took them (test/xen/oracle.sh).
			b.log.Debug("Domain start", "domain", cfg.CInfo.Name, "domid", domid, "json", string(started))
		}
		return domid, started, err
	})
}

// makeGuest is what Create and Restore share: build makes the domain,
// paused, from cfg's JSON, and returns libxl's configuration of it (nil:
// the JSON is used); then it is adopted as opts say and its log opened. A
// domain that cannot be adopted is destroyed, so that a failed start
// leaves no guest behind that the driver does not know of.
func (b *Backend) makeGuest(cfg *libxltypes.DomainConfig, opts backend.CreateOptions, build func(js []byte) (uint32, []byte, error)) (backend.DomID, error) {
	js, err := configJSON(cfg)
	if err != nil {
		return 0, err
	}
	u, err := backend.ParseUUID(cfg.CInfo.UUID)
	if err != nil {
		return 0, errors.Join(backend.ErrInvalid, err)
	}
	domid, started, err := build(js)
	if err != nil {
		return 0, err
	}
	id := backend.DomID(domid)
	if b.opts.DomainLogs != nil {
		if started == nil {
			started = js
		}
		b.opts.DomainLogs.OpenDomain(int(domid), cfg.CInfo.Name, string(started))
	}
	if err := b.adoptNew(id, u, opts); err != nil {
		b.c.Unwatch(domid)
		b.c.Destroy(domid)
		b.forget(id)
		if b.opts.DomainLogs != nil {
			b.opts.DomainLogs.CloseDomain(int(domid))
		}
		return 0, err
	}
	return id, nil
}

func (b *Backend) adoptNew(id backend.DomID, u backend.UUID, opts backend.CreateOptions) error {
	marker := opts.Marker
	if marker == "" {
		marker = "virtxend"
	}
	if err := b.c.StoreMarker(uint32(id), []byte(marker)); err != nil {
		return err
	}
	b.mu.Lock()
	b.known[id] = u
	b.markers[id] = marker
	b.mu.Unlock()
	if err := b.c.Watch(uint32(id)); err != nil {
		return err
	}
	if !opts.Paused {
		return b.guestErr(id, b.c.Unpause(uint32(id)))
	}
	return nil
}

func (b *Backend) forget(id backend.DomID) {
	b.mu.Lock()
	delete(b.known, id)
	delete(b.markers, id)
	b.mu.Unlock()
}

// Destroy kills the guest; no death event follows.
func (b *Backend) Destroy(ctx context.Context, id backend.DomID) error {
	b.c.Unwatch(uint32(id))
	if err := b.c.Destroy(uint32(id)); err != nil {
		return b.guestErr(id, err)
	}
	b.forget(id)
	return nil
}

// Shutdown asks the guest to power off, through its PV control node or
// its ACPI power button.
func (b *Backend) Shutdown(ctx context.Context, id backend.DomID, how backend.ShutdownMethod) error {
	if how == backend.ShutdownACPI {
		return b.guestErr(id, b.c.PowerButton(uint32(id)))
	}
	return b.guestErr(id, b.c.Shutdown(uint32(id)))
}

// Reboot asks the guest to reboot.
func (b *Backend) Reboot(ctx context.Context, id backend.DomID) error {
	return b.guestErr(id, b.c.Reboot(uint32(id)))
}

// Pause pauses the guest.
func (b *Backend) Pause(ctx context.Context, id backend.DomID) error {
	return b.guestErr(id, b.c.Pause(uint32(id)))
}

// Unpause unpauses the guest.
func (b *Backend) Unpause(ctx context.Context, id backend.DomID) error {
	return b.guestErr(id, b.c.Unpause(uint32(id)))
}

// InjectNMI sends the guest an NMI.
func (b *Backend) InjectNMI(ctx context.Context, id backend.DomID) error {
	return b.guestErr(id, b.c.SendNMI(uint32(id)))
}

// SetMemoryTarget sets the balloon target.
func (b *Backend) SetMemoryTarget(ctx context.Context, id backend.DomID, kib uint64) error {
	return b.guestErr(id, b.c.SetMemoryTarget(uint32(id), kib))
}

// SetMaxMemory sets the guest's maximum memory.
func (b *Backend) SetMaxMemory(ctx context.Context, id backend.DomID, kib uint64) error {
	return b.guestErr(id, b.c.SetMaxMemory(uint32(id), kib))
}

// SetVCPUsOnline brings vCPUs 0..n-1 online.
func (b *Backend) SetVCPUsOnline(ctx context.Context, id backend.DomID, n int) error {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return err
	}
	max := int(info.VCPUMaxID) + 1
	if n < 1 || n > max {
		return fmt.Errorf("%w: requested vcpus %d is out of range 1-%d", backend.ErrInvalid, n, max)
	}
	return b.c.SetVCPUsOnline(uint32(id), max, n)
}

// Guest reports one domain.
func (b *Backend) Guest(ctx context.Context, id backend.DomID) (backend.GuestInfo, error) {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return backend.GuestInfo{}, err
	}
	return b.guestInfo(info), nil
}

// Guests reports every domain, Domain-0 first, by id.
func (b *Backend) Guests(ctx context.Context) ([]backend.GuestInfo, error) {
	doms, err := b.c.List()
	if err != nil {
		return nil, err
	}
	out := make([]backend.GuestInfo, 0, len(doms))
	for _, d := range doms {
		out = append(out, b.guestInfo(d))
	}
	b.pruneMarkers(doms)
	return out, nil
}

// pruneMarkers forgets the markers of domains that are gone, whose domids
// Xen may give again one day.
func (b *Backend) pruneMarkers(doms []DomainInfo) {
	live := make(map[backend.DomID]bool, len(doms))
	for _, d := range doms {
		live[backend.DomID(d.ID)] = true
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for id := range b.markers {
		if !live[id] {
			delete(b.markers, id)
		}
	}
}

// markerOf is the marker stored with domain id, read from libxl once.
func (b *Backend) markerOf(id uint32) string {
	b.mu.Lock()
	m, ok := b.markers[backend.DomID(id)]
	b.mu.Unlock()
	if ok {
		return m
	}
	m, err := b.readMarker(id)
	if err != nil {
		return "" // gone meanwhile, or unreadable: read again next time
	}
	b.mu.Lock()
	b.markers[backend.DomID(id)] = m
	b.mu.Unlock()
	return m
}

// readMarker is the marker stored with domain id, or
// backend.LibvirtMarker for a guest libvirt's own Xen driver started
// (which libvirt's daemon, stopped, left to this one); "" for any other
// (xl's).
func (b *Backend) readMarker(id uint32) (string, error) {
	if m, err := b.c.Marker(id); err != nil || len(m) > 0 {
		return string(m), err
	}
	x, err := b.c.Userdata(id, backend.LibvirtMarker)
	if err != nil || len(x) == 0 {
		return "", err
	}
	return backend.LibvirtMarker, nil
}

func (b *Backend) guestInfo(d DomainInfo) backend.GuestInfo {
	g := backend.GuestInfo{
		DomID: backend.DomID(d.ID), Name: d.Name, State: guestState(d),
		ShutdownReason: backend.ShutdownReason(d.ShutdownCode),
		CPUTime:        time.Duration(d.CPUTimeNS),
		CurrentMemKiB:  d.CurrentKiB, MaxMemKiB: guestMaxKiB(d.ID, d.MaxKiB),
		VCPUsOnline: int(d.VCPUsOnline), VCPUsMax: int(d.VCPUMaxID) + 1,
	}
	if d.ID != 0 {
		g.UUID, _ = backend.ParseUUID(d.UUID)
		g.Marker = b.markerOf(d.ID)
	}
	return g
}

func guestState(d DomainInfo) backend.State {
	switch {
	case d.Dying:
		return backend.StateDying
	case d.Shutdown:
		return backend.StateShutdown
	case d.Paused:
		return backend.StatePaused
	case d.Blocked:
		return backend.StateBlocked
	}
	return backend.StateRunning
}

// guestErr makes a failure about a guest that does not exist an
// ErrNoGuest, whatever code the libxl call itself returned.
func (b *Backend) guestErr(id backend.DomID, err error) error {
	if err == nil || errors.Is(err, backend.ErrNoGuest) {
		return err
	}
	if _, ierr := b.c.Info(uint32(id)); errors.Is(ierr, backend.ErrNoGuest) {
		return ierr
	}
	return err
}

// ConsoleTTY is the pty xenconsoled gives a guest's console or serial port.
func (b *Backend) ConsoleTTY(ctx context.Context, id backend.DomID, port int, serial bool) (string, error) {
	typ := ConsolePV
	if serial {
		typ = ConsoleSerial
	}
	return b.c.ConsoleTTY(uint32(id), port, typ)
}

// ConsoleServer names the xenconsoled running now (backend.ConsoleServers):
// each restart gives every guest's console a new pty.
func (b *Backend) ConsoleServer(ctx context.Context) (string, error) {
	return consoledID("/proc", consoledPidFiles)
}
