package backend

import (
	"context"
	"errors"

	"virtxend/internal/libxltypes"
	"virtxend/internal/pci"
)

// Device is one device of a running guest as libxl's configuration has
// it: exactly one field is set. Hotplug passes it across the seam as the
// translation made it (libxlconf), never as libvirt XML.
type Device struct {
	Disk    *libxltypes.Disk
	NIC     *libxltypes.NIC
	PCI     *libxltypes.PCIDev
	USBCtrl *libxltypes.USBCtrl
	USBDev  *libxltypes.USBDev
}

// DeviceHotplug is the optional feature of adding devices to a running
// guest and removing them (libxl_device_<kind>_add and _remove, and
// libxl_cdrom_insert), each finishing when libxl reports it done.
type DeviceHotplug interface {
	// AddDevice plugs dev into guest id and returns it as plugged: a NIC
	// or USB controller with devid -1 gets the one the hypervisor chose
	// (the next free), a USB device with ctrl -1 the controller and port.
	AddDevice(ctx context.Context, id DomID, dev Device) (Device, error)
	// RemoveDevice unplugs the guest's device that dev names: a disk by
	// its vdev, a NIC by its MAC, a USB controller by its devid, a USB
	// device by its host bus and address, a PCI device by its address. A
	// device the guest does not have wraps ErrNoDevice. The guest must
	// let the device go: if it has not when ctx ends, the device stays
	// with the guest and the error wraps ErrTimedOut. (libvirt's libxl
	// driver calls libxl_device_disk_remove, which after libxl's timeout
	// removes a disk behind the guest's back; this interface never does.)
	RemoveDevice(ctx context.Context, id DomID, dev Device) error
	// InsertMedia puts disk (a cdrom's new media, or Format "empty" to
	// eject) into the guest's cdrom disk.Vdev (libxl_cdrom_insert).
	InsertMedia(ctx context.Context, id DomID, disk libxltypes.Disk) error
}

// Errors of DeviceHotplug (wrapped with detail).
var (
	ErrNoDevice = errors.New("no such device")
	ErrTimedOut = errors.New("the guest did not release the device in time")
)

// Kind names the device's kind as libxl's API does ("disk", "nic", "pci",
// "usbctrl", "usbdev"), for messages; "" for an empty Device.
func (d Device) Kind() string {
	switch {
	case d.Disk != nil:
		return "disk"
	case d.NIC != nil:
		return "nic"
	case d.PCI != nil:
		return "pci"
	case d.USBCtrl != nil:
		return "usbctrl"
	case d.USBDev != nil:
		return "usbdev"
	}
	return ""
}

// PCIHost is the optional feature of a host PCI bus whose devices guests
// can be given (PCI passthrough): the real one in sysfs, or the simulated
// host's, which never touches a real device.
type PCIHost interface {
	PCIBus() pci.Bus
}
