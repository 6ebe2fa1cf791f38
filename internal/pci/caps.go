package pci

// Caps is what virPCIDeviceInit learns of a device from its config space:
// where its PCI Express and power management capabilities sit, and which
// resets it supports.
type Caps struct {
	PCIeCap int  // offset of the PCI Express capability, 0 if none
	PMCap   int  // offset of the power management capability, 0 if none
	PCIe    bool // a PCI Express device
	FLR     bool // function level reset
	PMReset bool // a D3hot→D0 transition resets the function fully
}

// Caps is virPCIDeviceInit over c. isVF says whether the device is an
// SR-IOV virtual function (sysfs's physfn link), which libvirt trusts to
// have FLR even when it does not advertise it.
func (c Config) Caps(isVF bool) Caps {
	var k Caps
	pos, found := c.CapOffset(CapExp)
	k.PCIeCap = pos
	if found {
		k.PCIe = true
	} else {
		// Not found, or not readable (an unprivileged reader gets 64
		// bytes): libvirt guesses from the file's length, 256 being
		// conventional PCI. Config's length stands in for the file's,
		// so a truncated read guesses PCIe, as libvirt does for a file
		// it cannot measure.
		k.PCIe = len(c) != confLen
	}
	k.PMCap, _ = c.CapOffset(CapPM)
	k.FLR = c.hasFLR(k.PCIeCap, isVF)
	k.PMReset = c.hasPMReset(k.PMCap)
	return k
}

// hasFLR is virPCIDeviceDetectFunctionLevelReset: the PCIe FLR bit in
// DEVCAP, else the AF capability's FLR bit, else a VF. As in libvirt, a
// device without an AF capability never reaches the VF test: the AF
// lookup "fails" when the capability is absent and libvirt gives up there,
// so a VF that advertises neither FLR goes on to a PM or bus reset.
func (c Config) hasFLR(pcieCap int, isVF bool) bool {
	if pcieCap != 0 && c.read32(pcieCap+expDevCap)&expDevCapFLR != 0 {
		return true
	}
	pos, found := c.CapOffset(CapAF)
	if !found {
		return false
	}
	if caps, _ := c.read16(pos + afCap); caps&afCapFLR != 0 {
		return true
	}
	return isVF
}

// hasPMReset is virPCIDeviceDetectPowerManagementReset: a PM capability
// whose NO_SOFT_RESET bit is clear, so D3hot→D0 is a full internal reset.
// A short read counts as 0, the bit clear, as it does in libvirt.
func (c Config) hasPMReset(pmCap int) bool {
	return pmCap != 0 && c.read32(pmCap+pmCtrl)&pmCtrlNoSoftRst == 0
}

// bridgeBuses reads a PCI-to-PCI bridge's secondary and subordinate bus
// numbers; ok is false when c is not such a bridge (virPCIDeviceIsParent's
// tests: class 0x0604 and header type 1).
func (c Config) bridgeBuses() (secondary, subordinate uint8, ok bool) {
	if cls, ok := c.class(); !ok || cls != classBridgePCI {
		return 0, 0, false
	}
	if t, _ := c.read8(regHeaderType); t&headerTypeMask != uint8(HeaderPCIBridge) {
		return 0, 0, false
	}
	secondary, _ = c.read8(regSecondaryBus)
	subordinate, _ = c.read8(regSubordinateBus)
	return secondary, subordinate, true
}

// lacksACS is virPCIDeviceDownstreamLacksACS's test: a PCIe downstream
// port whose ACS capability is missing or not fully enabled.
func (c Config) lacksACS(k Caps) bool {
	if cls, ok := c.class(); !ok || k.PCIeCap == 0 || cls != classBridgePCI {
		return false
	}
	if flags, _ := c.read16(k.PCIeCap + expFlags); (flags&expFlagsType)>>4 != expTypeDownstrm {
		return false
	}
	pos := c.ExtCapOffset(ExtCapACS)
	if pos == 0 {
		return true
	}
	ctrl, _ := c.read16(pos + extACSCtrl)
	return ctrl&acsEnabled != acsEnabled
}
