package pci

import (
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The waits of libvirt's resets: the PM spec's 10 ms after each D-state
// change, and 200 ms with the bridge's reset bit set and again after.
const (
	pmResetWait  = 10 * time.Millisecond
	busResetWait = 200 * time.Millisecond
)

// errNoReset stands for libvirt's "no error reported" when no reset
// method was even tried.
var errNoReset = internalErr("no FLR, PM reset or bus reset available")

// Reset is virPCIDeviceReset. inactive says which devices of the bus are
// free to be reset with this one (libvirt's inactive list: detached from
// the host, not yet given to a guest); nil means none is.
//
// libvirt's first check, "Not resetting active device", needs the list of
// devices in use by guests; it is the caller's (internal/hostdev) to make
// before calling Reset.
func (h Host) Reset(a Addr, inactive func(Addr) bool) error {
	hdr, err := h.HeaderType(a)
	if err != nil {
		return err
	}
	if hdr != HeaderEndpoint {
		return internalErr("Invalid attempt to reset PCI device %s. Only PCI endpoint devices can be reset", a)
	}
	drv, err := h.Driver(a)
	if err != nil {
		return err
	}
	// vfio-pci resets the device itself whenever it should.
	if drv == StubVFIO {
		h.debug("device is bound to vfio-pci, skip reset", "device", a)
		return nil
	}
	cfg, err := h.config(a)
	if err != nil {
		return err
	}
	k := cfg.Caps(h.Bus.IsVirtualFunction(a))
	// libvirt leaves FLR to the hypervisor (its comment names KVM; Xen's
	// pciback resets a function itself when it is bound and released).
	if k.FLR {
		return nil
	}
	var rerr error = errNoReset
	// A PM reset resets only this function, so it comes first.
	if k.PMReset {
		rerr = h.pmReset(a, k.PMCap)
	}
	// There is no bridge to reset above the root bus.
	if rerr != nil && a.Bus != 0 {
		rerr = h.secondaryBusReset(a, inactive)
	}
	return resetFailed(a, rerr)
}

// resetFailed is the error Reset ends with: libvirt quotes the last
// error's whole message, prefix and all.
func resetFailed(a Addr, err error) error {
	if err == nil {
		return nil
	}
	if err == errNoReset {
		return internalErr("Unable to reset PCI device %s: %s", a, "no FLR, PM reset or bus reset available")
	}
	return virerr.Wrap(err, virerr.FromNone, libvirt.ErrInternalError, "Unable to reset PCI device %s: %s", a, err.Error())
}

// saveConfig reads the conventional config space that a reset loses.
func (h Host) saveConfig(a Addr) (Config, error) {
	cfg, err := h.Bus.Config(a)
	if err != nil || len(cfg) < confLen {
		return nil, internalErr("Failed to read PCI config space for %s", a)
	}
	return append(Config(nil), cfg...), nil
}

func (h Host) restoreConfig(a Addr, saved Config) error {
	if err := h.Bus.WriteConfig(a, 0, saved[:confLen]); err != nil {
		return internalErr("Failed to restore PCI config space for %s", a)
	}
	return nil
}

// write is virPCIDeviceWrite16/32: libvirt only warns when these fail and
// goes on; the restore that follows reports.
func (h Host) write(a Addr, off int, v uint32, n int) {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(v >> (8 * i))
	}
	if err := h.Bus.WriteConfig(a, off, b); err != nil {
		h.warn("failed to write PCI config space", "device", a, "offset", off, "err", err)
	}
}

// pmReset is virPCIDeviceTryPowerManagementReset: D3hot, then D0, which
// (NO_SOFT_RESET being clear) resets the function; the config space is
// saved before and written back after.
func (h Host) pmReset(a Addr, pmCap int) error {
	saved, err := h.saveConfig(a)
	if err != nil {
		return err
	}
	h.debug("doing a power management reset", "device", a)
	ctl := saved.read32(pmCap+pmCtrl) &^ pmCtrlStateMask
	h.write(a, pmCap+pmCtrl, ctl|pmCtrlStateD3hot, 4)
	h.sleep(pmResetWait)
	h.write(a, pmCap+pmCtrl, ctl|pmCtrlStateD0, 4)
	h.sleep(pmResetWait)
	return h.restoreConfig(a, saved)
}

// secondaryBusReset is virPCIDeviceTrySecondaryBusReset: libvirt's
// sledgehammer, which resets every device behind the parent bridge, so it
// refuses while another device on the bus is in use. Only this device's
// config space is saved and restored, the others being unused.
func (h Host) secondaryBusReset(a Addr, inactive func(Addr) bool) error {
	if err := h.refuseActiveOnBus(a, inactive); err != nil {
		return err
	}
	parent, found, err := h.Parent(a)
	if err != nil {
		return err
	}
	if !found {
		return internalErr("Failed to find parent device for %s", a)
	}
	pcfg, err := h.config(parent)
	if err != nil {
		return err
	}
	h.debug("doing a secondary bus reset", "device", a, "bridge", parent)
	saved, err := h.saveConfig(a)
	if err != nil {
		return err
	}
	ctl, _ := pcfg.read16(regBridgeControl)
	h.write(parent, regBridgeControl, uint32(ctl|bridgeCtlReset), 2)
	h.sleep(busResetWait)
	h.write(parent, regBridgeControl, uint32(ctl), 2)
	h.sleep(busResetWait)
	return h.restoreConfig(a, saved)
}

// refuseActiveOnBus is virPCIDeviceBusContainsActiveDevices with
// virPCIDeviceSharesBusWithActive: the first other function on the same
// domain and bus that is not inactive stops the bus reset.
func (h Host) refuseActiveOnBus(a Addr, inactive func(Addr) bool) error {
	devs, err := h.devices()
	if err != nil {
		return err
	}
	for _, d := range devs {
		if d.Domain != a.Domain || d.Bus != a.Bus || (d.Slot == a.Slot && d.Function == a.Function) {
			continue
		}
		if inactive != nil && inactive(d) {
			continue
		}
		return internalErr("Active %s devices on bus with %s, not doing bus reset", d, a)
	}
	return nil
}

// devices is the listing virPCIDeviceIterDevices walks.
func (h Host) devices() ([]Addr, error) {
	devs, err := h.Bus.Devices()
	if err != nil {
		return nil, systemErr(err, "cannot open directory '%s'", sysfsPCI+"devices")
	}
	return devs, nil
}
