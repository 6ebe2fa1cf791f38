package libxl

// usb is libxlMakeUSBControllerList and libxlMakeUSBList: PV USB
// controllers (qusb) and USB host devices given by bus and device.
func (t *translation) usb(c *DomainConfig) error {
	devs := devices(t.d)
	for _, ctl := range devs.Controllers {
		if ctl.Type != "usb" {
			continue
		}
		x := USBCtrl{Type: "qusb", DevID: 0, Ports: 8}
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
		src := h.SubsysUSB.Source
		if src == nil || src.Address == nil || src.Address.Bus == nil || src.Address.Device == nil ||
			*src.Address.Bus == 0 || *src.Address.Device == 0 {
			// libvirt would look the vendor and product up in sysfs.
			return unsupported("USB host devices must be given by bus and device address")
		}
		c.USBDevs = append(c.USBDevs, USBDev{
			Ctrl:    -1,
			HostDev: USBHostID{HostBus: *src.Address.Bus, HostAddr: *src.Address.Device},
		})
	}
	return nil
}
