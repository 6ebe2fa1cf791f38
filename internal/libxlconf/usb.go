package libxlconf

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// usb is libxlMakeUSBControllerList and libxlMakeUSBList: PV USB
// controllers (qusb) and USB host devices given by bus and device.
func (t *translation) usb(c *libxltypes.DomainConfig) error {
	devs := devices(t.d)
	for i := range devs.Controllers {
		if devs.Controllers[i].Type != "usb" {
			continue
		}
		x, err := makeUSBController(&devs.Controllers[i])
		if err != nil {
			return err
		}
		c.USBCtrls = append(c.USBCtrls, x)
	}
	for _, h := range devs.Hostdevs {
		if h.SubsysUSB == nil {
			continue
		}
		x, err := t.makeUSB(h.SubsysUSB)
		if err != nil {
			return err
		}
		c.USBDevs = append(c.USBDevs, x)
	}
	return nil
}

// makeUSBController is libxlMakeUSBController: a PV USB controller (qusb)
// of USB 1.1 or 2.0, 8 ports unless set, its index as devid.
func makeUSBController(ctl *libvirtxml.DomainController) (libxltypes.USBCtrl, error) {
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
		return x, unsupported("unsupported usb model")
	}
	if ctl.USB != nil && ctl.USB.Port != nil {
		x.Ports = int(*ctl.USB.Port)
	}
	return x, nil
}

// makeUSB is libxlMakeUSB: a USB host device by its bus and device, its
// controller and port left to libxl.
func (t *translation) makeUSB(u *libvirtxml.DomainHostdevSubsysUSB) (libxltypes.USBDev, error) {
	bus, dev, err := t.usbHostAddress(u.Source)
	if err != nil {
		return libxltypes.USBDev{}, err
	}
	return libxltypes.USBDev{Ctrl: -1, HostDev: libxltypes.USBHostID{HostBus: bus, HostAddr: dev}}, nil
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
