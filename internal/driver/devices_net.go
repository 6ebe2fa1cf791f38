package driver

import (
	"context"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxltypes"
)

// Network interfaces: plugged and unplugged with libxl_device_nic_add and
// _remove (a PCI device of a hostdev network with _pci_add and _remove),
// an interface on a libvirt network with a port of its own, as at start.
// The live definition names the interface's backend vifDOMID.DEVID, with
// the devid libxl chose, as the start names the others (nameInterfaces).

// attachNetLive is libxlDomainAttachNetDevice.
func (drv *Driver) attachNetLive(ctx context.Context, d *domain, ifc *libvirtxml.DomainInterface) (string, error) {
	s := d.snap()
	var port *libvirtxml.NetworkPort
	actual := *ifc
	if ifc.Source.Network != nil {
		p, err := drv.allocateNetPort(ctx, s.def.parsed(), ifc)
		if err != nil {
			return "", err
		}
		src := *ifc.Source.Network
		src.PortID = p.UUID
		ifc.Source = &libvirtxml.DomainInterfaceSource{Network: &src}
		port, actual = p, domxml.ActualInterface(*ifc, p)
	} else if err := validateActual(actual); err != nil {
		return "", err
	}
	err := drv.plugNet(ctx, d, s.def.parsed(), ifc, &actual, port)
	if err != nil {
		if port != nil {
			drv.releaseIfcPort(ifc)
		}
		return "", err
	}
	var alias string
	drv.editLive(d, func(def *libvirtxml.Domain) {
		added := *ifc
		domxml.AssignInterfaceAlias(def, &added)
		alias = added.Alias.Name
		devicesOf(def).Interfaces = append(def.Devices.Interfaces, added)
	})
	if port != nil {
		drv.setNetPort(d, port.UUID, port)
	}
	return alias, nil
}

// plugNet checks ifc against the live definition and plugs it (actual is
// ifc as its port made it); ifc gets its backend's name.
func (drv *Driver) plugNet(ctx context.Context, d *domain, live *libvirtxml.Domain, ifc, actual *libvirtxml.DomainInterface, port *libvirtxml.NetworkPort) error {
	if domxml.HasNet(live, ifc) {
		return errMACExists(ifc)
	}
	if actual.Source.Hostdev != nil {
		return drv.plugNetPCI(ctx, d, actual)
	}
	bridges := map[string]string{}
	if port != nil && port.Plug != nil && port.Plug.Network != nil {
		bridges[ifc.Source.Network.Network] = port.Plug.Network.Bridge
	}
	nic, err := libxlconf.NIC(live, actual, libxlconf.Host{NetworkBridge: networkBridge(bridges)})
	if err != nil {
		return err
	}
	added, err := drv.addDevice(ctx, d, backend.Device{NIC: &nic})
	if err != nil {
		return libxlFailed(err, "libxenlight failed to attach network device")
	}
	if ifc.Target == nil || ifc.Target.Dev == "" {
		ifc.Target = &libvirtxml.DomainInterfaceTarget{Dev: vifName(d.ref().ID, added.NIC)}
	}
	return nil
}

// plugNetPCI plugs an interface whose actual device is a PCI device, as
// libvirt attaches such a "smart hostdev" as a host device.
func (drv *Driver) plugNetPCI(ctx context.Context, d *domain, actual *libvirtxml.DomainInterface) error {
	h := &libvirtxml.DomainHostdev{SubsysPCI: &libvirtxml.DomainHostdevSubsysPCI{Source: actual.Source.Hostdev.PCI}}
	p, err := libxlconf.PCIDevice(h)
	if err != nil {
		return err
	}
	if _, err := drv.addDevice(ctx, d, backend.Device{PCI: &p}); err != nil {
		return libxlFailed(err, "libxenlight failed to attach pci device %s", domxml.PCIAddress(h))
	}
	return nil
}

// detachNetLive is libxlDomainDetachNetDevice: the interface is found as
// virDomainNetFindIdx finds it, unplugged, and its port deleted.
func (drv *Driver) detachNetLive(ctx context.Context, d *domain, ifc *libvirtxml.DomainInterface, macGenerated bool) error {
	s := d.snap()
	live := s.def.parsed()
	i, err := domxml.FindNet(live, ifc, macGenerated)
	if err != nil {
		return err
	}
	gone := live.Devices.Interfaces[i]
	actual := gone
	port := s.netPorts.PortOf(&gone)
	if port != nil {
		actual = domxml.ActualInterface(gone, port)
	}
	alias := aliasOf(gone.Alias)
	if actual.Source != nil && actual.Source.Hostdev != nil {
		h := &libvirtxml.DomainHostdev{SubsysPCI: &libvirtxml.DomainHostdevSubsysPCI{Source: actual.Source.Hostdev.PCI}}
		p, perr := libxlconf.PCIDevice(h)
		if perr != nil {
			return perr
		}
		if err := drv.removeDevice(ctx, d, backend.Device{PCI: &p}, alias); err != nil {
			return libxlFailed(err, "libxenlight failed to detach pci device %s", domxml.PCIAddress(h))
		}
	} else if err := drv.removeDevice(ctx, d, backend.Device{NIC: &libxltypes.NIC{MAC: gone.MAC.Address}}, alias); err != nil {
		return libxlFailed(err, "libxenlight failed to detach network device")
	}
	if port != nil {
		drv.releaseIfcPort(&gone)
		drv.setNetPort(d, port.UUID, nil)
	}
	mac := gone.MAC
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if j, err := domxml.FindNet(def, &libvirtxml.DomainInterface{MAC: mac}, false); err == nil {
			def.Devices.Interfaces = append(def.Devices.Interfaces[:j], def.Devices.Interfaces[j+1:]...)
		}
	})
	drv.removed(d, alias)
	return nil
}

// setNetPort gives d a new copy of its network ports with id set to port,
// or without id when port is nil (the map is replaced, never changed).
func (drv *Driver) setNetPort(d *domain, id string, port *libvirtxml.NetworkPort) {
	d.mu.Lock()
	defer d.mu.Unlock()
	ports := domxml.Ports{}
	for k, v := range d.netPorts {
		ports[k] = v
	}
	if port != nil {
		ports[id] = port
	} else {
		delete(ports, id)
	}
	if len(ports) == 0 {
		ports = nil
	}
	d.netPorts = ports
}

// releaseIfcPort deletes the network port of ifc, an interface on a
// network (virDomainNetReleaseActualDevice); a failure is logged.
func (drv *Driver) releaseIfcPort(ifc *libvirtxml.DomainInterface) {
	ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
	defer cancel()
	if err := drv.releaseNetPort(ctx, ifc.Source.Network); err != nil {
		drv.log.Warn("Unable to release network device", "network", ifc.Source.Network.Network,
			"port", ifc.Source.Network.PortID, "err", err)
	}
}
