package driver

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxltypes"
)

// USB controllers and host devices (PCI and USB), as libvirt's libxl
// driver plugs them: PV USB controllers with libxl_device_usbctrl_add and
// _remove, USB host devices with _usbdev_add and _remove (into a new
// controller when every port is taken), PCI devices with _pci_add and
// _remove. A PCI device is taken from the host before libxl plugs it and
// given back after libxl unplugged it (hostdevs.go), as
// libxlDomainAttachHostPCIDevice and libxlDomainDetachHostPCIDevice do.

// defaultUSBPorts is the ports of a USB controller that names none.
const defaultUSBPorts = 8

// attachControllerLive is libxlDomainAttachControllerDevice.
func (drv *Driver) attachControllerLive(ctx context.Context, d *domain, ctl *libvirtxml.DomainController) (string, error) {
	if ctl.Type != "usb" {
		return "", libxlErr(libvirt.ErrOperationUnsupported, "'%s' controller cannot be hot plugged.", ctl.Type)
	}
	live := d.snap().def.parsed()
	c := *ctl
	if c.Index == nil {
		idx := domxml.UnusedControllerIndex(live, "usb")
		c.Index = &idx
	}
	if c.USB == nil || c.USB.Port == nil {
		ports := uint(defaultUSBPorts)
		c.USB = &libvirtxml.DomainControllerUSB{Port: &ports}
	}
	if domxml.FindController(live, "usb", *c.Index) >= 0 {
		return "", libxlErr(libvirt.ErrOperationFailed, "target %s:%d already exists", c.Type, *c.Index)
	}
	x, err := libxlconf.USBController(&c)
	if err != nil {
		return "", err
	}
	if _, err := drv.addDevice(ctx, d, backend.Device{USBCtrl: &x}); err != nil {
		return "", libxlFailed(err, "libxenlight failed to attach USB controller")
	}
	domxml.AssignControllerAlias(&c)
	drv.editLive(d, func(def *libvirtxml.Domain) { domxml.InsertController(def, c) })
	return c.Alias.Name, nil
}

// detachControllerLive is libxlDomainDetachControllerDevice.
func (drv *Driver) detachControllerLive(ctx context.Context, d *domain, ctl *libvirtxml.DomainController) error {
	if ctl.Type != "usb" {
		return libxlErr(libvirt.ErrOperationUnsupported, "'%s' controller cannot be hot plugged.", ctl.Type)
	}
	live := d.snap().def.parsed()
	i, idx := -1, -1
	if ctl.Index != nil {
		idx = int(*ctl.Index)
		i = domxml.FindController(live, "usb", *ctl.Index)
	}
	if i < 0 {
		return libxlErr(libvirt.ErrOperationFailed, "controller %s:%d not found", ctl.Type, idx)
	}
	alias := aliasOf(live.Devices.Controllers[i].Alias)
	x, err := libxlconf.USBController(ctl)
	if err != nil {
		return err
	}
	if err := drv.removeDevice(ctx, d, backend.Device{USBCtrl: &x}, alias); err != nil {
		return libxlFailed(err, "libxenlight failed to detach USB controller")
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if j := domxml.FindController(def, "usb", uint(idx)); j >= 0 {
			def.Devices.Controllers = append(def.Devices.Controllers[:j], def.Devices.Controllers[j+1:]...)
		}
	})
	drv.removed(d, alias)
	return nil
}

// subsysType is a host device's virDomainHostdevSubsysType name and value.
func subsysType(h *libvirtxml.DomainHostdev) (string, int) {
	switch {
	case h.SubsysUSB != nil:
		return "usb", 0
	case h.SubsysPCI != nil:
		return "pci", 1
	case h.SubsysSCSI != nil:
		return "scsi", 2
	case h.SubsysSCSIHost != nil:
		return "scsi_host", 3
	case h.SubsysMDev != nil:
		return "mdev", 4
	}
	return "", -1
}

// attachHostdevLive is libxlDomainAttachHostDevice.
func (drv *Driver) attachHostdevLive(ctx context.Context, d *domain, h *libvirtxml.DomainHostdev) (string, error) {
	typ, _ := subsysType(h)
	if typ == "" {
		return "", libxlErr(libvirt.ErrConfigUnsupported, "hostdev mode '%s' not supported", "capabilities")
	}
	var err error
	switch typ {
	case "pci":
		err = drv.attachPCILive(ctx, d, h)
	case "usb":
		err = drv.attachUSBLive(ctx, d, h)
	default:
		return "", libxlErr(libvirt.ErrConfigUnsupported, "hostdev subsys type '%s' not supported", typ)
	}
	if err != nil {
		return "", err
	}
	added := *h
	drv.editLive(d, func(def *libvirtxml.Domain) {
		domxml.AssignHostdevAlias(def, &added)
		devicesOf(def).Hostdevs = append(def.Devices.Hostdevs, added)
	})
	return added.Alias.Name, nil
}

// attachPCILive is libxlDomainAttachHostPCIDevice.
func (drv *Driver) attachPCILive(ctx context.Context, d *domain, h *libvirtxml.DomainHostdev) error {
	addr := domxml.PCIAddress(h)
	if domxml.FindHostdev(d.snap().def.parsed(), h) >= 0 {
		return libxlErr(libvirt.ErrOperationFailed, "target pci device %s already exists", addr)
	}
	name := d.ref().Name
	devs := pciDevice(h)
	if drv.hostdevs != nil {
		if err := drv.hostdevs.Prepare(name, devs); err != nil {
			return err
		}
	}
	p, err := libxlconf.PCIDevice(h)
	if err == nil {
		if _, err = drv.addDevice(ctx, d, backend.Device{PCI: &p}); err != nil {
			err = libxlFailed(err, "libxenlight failed to attach pci device %s", addr)
		}
	}
	if err != nil && drv.hostdevs != nil {
		drv.hostdevs.Release(name, devs)
	}
	return err
}

// attachUSBLive is libxlDomainAttachHostUSBDevice: with no port free on
// the guest's USB controllers, a USB 2.0 controller of 8 ports is plugged
// first.
func (drv *Driver) attachUSBLive(ctx context.Context, d *domain, h *libvirtxml.DomainHostdev) error {
	live := d.snap().def.parsed()
	ports, used := 0, 0
	for _, c := range live.Devices.Controllers {
		if c.Type != "usb" {
			continue
		}
		if c.USB != nil && c.USB.Port != nil {
			ports += int(*c.USB.Port)
		} else {
			ports += defaultUSBPorts
		}
	}
	for _, o := range live.Devices.Hostdevs {
		if o.SubsysUSB != nil {
			used++
		}
	}
	if ports <= used {
		ctl := &libvirtxml.DomainController{Type: "usb", Model: "qusb2"}
		if _, err := drv.attachControllerLive(ctx, d, ctl); err != nil {
			drv.log.Error("cannot plug a USB controller", "domain", d.ref().Name, "err", err)
			return libxlErr(libvirt.ErrInternalError, "No available USB controller and port, and failed to attach a new one")
		}
	}
	x, err := libxlconf.USBDevice(live, h, libxlconf.Host{})
	if err != nil {
		return err
	}
	name := d.ref().Name
	if err := drv.prepareUSB(name, []libxltypes.USBDev{x}); err != nil {
		return err
	}
	if _, err := drv.addDevice(ctx, d, backend.Device{USBDev: &x}); err != nil {
		if drv.hostdevs != nil {
			drv.hostdevs.ReleaseUSB(name, usbOf(x))
		}
		bus, dev := domxml.USBBusDevice(h.SubsysUSB.Source)
		return libxlFailed(err, "libxenlight failed to attach usb device Busnum:%3x, Devnum:%3x", bus, dev)
	}
	return nil
}

// detachHostdevLive is libxlDomainDetachHostDevice.
func (drv *Driver) detachHostdevLive(ctx context.Context, d *domain, h *libvirtxml.DomainHostdev) error {
	typ, n := subsysType(h)
	if typ == "" {
		return libxlErr(libvirt.ErrConfigUnsupported, "hostdev mode '%s' not supported", "capabilities")
	}
	live := d.snap().def.parsed()
	i := domxml.FindHostdev(live, h)
	var x backend.Device
	switch typ {
	case "pci":
		if err := checkPCIDetach(live, h, i); err != nil {
			return err
		}
		p, err := libxlconf.PCIDevice(&live.Devices.Hostdevs[i])
		if err != nil {
			return err
		}
		x.PCI = &p
	case "usb":
		bus, dev := domxml.USBBusDevice(h.SubsysUSB.Source)
		if i < 0 {
			return libxlErr(libvirt.ErrOperationFailed, "host USB device Busnum: %3x, Devnum: %3x not found", bus, dev)
		}
		u, err := libxlconf.USBDevice(live, &live.Devices.Hostdevs[i], libxlconf.Host{})
		if err != nil {
			return err
		}
		x.USBDev = &libxltypes.USBDev{Ctrl: -1, HostDev: u.HostDev}
	default:
		return libxlErr(libvirt.ErrInternalError, "unexpected hostdev type %d", n)
	}
	gone := live.Devices.Hostdevs[i]
	alias := aliasOf(gone.Alias)
	if err := drv.removeDevice(ctx, d, x, alias); err != nil {
		return hostdevDetachError(h, typ, err)
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if j := domxml.FindHostdev(def, &gone); j >= 0 {
			def.Devices.Hostdevs = append(def.Devices.Hostdevs[:j], def.Devices.Hostdevs[j+1:]...)
		}
	})
	switch {
	case x.PCI != nil && drv.hostdevs != nil:
		drv.hostdevs.Release(d.ref().Name, pciDevice(&gone))
	case x.USBDev != nil && drv.hostdevs != nil:
		drv.hostdevs.ReleaseUSB(d.ref().Name, usbOf(*x.USBDev))
	}
	drv.removed(d, alias)
	return nil
}

// checkPCIDetach: the PCI device must be the guest's, and not a function
// of a multifunction device (libxlIsMultiFunctionDevice: another device at
// the same guest slot).
func checkPCIDetach(live *libvirtxml.Domain, h *libvirtxml.DomainHostdev, i int) error {
	addr := domxml.PCIAddress(h)
	if i < 0 {
		return libxlErr(libvirt.ErrOperationFailed, "host pci device %s not found", addr)
	}
	at := live.Devices.Hostdevs[i].Address
	if at == nil || at.PCI == nil {
		return nil
	}
	same := func(o *libvirtxml.DomainAddress) bool {
		v := func(p *uint) uint {
			if p == nil {
				return 0
			}
			return *p
		}
		return o != nil && o.PCI != nil && v(o.PCI.Domain) == v(at.PCI.Domain) && v(o.PCI.Bus) == v(at.PCI.Bus) &&
			v(o.PCI.Slot) == v(at.PCI.Slot) && v(o.PCI.Function) != v(at.PCI.Function)
	}
	for j := range live.Devices.Hostdevs {
		if same(live.Devices.Hostdevs[j].Address) {
			return libxlErr(libvirt.ErrOperationFailed, "cannot hot unplug multifunction PCI device: %s", addr)
		}
	}
	for j := range live.Devices.Interfaces {
		if same(live.Devices.Interfaces[j].Address) {
			return libxlErr(libvirt.ErrOperationFailed, "cannot hot unplug multifunction PCI device: %s", addr)
		}
	}
	return nil
}

// hostdevDetachError is libvirt's error when libxl failed to unplug h.
func hostdevDetachError(h *libvirtxml.DomainHostdev, typ string, err error) error {
	if typ == "pci" {
		return libxlFailed(err, "libxenlight failed to detach pci device %s", domxml.PCIAddress(h))
	}
	bus, dev := domxml.USBBusDevice(h.SubsysUSB.Source)
	if errors.Is(err, backend.ErrNoDevice) {
		return libxlErr(libvirt.ErrOperationFailed, "host USB device Busnum: %3x, Devnum: %3x not found", bus, dev)
	}
	return libxlFailed(err, "libxenlight failed to detach USB device Busnum: %3x, Devnum: %3x", bus, dev)
}
