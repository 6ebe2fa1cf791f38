package pci

import "errors"

// ErrNoDevice: the bus has no device at the address (it was never there,
// or it vanished: hot-unplugged, or its driver removed it). Every Bus
// method taking an address and returning an error fails with one wrapping
// it then.
var ErrNoDevice = errors.New("no such PCI device")

// ErrModuleProhibited: the module was not loaded because the admin's
// modprobe configuration blacklists it (libvirt's virKModIsProhibited),
// which libvirt's message tells apart from other failures to load.
var ErrModuleProhibited = errors.New("module is blacklisted")

// Bus is the host's PCI bus: what sysfs offers under /sys/bus/pci. The
// operations are the kernel's, one file each; the rules built on them are
// Host's methods.
type Bus interface {
	// Devices lists the addresses of every device on the bus.
	Devices() ([]Addr, error)
	// Config reads the device's config space: the first 256 bytes, or all
	// 4096 of a PCI Express device. The slice is the caller's.
	Config(a Addr) ([]byte, error)
	// WriteConfig writes b at offset off of the device's config space.
	WriteConfig(a Addr, off int, b []byte) error
	// Driver is the name of the driver the device is bound to, "" when
	// none is.
	Driver(a Addr) (string, error)
	// HasDriver says whether a driver of that name is registered
	// (/sys/bus/pci/drivers/NAME exists).
	HasDriver(name string) bool
	// LoadModule loads a kernel module (modprobe); the error wraps
	// ErrModuleProhibited when modprobe's configuration blacklists it.
	LoadModule(name string) error
	// SetDriverOverride writes the device's driver_override: only that
	// driver may bind it from now on; "\n" clears it.
	SetDriverOverride(a Addr, driver string) error
	// Unbind unbinds the device from its driver, if it has one.
	Unbind(a Addr) error
	// Probe asks the kernel to bind the device to a driver that takes it
	// (drivers_probe).
	Probe(a Addr) error
	// IsVirtualFunction says whether the device is an SR-IOV virtual
	// function (it has a physfn link).
	IsVirtualFunction(a Addr) bool
}
