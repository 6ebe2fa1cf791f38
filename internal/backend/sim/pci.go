package sim

import (
	"fmt"
	"sync"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
	"virtxend/internal/pci"
	"virtxend/internal/pci/simbus"
)

// The simulated host's PCI bus: the devices of sim_pci_sysfs (the real
// machine's /sys/bus/pci by default), read once, on first use, into a
// simbus.Bus that behaves as the kernel's driver core does. Binding a
// device to pciback, resetting it or returning it happens to that copy
// alone: no real device is ever touched. What changes of a device's
// binding (its driver and driver_override) is kept in host.json, so it
// outlives the daemon as a real host's bindings do, until the host
// "reboots".

// pcibackModule is the module that registers Xen's stub driver.
const pcibackModule = "xen-pciback"

// pciBinding is a device's binding as host.json keeps it.
type pciBinding struct {
	Driver   string `json:"driver,omitempty"`
	Override string `json:"override,omitempty"`
}

// pciBus is the simulated bus, recording every change of a binding.
type pciBus struct {
	*simbus.Bus
	h *Host
}

var _ backend.PCIHost = (*Host)(nil)

// simPCI holds the bus once made.
type simPCI struct {
	once sync.Once
	bus  *pciBus
}

// PCIBus is the host's PCI bus (backend.PCIHost). The tree is read when
// the bus is first used, not when it is taken: the driver takes it at every
// start, and reading the config space of each device of a virtual machine
// is a trap per 4 bytes (27 ms for the 6 devices of this 2-core machine),
// paid by every start and every test's driver whether or not a PCI device
// is ever used.
func (h *Host) PCIBus() pci.Bus { return lazyBus{h} }

// bus is the bus, read on the first call.
func (h *Host) bus() *pciBus {
	h.pci.once.Do(h.openPCI)
	return h.pci.bus
}

// lazyBus is the host's bus, read on its first use.
type lazyBus struct{ h *Host }

func (l lazyBus) Devices() ([]pci.Addr, error)      { return l.h.bus().Devices() }
func (l lazyBus) Config(a pci.Addr) ([]byte, error) { return l.h.bus().Config(a) }
func (l lazyBus) Driver(a pci.Addr) (string, error) { return l.h.bus().Driver(a) }
func (l lazyBus) HasDriver(name string) bool        { return l.h.bus().HasDriver(name) }
func (l lazyBus) LoadModule(name string) error      { return l.h.bus().LoadModule(name) }
func (l lazyBus) Unbind(a pci.Addr) error           { return l.h.bus().Unbind(a) }
func (l lazyBus) Probe(a pci.Addr) error            { return l.h.bus().Probe(a) }
func (l lazyBus) IsVirtualFunction(a pci.Addr) bool { return l.h.bus().IsVirtualFunction(a) }
func (l lazyBus) SetDriverOverride(a pci.Addr, driver string) error {
	return l.h.bus().SetDriverOverride(a, driver)
}
func (l lazyBus) WriteConfig(a pci.Addr, off int, b []byte) error {
	return l.h.bus().WriteConfig(a, off, b)
}

// openPCI reads the devices and puts back the bindings host.json kept.
func (h *Host) openPCI() {
	b := simbus.New()
	if root := h.opts.Host.PCISysfs; root != "" {
		read, err := simbus.FromSysfs(root)
		if err != nil {
			h.opts.Logger.Warn("simulated host has no PCI devices: cannot read the PCI tree", "path", root, "err", err)
		} else {
			b = read
		}
	}
	b.AddModule(pcibackModule, pci.StubXen, nil)
	h.pci.bus = &pciBus{Bus: b, h: h}
	err := h.mutate(func(st *hostState) (bool, error) {
		for name, bd := range st.PCI {
			if a, err := pci.ParseAddr(name); err == nil {
				h.pci.bus.restore(a, bd)
			}
		}
		return false, nil
	})
	if err != nil {
		h.opts.Logger.Warn("cannot restore the simulated PCI devices' bindings", "err", err)
	}
}

// restore rebinds a as bd says, through the bus's own operations.
func (p *pciBus) restore(a pci.Addr, bd pciBinding) {
	if bd.Driver == pci.StubXen || bd.Override == pci.StubXen {
		_ = p.Bus.LoadModule(pcibackModule)
	}
	override := bd.Override
	if override == "" {
		override = "\n"
	}
	_ = p.Bus.SetDriverOverride(a, override)
	_ = p.Bus.Unbind(a)
	if bd.Driver != "" {
		_ = p.Bus.Probe(a)
	}
}

// record keeps a's binding in host.json.
func (p *pciBus) record(a pci.Addr) {
	drv, err := p.Bus.Driver(a)
	if err != nil {
		return // vanished: nothing to keep
	}
	bd := pciBinding{Driver: drv, Override: p.Bus.Override(a)}
	err = p.h.mutate(func(st *hostState) (bool, error) {
		if st.PCI == nil {
			st.PCI = map[string]pciBinding{}
		}
		st.PCI[a.String()] = bd
		return true, nil
	})
	if err != nil {
		p.h.opts.Logger.Warn("cannot record a simulated PCI device's binding", "addr", a.String(), "err", err)
	}
}

func (p *pciBus) SetDriverOverride(a pci.Addr, driver string) error {
	err := p.Bus.SetDriverOverride(a, driver)
	p.record(a)
	return err
}

func (p *pciBus) Unbind(a pci.Addr) error {
	err := p.Bus.Unbind(a)
	p.record(a)
	return err
}

func (p *pciBus) Probe(a pci.Addr) error {
	err := p.Bus.Probe(a)
	p.record(a)
	return err
}

// pciAddrOf is a libxl PCI device's host address.
func pciAddrOf(p libxltypes.PCIDev) pci.Addr {
	return pci.Addr{Domain: uint32(p.Domain), Bus: uint8(p.Bus), Slot: uint8(p.Dev), Function: uint8(p.Func)}
}

// claimPCI checks what libxl_device_pci_add checks of a device's binding
// before it gives it to a guest: the device exists and is bound to pciback,
// or libxl binds it there itself when asked to seize it. It takes the
// bus's own lock and host.json's: call it outside mutate.
func (h *Host) claimPCI(dev libxltypes.PCIDev) error {
	a := pciAddrOf(dev)
	bus := h.bus()
	drv, err := bus.Driver(a)
	if err != nil {
		return fmt.Errorf("%w: PCI device %x:%x:%x.%x: %v", backend.ErrFailed, a.Domain, a.Bus, a.Slot, a.Function, err)
	}
	if drv == pci.StubXen {
		return nil
	}
	if !dev.Seize {
		return fmt.Errorf("%w: PCI device %x:%x:%x.%x is not assignable", backend.ErrFailed, a.Domain, a.Bus, a.Slot, a.Function)
	}
	host := pci.Host{Bus: bus}
	if err := host.ProbeStub(pci.StubXen); err != nil {
		return fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	if _, err := host.BindToStub(a, pci.StubXen); err != nil {
		return fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	return nil
}

// pciTaken refuses a device another guest than id has, as libxl does.
func pciTaken(st *hostState, id backend.DomID, dev libxltypes.PCIDev) error {
	a := pciAddrOf(dev)
	for _, g := range st.Guests {
		if g.DomID == id || g.Config == nil {
			continue
		}
		for _, o := range g.Config.PCIDevs {
			if pciAddrOf(o) == a {
				return fmt.Errorf("%w: PCI device %x:%x:%x.%x already attached to a domain", backend.ErrInvalid, a.Domain, a.Bus, a.Slot, a.Function)
			}
		}
	}
	return nil
}

// passthroughOf is the IOMMU context libxl creates a guest with
// (libxl__domain_config_setdefault): as asked, else enabled when it starts
// with PCI devices and disabled when not. Only a guest with one can be
// given a PCI device later.
func passthroughOf(cfg *libxltypes.DomainConfig) string {
	switch {
	case cfg.CInfo.Passthrough != "":
		return cfg.CInfo.Passthrough
	case len(cfg.PCIDevs) > 0:
		return "enabled"
	}
	return "disabled"
}

// canTakePCI refuses a PCI hotplug into a guest created without an IOMMU
// context, as Xen's XEN_DOMCTL_assign_device does.
func canTakePCI(g *guest, dev libxltypes.PCIDev) error {
	if !g.NoIOMMU {
		return nil
	}
	a := pciAddrOf(dev)
	return fmt.Errorf("%w: Domain %d:xc_assign_device failed for PCI device %x:%x:%x.%x: operation not supported (the domain was created without passthrough)",
		backend.ErrFailed, g.DomID, a.Domain, a.Bus, a.Slot, a.Function)
}
