package pci

import "errors"

// The stub drivers libvirt knows (virPCIStubDriver), by their sysfs names.
const (
	StubXen  = "pciback"
	StubVFIO = "vfio-pci"
)

// IsStubDriver says whether a driver is one of libvirt's stubs: a device
// bound to one is detached from the host.
func IsStubDriver(name string) bool { return name == StubXen || name == StubVFIO }

// stubModule is the kernel module that registers a stub driver. Xen's
// backend registers the driver "pciback" but its module is xen-pciback,
// which no alias calls "pciback": libvirt 9.0 runs "modprobe pciback",
// which loads it only where the admin added such an alias (or the
// backend is built in, or already loaded). We ask for the module by its
// own name.
func stubModule(stub string) string {
	if stub == StubXen {
		return "xen-pciback"
	}
	return stub
}

// ProbeStub is virPCIProbeStubDriver: make sure the stub driver is
// registered, loading its module if it is not.
func (h Host) ProbeStub(stub string) error {
	if !IsStubDriver(stub) {
		return internalErr("%s", "Attempting to use unknown stub driver")
	}
	if h.Bus.HasDriver(stub) {
		return nil
	}
	err := h.Bus.LoadModule(stubModule(stub))
	if err != nil {
		h.warn("failed to load driver", "driver", stub, "err", err)
	} else if h.Bus.HasDriver(stub) {
		return nil
	}
	if errors.Is(err, ErrModuleProhibited) {
		return internalErr("Failed to load PCI stub module %s: administratively prohibited", stub)
	}
	return internalErr("Failed to load PCI stub module %s", stub)
}

// BindToStub is virPCIDeviceBindToStub: bind the device to the stub
// driver through driver_override. A device already bound to it is left
// alone and bound is false; bound true is libvirt's unbind_from_stub,
// which the caller keeps so that reattaching gives the device back to the
// host only if we took it.
//
// On failure the device may be left with driver_override set to the stub,
// and unbound: libvirt does not undo the steps that worked.
func (h Host) BindToStub(a Addr, stub string) (bound bool, err error) {
	switch {
	case stub == "":
		return false, internalErr("No stub driver configured for PCI device %s", a)
	case !IsStubDriver(stub):
		return false, internalErr("Unknown stub driver configured for PCI device %s", a)
	}
	// libvirt compares the driver link with the stub's directory; a link
	// it cannot read does not match.
	if drv, err := h.Bus.Driver(a); err == nil && drv == stub {
		h.debug("device is already bound to the stub", "device", a, "driver", stub)
		return false, nil
	}
	if err := h.bindWithOverride(a, stub); err != nil {
		return false, err
	}
	return true, nil
}

// UnbindFromStub is virPCIDeviceUnbindFromStub once the caller has found
// unbind_from_stub set: clear driver_override and reprobe, so the device
// goes back to the driver that claims it (its native one).
func (h Host) UnbindFromStub(a Addr) error {
	return h.bindWithOverride(a, "\n")
}

// bindWithOverride is virPCIDeviceBindWithDriverOverride: driver_override,
// then unbind and reprobe, so the kernel binds only that driver ("\n"
// clears it: any driver that wants the device).
func (h Host) bindWithOverride(a Addr, driver string) error {
	if err := h.Bus.SetDriverOverride(a, driver); err != nil {
		// The double space is libvirt's.
		return systemErr(err, "Failed to add driver '%s' to driver_override  interface of PCI device '%s'", driver, a)
	}
	return h.rebind(a)
}

// rebind is virPCIDeviceRebind.
func (h Host) rebind(a Addr) error {
	if err := h.Unbind(a); err != nil {
		return err
	}
	if err := h.Bus.Probe(a); err != nil {
		return systemErr(err, "Failed to trigger a probe for PCI device '%s'", a)
	}
	return nil
}

// Unbind is virPCIDeviceUnbind: unbind the device from whatever driver
// has it, if any does.
func (h Host) Unbind(a Addr) error {
	drv, err := h.Driver(a)
	if err != nil || drv == "" {
		return err
	}
	if err := h.Bus.Unbind(a); err != nil {
		return systemErr(err, "Failed to unbind PCI device '%s' from %s", a, drv)
	}
	return nil
}
