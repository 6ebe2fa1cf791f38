//go:build libxl

package libxl

import (
	"cmp"
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"virtxend/internal/backend"
)

// Options configure the libxl backend.
type Options struct {
	// Log receives the backend's messages; nil is slog.Default().
	Log *slog.Logger
	// LibxlLog receives libxl's own (xentoollog) messages, which libvirt
	// writes to a log of their own (libxl-driver.log); nil is Log.
	LibxlLog *slog.Logger
	// DomainLogs follow the guests, for libxl's messages about each to
	// go to its own log, as libvirt's do (internal/libxllog); nil: none.
	DomainLogs DomainLogs
}

// DomainLogs are per-guest logs: opened when a guest is created (with
// libxl's configuration of it) or found running, closed at its death.
type DomainLogs interface {
	OpenDomain(id int, name, startJSON string)
	CloseDomain(id int)
}

// Backend is real Xen through libxl: backend.Backend on a Context.
type Backend struct {
	c    *Context
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	known map[backend.DomID]backend.UUID // guests we watch
	// markers remembers each domain's marker once read: a domain's
	// userdata never changes while it lives, and the driver lists the
	// guests every second.
	markers map[backend.DomID]string

	events chan backend.Event
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

var (
	_ backend.Backend        = (*Backend)(nil)
	_ backend.FlaskResolver  = (*Backend)(nil)
	_ backend.ConsoleTTYs    = (*Backend)(nil)
	_ backend.ConsoleServers = (*Backend)(nil)
)

// New opens libxl and adopts the guests a previous run started (those
// with our marker), watching them for events again.
func New(opts Options) (*Backend, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	c, err := Open(cmp.Or(opts.LibxlLog, opts.Log))
	if err != nil {
		return nil, err
	}
	b := &Backend{c: c, opts: opts, log: opts.Log,
		known: map[backend.DomID]backend.UUID{}, markers: map[backend.DomID]string{},
		events: make(chan backend.Event), stop: make(chan struct{})}
	if err := b.adopt(); err != nil {
		c.Close()
		return nil, err
	}
	b.wg.Add(1)
	go b.forward()
	return b, nil
}

func (b *Backend) adopt() error {
	doms, err := b.c.List()
	if err != nil {
		return err
	}
	for _, d := range doms {
		if d.ID == 0 {
			continue
		}
		m, err := b.readMarker(d.ID)
		if err != nil || m == "" {
			continue // neither ours nor libvirt's
		}
		if b.opts.DomainLogs != nil {
			b.opts.DomainLogs.OpenDomain(int(d.ID), d.Name, "")
		}
		b.markers[backend.DomID(d.ID)] = m
		u, err := backend.ParseUUID(d.UUID)
		if err != nil {
			continue
		}
		if err := b.c.Watch(d.ID); err != nil {
			return err
		}
		b.known[backend.DomID(d.ID)] = u
	}
	return nil
}

// forward turns libxl's events into the backend's.
func (b *Backend) forward() {
	defer b.wg.Done()
	defer close(b.events)
	for {
		var ev DomainEvent
		var ok bool
		select {
		case ev, ok = <-b.c.Events():
			if !ok {
				return
			}
		case <-b.stop:
			return
		}
		id := backend.DomID(ev.DomID)
		b.mu.Lock()
		u, ours := b.known[id]
		if ev.Death {
			delete(b.known, id)
			delete(b.markers, id)
		}
		b.mu.Unlock()
		if !ours {
			continue
		}
		out := backend.Event{Kind: backend.EventShutdown, DomID: id, UUID: u, Reason: backend.ShutdownReason(ev.Reason)}
		if ev.Death {
			b.c.Unwatch(ev.DomID)
			if b.opts.DomainLogs != nil {
				b.opts.DomainLogs.CloseDomain(int(ev.DomID))
			}
			out = backend.Event{Kind: backend.EventDeath, DomID: id, UUID: u}
		}
		select {
		case b.events <- out:
		case <-b.stop:
			return
		}
	}
}

// Capabilities of real Xen: guests persist, ACPI shutdown exists, only
// the guest decides to shut down, and device models run in this dom0.
func (b *Backend) Capabilities() backend.Capabilities {
	return backend.Capabilities{Persistent: true, ACPIShutdown: true, LocalDeviceModels: true}
}

// Events delivers guest events until Close.
func (b *Backend) Events() <-chan backend.Event { return b.events }

// Close releases libxl; guests keep running.
func (b *Backend) Close() error {
	b.once.Do(func() {
		close(b.stop)
		b.wg.Wait()
		b.c.Close()
	})
	return nil
}

// HostInfo reports the host from libxl's physinfo and version info.
func (b *Backend) HostInfo(ctx context.Context) (backend.HostInfo, error) {
	p, err := b.c.PhysInfo()
	if err != nil {
		return backend.HostInfo{}, err
	}
	v, err := b.c.Version()
	if err != nil {
		return backend.HostInfo{}, err
	}
	maxCPUs, err := b.c.MaxCPUs()
	if err != nil {
		return backend.HostInfo{}, err
	}
	dom0, err := b.c.Info(0)
	if err != nil {
		return backend.HostInfo{}, err
	}
	bootID, err := os.ReadFile("/proc/sys/kernel/random/boot_id")
	if err != nil {
		return backend.HostInfo{}, fmt.Errorf("host boot id: %w", err)
	}
	sockets := 1
	if per := p.CoresPerSocket * p.ThreadsPerCore; per > 0 && p.CPUs/per > 1 {
		sockets = p.CPUs / per
	}
	return backend.HostInfo{
		Arch: "x86_64", CPUs: p.CPUs, MaxCPUs: maxCPUs, MHz: p.CPUkHz / 1000,
		Nodes: p.NUMANodes, Sockets: sockets, CoresPerSocket: p.CoresPerSocket,
		ThreadsPerCore: p.ThreadsPerCore, TotalMemKiB: p.TotalKiB, FreeMemKiB: p.FreeKiB,
		PageSizeKiB: uint64(v.PageSize) / 1024, Dom0MaxMemKiB: dom0.MaxKiB,
		XenMajor: v.Major, XenMinor: v.Minor, XenExtra: v.Extra,
		GuestTypes: strings.Fields(v.Capabilities),
		BootID:     strings.TrimSpace(string(bootID)),
		HWVirt:     hwVirt(p),
		NUMA:       b.c.NUMA(),
		HWCap:      p.HWCap,
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

// FlaskSID resolves a static security label (libxl_flask_context_to_sid).
func (b *Backend) FlaskSID(label string) (uint32, error) { return b.c.FlaskSID(label) }
