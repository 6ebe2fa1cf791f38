//go:build libxl

package libxl

import (
	"context"
	"errors"
	"fmt"
	"time"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/libxlconf"
)

// hostFor is the translation's view of this host.
func (b *Backend) hostFor(ports *[]int) (libxlconf.Host, error) {
	p, err := b.c.PhysInfo()
	if err != nil {
		return libxlconf.Host{}, err
	}
	maxCPUs, err := b.c.MaxCPUs()
	if err != nil {
		return libxlconf.Host{}, err
	}
	return libxlconf.Host{
		MaxCPUs:      maxCPUs,
		NUMANodes:    p.NUMANodes,
		NestedHVM:    b.opts.NestedHVM,
		HWVirt:       hwVirt(p),
		GraphicsPort: b.acquirePort(ports),
		FlaskSID:     b.c.FlaskSID,
		ChannelDir:   b.opts.ChannelDir,
	}, nil
}

// hwVirt names the host's hardware virtualisation. libxl's physinfo says
// whether HVM works, not which vendor's; the CPU vendor tells.
func hwVirt(p PhysInfo) string {
	if !p.HVM {
		return ""
	}
	if cpuVendorAMD() {
		return "svm"
	}
	return "vmx"
}

func (b *Backend) translate(def *libvirtxml.Domain, ports *[]int) ([]byte, error) {
	h, err := b.hostFor(ports)
	if err != nil {
		return nil, err
	}
	cfg, err := libxlconf.BuildDomainConfig(def, h)
	if err != nil {
		return nil, err
	}
	for _, w := range cfg.Warnings {
		b.log.Warn(w, "domain", def.Name)
	}
	js, err := cfg.JSON()
	if err == nil {
		b.log.Debug("libxl domain configuration", "domain", def.Name, "json", string(js))
	}
	return js, err
}

// NeedMemory is libxl_domain_need_memory for def.
func (b *Backend) NeedMemory(ctx context.Context, def *libvirtxml.Domain) (uint64, error) {
	var ports []int
	js, err := b.translate(def, &ports)
	b.assignPorts(ports, pendingPort) // a dry run: give the ports back
	if err != nil {
		return 0, err
	}
	return b.c.NeedMemory(js)
}

// Create builds the guest paused, marks it ours, watches it, and unpauses
// it unless asked not to.
func (b *Backend) Create(ctx context.Context, def *libvirtxml.Domain, opts backend.CreateOptions) (backend.DomID, error) {
	var ports []int
	js, err := b.translate(def, &ports)
	if err != nil {
		b.assignPorts(ports, pendingPort)
		return 0, err
	}
	need, err := b.c.NeedMemory(js)
	if err == nil {
		var p PhysInfo
		if p, err = b.c.PhysInfo(); err == nil && need > p.FreeKiB {
			err = fmt.Errorf("%w: the guest needs %d KiB, the host has %d KiB free",
				backend.ErrNoMemory, need, p.FreeKiB)
		}
	}
	if err != nil {
		b.assignPorts(ports, pendingPort)
		return 0, err
	}
	domid, err := b.c.CreateFromJSON(js, true)
	if err != nil {
		b.assignPorts(ports, pendingPort)
		return 0, err
	}
	id := backend.DomID(domid)
	if err := b.adoptNew(id, def, opts); err != nil {
		b.c.Unwatch(domid)
		b.c.Destroy(domid)
		b.forget(id)
		b.assignPorts(ports, pendingPort)
		return 0, err
	}
	b.assignPorts(ports, id)
	return id, nil
}

func (b *Backend) adoptNew(id backend.DomID, def *libvirtxml.Domain, opts backend.CreateOptions) error {
	u, err := backend.ParseUUID(def.UUID)
	if err != nil {
		return errors.Join(backend.ErrInvalid, err)
	}
	marker := opts.Marker
	if marker == "" {
		marker = "virtxend"
	}
	if err := b.c.StoreMarker(uint32(id), []byte(marker)); err != nil {
		return err
	}
	b.mu.Lock()
	b.known[id] = u
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
	b.releasePorts(id)
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
	return out, nil
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
		if m, err := b.c.Marker(d.ID); err == nil {
			g.Marker = string(m)
		}
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
