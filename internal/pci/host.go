package pci

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"
)

// Host applies libvirt's rules (virpci.c) to the devices of one bus. The
// zero Sleep and Log are time.Sleep and no logging; tests pass a Sleep
// that records instead of waiting the 400 ms of a bus reset.
//
// Host keeps no state of its own: which devices a domain uses, and
// whether a device was bound to the stub by us, is the caller's
// bookkeeping (internal/hostdev), as it is virhostdev.c's in libvirt.
type Host struct {
	Bus   Bus
	Sleep func(time.Duration)
	Log   *slog.Logger
}

func (h Host) sleep(d time.Duration) {
	if h.Sleep != nil {
		h.Sleep(d)
		return
	}
	time.Sleep(d)
}

// debug and warn are libvirt's VIR_DEBUG and VIR_WARN.
func (h Host) debug(msg string, args ...any) {
	if h.Log != nil {
		h.Log.Debug(msg, args...)
	}
}

func (h Host) warn(msg string, args ...any) {
	if h.Log != nil {
		h.Log.Log(context.Background(), slog.LevelWarn, msg, args...)
	}
}

// ID is a device's vendor and product ids.
type ID struct{ Vendor, Device uint16 }

// String is libvirt's dev->id, "8086 10fb".
func (id ID) String() string { return fmt.Sprintf("%04x %04x", id.Vendor, id.Device) }

// Lookup is virPCIDeviceNew's checks: the device exists and its ids can be
// read. Its errors are libvirt's for a device named in a domain's <hostdev>
// or a nodedev call that is not on the host.
func (h Host) Lookup(a Addr) (ID, error) {
	cfg, err := h.Bus.Config(a)
	if errors.Is(err, ErrNoDevice) {
		return ID{}, systemErr(err, "Device %s not found: could not access %s", a, devicePath(a, "config"))
	}
	vendor, ok1 := Config(cfg).read16(0)
	device, ok2 := Config(cfg).read16(2)
	if err != nil || !ok1 || !ok2 {
		return ID{}, internalErr("Failed to read product/vendor ID for %s", a)
	}
	return ID{vendor, device}, nil
}

// Exists is virPCIDeviceExists: the device's config file is there.
func (h Host) Exists(a Addr) bool {
	_, err := h.Bus.Config(a)
	return !errors.Is(err, ErrNoDevice)
}

// config is virPCIDeviceConfigOpen and a read of the whole file.
func (h Host) config(a Addr) (Config, error) {
	cfg, err := h.Bus.Config(a)
	if err != nil {
		return nil, openConfigErr(a, err)
	}
	return Config(cfg), nil
}

// HeaderType is virPCIGetHeaderType.
func (h Host) HeaderType(a Addr) (Header, error) {
	cfg, err := h.config(a)
	if err != nil {
		return 0, err
	}
	t := cfg.HeaderType()
	if t >= headerLast {
		return 0, internalErr("Unknown PCI header type '%d' for device '%s'", int(t), a)
	}
	return t, nil
}

// Caps is virPCIDeviceInit: what the device's config space says of it.
func (h Host) Caps(a Addr) (Caps, error) {
	cfg, err := h.config(a)
	if err != nil {
		return Caps{}, err
	}
	return cfg.Caps(h.Bus.IsVirtualFunction(a)), nil
}

// IsPCIe is virPCIDeviceIsPCIExpress.
func (h Host) IsPCIe(a Addr) (bool, error) {
	k, err := h.Caps(a)
	return k.PCIe, err
}

// Driver is virPCIDeviceGetDriverPathAndName's name: the driver the device
// is bound to, "" when none is (a vanished device has no driver link).
func (h Host) Driver(a Addr) (string, error) {
	name, err := h.Bus.Driver(a)
	if errors.Is(err, ErrNoDevice) {
		return "", nil
	}
	if err != nil {
		return "", internalErr("Unable to resolve device %s driver symlink %s", a, devicePath(a, "driver"))
	}
	return name, nil
}
