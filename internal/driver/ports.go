package driver

import (
	"fmt"
	"net"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// The graphics port range of libvirt's libxl driver (LIBXL_VNC_PORT_MIN,
// LIBXL_VNC_PORT_MAX).
const (
	graphicsPortMin = 5900
	graphicsPortMax = 65535
)

// portAllocator hands out the graphics ports of running guests, as the
// libxl driver's graphicsports allocator does: the lowest port that none
// of our guests holds and, when the guests' display servers run on this
// machine (probe), that bind() finds free, as virPortAllocator checks.
// The simulated host's guests listen nowhere, so it is not probed there.
// It is the one place ports are chosen: the translation asks it for each
// graphics device with autoport.
type portAllocator struct {
	probe bool

	mu   sync.Mutex
	used map[int]bool
}

func (pa *portAllocator) acquire() (int, error) {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	if pa.used == nil {
		pa.used = map[int]bool{}
	}
	for p := graphicsPortMin; p <= graphicsPortMax; p++ {
		if !pa.used[p] && (!pa.probe || bindable(p)) {
			pa.used[p] = true
			return p, nil
		}
	}
	return 0, virerr.New(virerr.FromNone, libvirt.ErrInternalError,
		"Unable to find an unused port in range '%s' (%d-%d)", "VNC", graphicsPortMin, graphicsPortMax)
}

// bindable reports whether something could listen on port p of every
// address now: no other process holds it.
func bindable(p int) bool {
	l, err := net.Listen("tcp", fmt.Sprintf(":%d", p))
	if err != nil {
		return false
	}
	l.Close()
	return true
}

// reserve marks p used (a reconnected guest's port); false if it already was.
func (pa *portAllocator) reserve(p int) bool {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	if pa.used == nil {
		pa.used = map[int]bool{}
	}
	if pa.used[p] {
		return false
	}
	pa.used[p] = true
	return true
}

func (pa *portAllocator) release(ports []int) {
	pa.mu.Lock()
	defer pa.mu.Unlock()
	for _, p := range ports {
		delete(pa.used, p)
	}
}

// autoPorts returns pointers to the ports of def's graphics that the
// driver chooses at start (libxlMakeVfb, libxlMakeBuildInfoVfb): VNC with
// autoport, and SPICE with autoport on HVM guests.
func autoPorts(def *libvirtxml.Domain) []*int {
	if def.Devices == nil {
		return nil
	}
	hvm := def.OS != nil && def.OS.Type != nil && def.OS.Type.Type == "hvm"
	var out []*int
	for i := range def.Devices.Graphics {
		g := &def.Devices.Graphics[i]
		switch {
		case g.VNC != nil && g.VNC.AutoPort == "yes":
			out = append(out, &g.VNC.Port)
		case g.Spice != nil && g.Spice.AutoPort == "yes" && hvm:
			out = append(out, &g.Spice.Port)
		}
	}
	return out
}

// recordPorts makes the graphics ports the translation chose d's own:
// held (acquired) until the domain stops, and shown in its live
// definition (chosen, by graphics index), as libxlMakeVfb writes them
// into the definition it translates. The ports go into a copy that then
// replaces the definition, which readers may be formatting. The caller
// holds d's job.
func (drv *Driver) recordPorts(d *domain, acquired []int, chosen map[int]int) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.ports = append(d.ports, acquired...)
	if len(chosen) == 0 && !needsLoopback(d.def.parsed()) {
		return nil
	}
	live := domxml.Copy(d.def.parsed())
	for i, port := range chosen {
		if live.Devices == nil || i >= len(live.Devices.Graphics) {
			continue
		}
		switch g := &live.Devices.Graphics[i]; {
		case g.VNC != nil:
			g.VNC.Port = port
		case g.Spice != nil:
			g.Spice.Port = port
		}
	}
	setLoopback(live)
	d.def = liveDef(live)
	return nil
}

// loopback is VIR_LOOPBACK_IPV4_ADDR, where libxl's VNC and SPICE servers
// listen when the definition names no address.
const loopback = "127.0.0.1"

// loopbackListeners are the address listeners of def's displays that name
// no address, which libvirt's libxlMakeVfb and libxlMakeBuildInfoVfb fill
// in the live definition with the loopback address libxl listens on: VNC
// always, SPICE on HVM guests (the only ones with SPICE).
func loopbackListeners(def *libvirtxml.Domain) []*libvirtxml.DomainGraphicListener {
	if def.Devices == nil {
		return nil
	}
	hvm := def.OS != nil && def.OS.Type != nil && def.OS.Type.Type == "hvm"
	var out []*libvirtxml.DomainGraphicListener
	for i := range def.Devices.Graphics {
		var ls []libvirtxml.DomainGraphicListener
		switch g := &def.Devices.Graphics[i]; {
		case g.VNC != nil:
			ls = g.VNC.Listeners
		case g.Spice != nil && hvm:
			ls = g.Spice.Listeners
		}
		if len(ls) > 0 && ls[0].Address != nil && ls[0].Address.Address == "" {
			out = append(out, &ls[0])
		}
	}
	return out
}

func needsLoopback(def *libvirtxml.Domain) bool { return len(loopbackListeners(def)) > 0 }

func setLoopback(def *libvirtxml.Domain) {
	for _, l := range loopbackListeners(def) {
		l.Address = &libvirtxml.DomainGraphicListenerAddress{Address: loopback}
	}
	for i := range def.Devices.Graphics {
		switch g := &def.Devices.Graphics[i]; {
		case g.VNC != nil && len(g.VNC.Listeners) > 0 && g.VNC.Listeners[0].Address != nil:
			g.VNC.Listen = g.VNC.Listeners[0].Address.Address
		case g.Spice != nil && len(g.Spice.Listeners) > 0 && g.Spice.Listeners[0].Address != nil:
			g.Spice.Listen = g.Spice.Listeners[0].Address.Address
		}
	}
}

// reservePorts takes back the ports in a reconnected guest's live
// definition.
func (drv *Driver) reservePorts(d *domain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range autoPorts(d.def.parsed()) {
		if *p >= graphicsPortMin && *p <= graphicsPortMax && drv.ports.reserve(*p) {
			d.ports = append(d.ports, *p)
		}
	}
}

// releasePorts returns d's graphics ports once it stopped.
func (drv *Driver) releasePorts(d *domain) {
	d.mu.Lock()
	ports := d.ports
	d.ports = nil
	d.mu.Unlock()
	drv.ports.release(ports)
}
