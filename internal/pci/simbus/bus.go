// Package simbus is a PCI bus in memory that behaves, for the operations
// of pci.Bus, as the kernel's sysfs does: drivers bind and unbind as the
// kernel's driver core binds them (driver_override first, else the
// device's native driver), modules register drivers when loaded, config
// space writes are kept, and a power management or secondary bus reset
// resets the devices it reaches. The simulated Xen host and the tests of
// the PCI rules use it; it never touches a real device.
//
// Faults fail as the real thing does: a device that vanishes (ErrNoDevice
// from then on), a driver that refuses to unbind, a module that will not
// load, a config space that cannot be read or written.
//
// A Bus is safe for concurrent use.
package simbus

import (
	"cmp"
	"fmt"
	"slices"
	"strings"
	"sync"
	"syscall"

	"virtxend/internal/pci"
)

// Device is a device to put on the bus.
type Device struct {
	// Config is the config space (Spec.Bytes builds one): 256 bytes, or
	// 4096 for PCI Express. It is also what the device returns to when
	// reset.
	Config []byte
	// Driver is the driver bound to the device now, "" for none.
	Driver string
	// Native is the driver that takes the device when it is probed
	// without a driver_override: the host's own driver for it.
	Native string
	// Override is the device's driver_override, "" for none.
	Override string
	// VF marks an SR-IOV virtual function (sysfs's physfn link).
	VF bool
}

type device struct {
	cfg, powerOn                []byte
	driver, native, override    string
	vf                          bool
	readErr, writeErr           error
	resets                      int
	pmCap                       int // offset of the PM capability, 0 if none
	pmNoSoftReset, bridgeHeader bool
}

type module struct {
	driver string
	err    error
	loaded bool
}

// Bus is the simulated bus. The zero value is not usable; call New.
type Bus struct {
	mu      sync.Mutex
	devices map[pci.Addr]*device
	drivers map[string]bool  // registered drivers
	refuse  map[string]error // drivers whose unbind fails, with the error
	modules map[string]*module
}

// New is an empty bus: no devices, no drivers, no modules.
func New() *Bus {
	return &Bus{devices: map[pci.Addr]*device{}, drivers: map[string]bool{},
		refuse: map[string]error{}, modules: map[string]*module{}}
}

// Add puts a device on the bus (a hot-plug, or the state at boot). The
// drivers it names are registered. A device already at a is replaced.
func (b *Bus) Add(a pci.Addr, d Device) {
	cfg := pci.Config(slices.Clone(d.Config))
	dev := &device{
		cfg: cfg, powerOn: slices.Clone(d.Config),
		driver: d.Driver, native: d.Native, override: d.Override, vf: d.VF,
		bridgeHeader: cfg.HeaderType() == pci.HeaderPCIBridge,
	}
	if pos, found := cfg.CapOffset(pci.CapPM); found {
		dev.pmCap = pos
		dev.pmNoSoftReset = !cfg.Caps(false).PMReset
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	for _, name := range []string{d.Driver, d.Native} {
		if name != "" {
			b.drivers[name] = true
		}
	}
	b.devices[a] = dev
}

// AddDriver registers a driver, which like the kernel's binds at once
// every unbound device it matches.
func (b *Bus) AddDriver(name string) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.register(name)
}

func (b *Bus) register(name string) {
	b.drivers[name] = true
	for _, d := range b.devices {
		if d.driver == "" && d.wants() == name {
			d.driver = name
		}
	}
}

// AddModule makes a kernel module loadable: loading it registers driver,
// or fails with err when err is not nil (pci.ErrModuleProhibited for a
// blacklisted one).
func (b *Bus) AddModule(name, driver string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.modules[moduleKey(name)] = &module{driver: driver, err: err}
}

// moduleKey is modprobe's spelling: "-" and "_" are the same.
func moduleKey(name string) string { return strings.ReplaceAll(name, "-", "_") }

// wants is the driver a probe binds: driver_override allows only that
// driver; without it, the native driver matches.
func (d *device) wants() string {
	if d.override != "" {
		return d.override
	}
	return d.native
}

// dev is the device at a, or ErrNoDevice. b.mu is held.
func (b *Bus) dev(a pci.Addr) (*device, error) {
	d, ok := b.devices[a]
	if !ok {
		return nil, fmt.Errorf("%s: %w", a, pci.ErrNoDevice)
	}
	return d, nil
}

// Devices lists the devices in address order, as sysfs's directory is.
func (b *Bus) Devices() ([]pci.Addr, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	out := make([]pci.Addr, 0, len(b.devices))
	for a := range b.devices {
		out = append(out, a)
	}
	slices.SortFunc(out, compareAddr)
	return out, nil
}

func compareAddr(x, y pci.Addr) int {
	return cmp.Or(cmp.Compare(x.Domain, y.Domain), cmp.Compare(x.Bus, y.Bus),
		cmp.Compare(x.Slot, y.Slot), cmp.Compare(x.Function, y.Function))
}

// Config returns a copy of the device's config space.
func (b *Bus) Config(a pci.Addr) ([]byte, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil {
		return nil, err
	}
	if d.readErr != nil {
		return nil, d.readErr
	}
	return slices.Clone(d.cfg), nil
}

// Driver is the name of the bound driver, "" for none.
func (b *Bus) Driver(a pci.Addr) (string, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil {
		return "", err
	}
	return d.driver, nil
}

// HasDriver says whether the driver is registered.
func (b *Bus) HasDriver(name string) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.drivers[name]
}

// LoadModule loads a module added by AddModule; any other is not found,
// as modprobe says.
func (b *Bus) LoadModule(name string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	m, ok := b.modules[moduleKey(name)]
	switch {
	case !ok:
		return fmt.Errorf("modprobe: FATAL: Module %s not found", name)
	case m.err != nil:
		return m.err
	case !m.loaded:
		m.loaded = true
		b.register(m.driver)
	}
	return nil
}

// SetDriverOverride is a write to driver_override: the kernel keeps the
// text up to the first newline, and an empty one clears the override.
func (b *Bus) SetDriverOverride(a pci.Addr, driver string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil {
		return err
	}
	if len(driver) >= 4096 {
		return syscall.EINVAL
	}
	d.override, _, _ = strings.Cut(driver, "\n")
	return nil
}

// Unbind is a write to driver/unbind; a device without a driver has no
// such file, and there is nothing to do.
func (b *Bus) Unbind(a pci.Addr) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil || d.driver == "" {
		return err
	}
	if err := b.refuse[d.driver]; err != nil {
		return err
	}
	d.driver = ""
	return nil
}

// Probe is a write to drivers_probe: an unbound device binds to the
// driver it wants if that driver is registered; a bound one stays.
func (b *Bus) Probe(a pci.Addr) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil || d.driver != "" {
		return err
	}
	if b.drivers[d.wants()] {
		d.driver = d.wants()
	}
	return nil
}

// IsVirtualFunction says whether the device is a VF.
func (b *Bus) IsVirtualFunction(a pci.Addr) bool {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, ok := b.devices[a]
	return ok && d.vf
}

var _ pci.Bus = (*Bus)(nil)
