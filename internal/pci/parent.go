package pci

// maxBridgeDepth bounds the walk up the bridges: there are no more buses
// than 256, and a bridge whose config claims its own bus as secondary
// would otherwise be its own parent forever (libvirt's loop has no bound).
const maxBridgeDepth = 256

// Parent is virPCIDeviceGetParent with virPCIDeviceIsParent: the
// PCI-to-PCI bridge whose secondary bus is the device's, or else (SR-IOV
// puts VFs on buses of their own) the bridge with the highest secondary
// bus whose range (secondary, subordinate] holds it. A device whose config
// cannot be read is passed over, as libvirt's ConfigOpenTry does.
func (h Host) Parent(a Addr) (parent Addr, found bool, err error) {
	devs, err := h.devices()
	if err != nil {
		return Addr{}, false, err
	}
	var bestSecondary uint8
	for _, d := range devs {
		if d.Domain != a.Domain {
			continue
		}
		cfg, err := h.Bus.Config(d)
		if err != nil {
			continue
		}
		secondary, subordinate, ok := Config(cfg).bridgeBuses()
		if !ok {
			continue
		}
		if a.Bus == secondary {
			return d, true, nil
		}
		if a.Bus > secondary && a.Bus <= subordinate && (!found || secondary > bestSecondary) {
			parent, found, bestSecondary = d, true, secondary
		}
	}
	return parent, found, nil
}

// Assignable is virPCIDeviceIsAssignable, which libvirt asks of every
// device not given through VFIO (so of all of Xen's): false when a switch
// between the device and the root lacks ACS and strictACS is set. libvirt
// returns only false then, having reported why; err is that reason. The
// caller reports libvirt's own error on false: VIR_ERR_OPERATION_INVALID,
// "PCI device %s is not assignable".
func (h Host) Assignable(a Addr, strictACS bool) (bool, error) {
	behind, err := h.behindSwitchLackingACS(a)
	if err != nil {
		return false, err
	}
	if behind && strictACS {
		return false, internalErr("Device %s is behind a switch lacking ACS and cannot be assigned", a)
	}
	if behind {
		h.debug("strict ACS check disabled; device assignment allowed", "device", a)
	}
	return true, nil
}

// behindSwitchLackingACS is virPCIDeviceIsBehindSwitchLackingACS: walk up
// the bridges until one is a downstream port lacking ACS or there is no
// parent left. A device on the root bus has no parent and needs none: it
// cannot talk to its peers but through the root IOMMU.
func (h Host) behindSwitchLackingACS(a Addr) (bool, error) {
	parent, found, err := h.Parent(a)
	if err != nil {
		return false, err
	}
	if !found {
		if a.Bus == 0 {
			return false, nil
		}
		return false, internalErr("Failed to find parent device for %s", a)
	}
	for depth := 0; found && depth < maxBridgeDepth; depth++ {
		cfg, err := h.config(parent)
		if err != nil {
			return false, err
		}
		if cfg.lacksACS(cfg.Caps(h.Bus.IsVirtualFunction(parent))) {
			h.debug("downstream port lacks ACS", "device", parent)
			return true, nil
		}
		if parent, found, err = h.Parent(parent); err != nil {
			return false, err
		}
	}
	return false, nil
}
