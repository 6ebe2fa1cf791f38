package libxlconf

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// The translation of one device of a running guest, for hotplug: the same
// helpers BuildDomainConfig uses for the guest's start, as libvirt's
// libxlDomainAttachDeviceLive and friends call libxlMakeDisk,
// libxlMakeNic, libxlMakeUSBController, libxlMakeUSB and libxlMakePCI. d
// is the guest's live definition. Errors are libvirt's.

func hotplugTranslation(d *libvirtxml.Domain, h *Host) *translation {
	return &translation{d: d, host: h, kind: domxml.KindOf(d)}
}

// Disk is libxlMakeDisk for disk, a disk to add or a cdrom's new media.
func Disk(d *libvirtxml.Domain, disk *libvirtxml.DomainDisk, h Host) (libxltypes.Disk, error) {
	return makeDisk(disk, h.SecretValue)
}

// NIC is libxlMakeNic with attach set: libxl chooses the devid, and an HVM
// guest's interface without a model is PV only (libxl cannot hot-plug an
// emulated NIC).
func NIC(d *libvirtxml.Domain, ifc *libvirtxml.DomainInterface, h Host) (libxltypes.NIC, error) {
	t := hotplugTranslation(d, &h)
	n, err := t.makeNIC(ifc, -1)
	if err != nil {
		return n, err
	}
	if ifc.Model == nil || ifc.Model.Type == "" {
		n.NICType = "vif"
	}
	return n, nil
}

// USBController is libxlMakeUSBController.
func USBController(ctl *libvirtxml.DomainController) (libxltypes.USBCtrl, error) {
	return makeUSBController(ctl)
}

// USBDevice is libxlMakeUSB: a USB host device given by bus and device,
// or found by vendor and product on the host (Host.FindUSB).
func USBDevice(d *libvirtxml.Domain, hd *libvirtxml.DomainHostdev, h Host) (libxltypes.USBDev, error) {
	if hd.SubsysUSB == nil {
		return libxltypes.USBDev{}, unsupported("only USB host devices are USB devices")
	}
	return hotplugTranslation(d, &h).makeUSB(hd.SubsysUSB)
}

// PCIDevice is libxlMakePCI.
func PCIDevice(hd *libvirtxml.DomainHostdev) (libxltypes.PCIDev, error) {
	if hd.SubsysPCI == nil {
		return libxltypes.PCIDev{}, unsupported("only PCI host devices are PCI devices")
	}
	return makePCI(hd.SubsysPCI.Source)
}
