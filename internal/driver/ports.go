package driver

import (
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// The graphics port range of libvirt's libxl driver (LIBXL_VNC_PORT_MIN,
// LIBXL_VNC_PORT_MAX).
const (
	graphicsPortMin = 5900
	graphicsPortMax = 65535
)

// portAllocator hands out the graphics ports of running guests, as the
// libxl driver's graphicsports allocator does: the lowest free port.
// Unlike libvirt it does not probe the host with bind(); it only knows the
// ports its own guests hold.
type portAllocator struct {
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
		if !pa.used[p] {
			pa.used[p] = true
			return p, nil
		}
	}
	return 0, virerr.New(virerr.FromNone, libvirt.ErrInternalError,
		"Unable to find an unused port in range '%s' (%d-%d)", "VNC", graphicsPortMin, graphicsPortMax)
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

// assignPorts gives the live definition of d, about to start, its
// automatic graphics ports; the caller holds d's job. The ports go into a
// copy that then replaces the definition, which readers may be formatting.
func (drv *Driver) assignPorts(d *domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(autoPorts(d.def)) == 0 {
		return nil
	}
	live, err := cloneDef(d.def)
	if err != nil {
		return err
	}
	for _, p := range autoPorts(live) {
		port, err := drv.ports.acquire()
		if err != nil {
			drv.ports.release(d.ports)
			d.ports = nil
			return err
		}
		*p = port
		d.ports = append(d.ports, port)
	}
	d.def = live
	return nil
}

// reservePorts takes back the ports in a reconnected guest's live
// definition.
func (drv *Driver) reservePorts(d *domain) {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range autoPorts(d.def) {
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
