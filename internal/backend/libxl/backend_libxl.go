//go:build libxl

package libxl

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

// Options configure the libxl backend.
type Options struct {
	// Log receives libxl's messages; nil is slog.Default().
	Log *slog.Logger
	// NestedHVM is libxl.conf's nested_hvm.
	NestedHVM bool
	// ChannelDir is where Xen channel sockets go ("" is libvirt's).
	ChannelDir string
	// PortMin and PortMax bound the graphics ports handed out (0: 5900
	// and 65535, libvirt's defaults).
	PortMin, PortMax int
}

// Backend is real Xen through libxl: backend.Backend on a Context.
type Backend struct {
	c    *Context
	opts Options
	log  *slog.Logger

	mu    sync.Mutex
	known map[backend.DomID]backend.UUID // guests we watch
	ports map[int]backend.DomID          // graphics ports in use

	events chan backend.Event
	stop   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once
}

var _ backend.Backend = (*Backend)(nil)

// New opens libxl and adopts the guests a previous run started (those
// with our marker), watching them for events again.
func New(opts Options) (*Backend, error) {
	if opts.Log == nil {
		opts.Log = slog.Default()
	}
	if opts.PortMin == 0 {
		opts.PortMin = graphicsPortMin
	}
	if opts.PortMax == 0 {
		opts.PortMax = 65535
	}
	c, err := Open(opts.Log)
	if err != nil {
		return nil, err
	}
	b := &Backend{c: c, opts: opts, log: opts.Log,
		known: map[backend.DomID]backend.UUID{}, ports: map[int]backend.DomID{},
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
		if m, err := b.c.Marker(d.ID); err != nil || len(m) == 0 {
			continue // not ours
		}
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
			b.releasePorts(id)
		}
		b.mu.Unlock()
		if !ours {
			continue
		}
		out := backend.Event{Kind: backend.EventShutdown, DomID: id, UUID: u, Reason: backend.ShutdownReason(ev.Reason)}
		if ev.Death {
			b.c.Unwatch(ev.DomID)
			out = backend.Event{Kind: backend.EventDeath, DomID: id, UUID: u}
		}
		select {
		case b.events <- out:
		case <-b.stop:
			return
		}
	}
}

// Capabilities of real Xen: guests persist, ACPI shutdown exists, and
// only the guest decides to shut down.
func (b *Backend) Capabilities() backend.Capabilities {
	return backend.Capabilities{Persistent: true, ACPIShutdown: true}
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
	}, nil
}

// graphicsPortMin is LIBXL_VNC_PORT_MIN: VNC display N listens on 5900+N.
const graphicsPortMin = 5900

// pendingPort owns a port reserved for a guest not yet created.
const pendingPort = backend.DomID(^uint32(0))

// acquirePort reserves a free graphics port, as libvirt's port allocator
// does: unused by us and bindable. Reserved ports are appended to got so
// that Create can give them to the new guest, or free them.
func (b *Backend) acquirePort(got *[]int) func() (int, error) {
	return func() (int, error) {
		b.mu.Lock()
		defer b.mu.Unlock()
		for p := b.opts.PortMin; p <= b.opts.PortMax; p++ {
			if _, used := b.ports[p]; used {
				continue
			}
			l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
			if err != nil {
				continue
			}
			l.Close()
			b.ports[p] = pendingPort
			*got = append(*got, p)
			return p, nil
		}
		return 0, virerr.New(virerr.FromLibxl, libvirt.ErrConfigUnsupported,
			"Unable to find an unused port in range 'display' (%d-%d)", b.opts.PortMin, b.opts.PortMax)
	}
}

// assignPorts gives reserved ports to id, or frees them when id is
// pendingPort.
func (b *Backend) assignPorts(ports []int, id backend.DomID) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, p := range ports {
		if id == pendingPort {
			delete(b.ports, p)
		} else {
			b.ports[p] = id
		}
	}
}

// releasePorts frees id's graphics ports; b.mu is held.
func (b *Backend) releasePorts(id backend.DomID) {
	for p, owner := range b.ports {
		if owner == id {
			delete(b.ports, p)
		}
	}
}
