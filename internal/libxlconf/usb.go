package libxlconf

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// usb is libxlMakeUSBControllerList and libxlMakeUSBList: PV USB
// controllers (qusb) and USB host devices given by bus and device.
func (t *translation) usb(c *libxltypes.DomainConfig) error {
	devs := devices(t.d)
	for _, ctl := range devs.Controllers {
		if ctl.Type != "usb" {
			continue
		}
		x := libxltypes.USBCtrl{Type: "qusb", DevID: 0, Ports: 8}
		if ctl.Index != nil {
			x.DevID = int(*ctl.Index)
		}
		switch ctl.Model {
		case "", "qusb2":
			x.Version = 2
		case "qusb1":
			x.Version = 1
		default:
			return unsupported("unsupported usb model")
		}
		if ctl.USB != nil && ctl.USB.Port != nil {
			x.Ports = int(*ctl.USB.Port)
		}
		c.USBCtrls = append(c.USBCtrls, x)
	}
	for _, h := range devs.Hostdevs {
		if h.SubsysUSB == nil {
			continue
		}
		bus, dev, err := t.usbHostAddress(h.SubsysUSB.Source)
		if err != nil {
			return err
		}
		c.USBDevs = append(c.USBDevs, libxltypes.USBDev{Ctrl: -1, HostDev: libxltypes.USBHostID{HostBus: bus, HostAddr: dev}})
	}
	return nil
}

// usbHostAddress is the bus and device of a USB host device: as given, or
// found by vendor and product on the host.
func (t *translation) usbHostAddress(src *libvirtxml.DomainHostdevSubsysUSBSource) (uint, uint, error) {
	if src == nil {
		return 0, 0, unsupported("USB host device without a source")
	}
	if a := src.Address; a != nil && a.Bus != nil && a.Device != nil && *a.Bus > 0 && *a.Device > 0 {
		return *a.Bus, *a.Device, nil
	}
	var vendor, product uint
	var ok1, ok2 bool
	if src.Vendor != nil && src.Product != nil {
		vendor, ok1 = usbID(src.Vendor.ID)
		product, ok2 = usbID(src.Product.ID)
	}
	if !ok1 || !ok2 {
		return 0, 0, unsupported("USB host device needs a bus and device address or a vendor and product")
	}
	if t.host.FindUSB != nil {
		return t.host.FindUSB(vendor, product)
	}
	return FindUSBDevice(USBSysfsDir, vendor, product)
}
