package driver

import (
	"context"
	"crypto/rand"
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// An <interface type='network'> is plugged where libvirt's network driver
// says, as libvirt 9.0 and later do it: at start the driver creates a port
// on the network for the interface (virNetworkPortCreateXML), whose plug
// is the actual device (the network's bridge, a host bridge, a macvtap
// device or a PCI device); the port's id goes into the live definition and
// the port itself is kept with the running domain (and in its status
// file). The port is deleted when the guest stops, and created again
// after a daemon restart if the network driver lost it.

// portCreateReclaim is VIR_NETWORK_PORT_CREATE_RECLAIM.
const portCreateReclaim = 1 << 0

// allocateNetPorts is libxlNetworkPrepareDevices: every interface of def
// on a network gets its port (virDomainNetAllocateActualDevice), and the
// port id goes into the interface's source; def must be the domain's own
// live copy. On failure the ports made so far are deleted again.
func (drv *Driver) allocateNetPorts(ctx context.Context, def *libvirtxml.Domain) (domxml.Ports, error) {
	ports := domxml.Ports{}
	if def.Devices == nil {
		return ports, nil
	}
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if ifc.Source == nil || ifc.Source.Network == nil {
			continue
		}
		port, err := drv.allocateNetPort(ctx, def, ifc)
		if err != nil {
			drv.releaseNetPorts(def, ports)
			return nil, err
		}
		ifc.Source.Network.PortID = port.UUID
		ports[port.UUID] = port
	}
	return ports, nil
}

// allocateNetPort is virDomainNetCreatePort without RECLAIM, followed by
// virDomainActualNetDefValidate.
func (drv *Driver) allocateNetPort(ctx context.Context, def *libvirtxml.Domain, ifc *libvirtxml.DomainInterface) (*libvirtxml.NetworkPort, error) {
	want := domxml.NetworkPortOf(def, ifc, newUUID().String())
	port, handle, err := drv.createNetPort(ctx, ifc.Source.Network.Network, want, 0)
	if err != nil {
		return nil, err
	}
	if err := validateActual(domxml.ActualInterface(*ifc, port)); err != nil {
		drv.deleteNetPort(ctx, handle)
		return nil, err
	}
	return port, nil
}

// createNetPort creates want on network and returns the port as the
// network driver filled it in, and its handle.
func (drv *Driver) createNetPort(ctx context.Context, network string, want *libvirtxml.NetworkPort, flags uint32) (*libvirtxml.NetworkPort, libvirt.NetworkPort, error) {
	nd, err := drv.networks()
	if err != nil {
		return nil, libvirt.NetworkPort{}, err
	}
	net, err := nd.NetworkLookupByName(ctx, network)
	if err != nil {
		return nil, libvirt.NetworkPort{}, err
	}
	xml, err := want.Marshal()
	if err != nil {
		return nil, libvirt.NetworkPort{}, libxlErr(libvirt.ErrInternalError, "cannot format network port: %v", err)
	}
	handle, err := nd.NetworkPortCreateXML(ctx, net, xml, flags)
	if err != nil {
		return nil, handle, err
	}
	desc, err := nd.NetworkPortGetXMLDesc(ctx, handle, 0)
	var port *libvirtxml.NetworkPort
	if err == nil {
		port, err = domxml.ParseNetworkPort(desc)
	}
	if err != nil {
		drv.deleteNetPort(ctx, handle)
		return nil, handle, err
	}
	port.UUID = backend.UUID(handle.UUID).String()
	return port, handle, nil
}

func (drv *Driver) deleteNetPort(ctx context.Context, handle libvirt.NetworkPort) {
	if nd, err := drv.networks(); err == nil {
		if err := nd.NetworkPortDelete(ctx, handle, 0); err != nil {
			drv.log.Warn("cannot delete network port", "network", handle.Net.Name, "err", err)
		}
	}
}

// releaseNetPorts is libxlNetworkUnwindDevices: the ports of def's
// interfaces are deleted (virDomainNetReleaseActualDevice); what fails is
// logged, as nobody waits for it.
func (drv *Driver) releaseNetPorts(def *libvirtxml.Domain, ports domxml.Ports) {
	if def == nil || def.Devices == nil || len(ports) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
	defer cancel()
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if ports.PortOf(ifc) == nil {
			continue
		}
		if err := drv.releaseNetPort(ctx, ifc.Source.Network); err != nil {
			drv.log.Warn("Unable to release network device", "domain", def.Name,
				"network", ifc.Source.Network.Network, "port", ifc.Source.Network.PortID, "err", err)
		}
	}
}

func (drv *Driver) releaseNetPort(ctx context.Context, src *libvirtxml.DomainInterfaceSourceNetwork) error {
	nd, port, err := drv.lookupNetPort(ctx, src)
	if err != nil {
		return err
	}
	return nd.NetworkPortDelete(ctx, port, 0)
}

// lookupNetPort is the network driver and the port of an interface on a
// network (virNetworkLookupByName, virNetworkPortLookupByUUID).
func (drv *Driver) lookupNetPort(ctx context.Context, src *libvirtxml.DomainInterfaceSourceNetwork) (NetworkDriver, libvirt.NetworkPort, error) {
	nd, err := drv.networks()
	if err != nil {
		return nil, libvirt.NetworkPort{}, err
	}
	uuid, err := backend.ParseUUID(src.PortID)
	if err != nil {
		return nil, libvirt.NetworkPort{}, err
	}
	net, err := nd.NetworkLookupByName(ctx, src.Network)
	if err != nil {
		return nil, libvirt.NetworkPort{}, err
	}
	port, err := nd.NetworkPortLookupByUUID(ctx, net, libvirt.UUID(uuid))
	return nd, port, err
}

// reclaimNetPorts is libxlReconnectNotifyNets for a guest found running
// after a restart (virDomainNetNotifyActualDevice): a port the network
// driver still has is kept; one it lost (libvirtd's state went) is created
// again from the one kept with the domain (VIR_NETWORK_PORT_CREATE_RECLAIM).
// A port the status file does not have (one libvirt's own Xen daemon made
// for a guest it left to this one: its status file has the port as the
// interface's <actual>) is read from the network driver, which made it.
// It returns the ports as they now are; failures are logged, and the
// guest keeps running, as in libvirt.
func (drv *Driver) reclaimNetPorts(def *libvirtxml.Domain, ports domxml.Ports) domxml.Ports {
	if def == nil || def.Devices == nil || !slices.ContainsFunc(def.Devices.Interfaces, onNetworkPort) {
		return ports
	}
	ctx, cancel := context.WithTimeout(context.Background(), releaseWait)
	defer cancel()
	out := domxml.Ports{}
	for id, p := range ports {
		out[id] = p
	}
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if !onNetworkPort(*ifc) {
			continue
		}
		src := ifc.Source.Network
		var port *libvirtxml.NetworkPort
		var err error
		if kept := ports.PortOf(ifc); kept != nil {
			port, err = drv.reclaimNetPort(ctx, src.Network, kept)
		} else {
			port, err = drv.readNetPort(ctx, src)
		}
		if err != nil {
			drv.log.Warn("cannot reclaim network port", "domain", def.Name,
				"network", src.Network, "port", src.PortID, "err", err)
			continue
		}
		out[port.UUID] = port
	}
	return out
}

// onNetworkPort reports an interface on a port of a network.
func onNetworkPort(ifc libvirtxml.DomainInterface) bool {
	return ifc.Source != nil && ifc.Source.Network != nil && ifc.Source.Network.PortID != ""
}

// readNetPort is the network driver's description of an interface's port.
func (drv *Driver) readNetPort(ctx context.Context, src *libvirtxml.DomainInterfaceSourceNetwork) (*libvirtxml.NetworkPort, error) {
	nd, handle, err := drv.lookupNetPort(ctx, src)
	if err != nil {
		return nil, err
	}
	desc, err := nd.NetworkPortGetXMLDesc(ctx, handle, 0)
	if err != nil {
		return nil, err
	}
	return domxml.ParseNetworkPort(desc)
}

func (drv *Driver) reclaimNetPort(ctx context.Context, network string, kept *libvirtxml.NetworkPort) (*libvirtxml.NetworkPort, error) {
	nd, err := drv.networks()
	if err != nil {
		return nil, err
	}
	uuid, err := backend.ParseUUID(kept.UUID)
	if err != nil {
		return nil, err
	}
	net, err := nd.NetworkLookupByName(ctx, network)
	if err != nil {
		return nil, err
	}
	if _, err := nd.NetworkPortLookupByUUID(ctx, net, libvirt.UUID(uuid)); err == nil {
		return kept, nil
	}
	port, _, err := drv.createNetPort(ctx, network, kept, portCreateReclaim)
	return port, err
}

// validateActual is virDomainActualNetDefValidate's checks that concern
// what a network can give: a VLAN only where it can be set (a PCI device,
// a host bridge without a virtual port or with Open vSwitch), no bandwidth
// for a PCI device.
func validateActual(ifc libvirtxml.DomainInterface) error {
	mac := ""
	if ifc.MAC != nil {
		mac = ifc.MAC.Address
	}
	src := ifc.Source
	ovs := ifc.VirtualPort != nil && ifc.VirtualPort.Params != nil && ifc.VirtualPort.Params.OpenVSwitch != nil
	if ifc.VLan != nil && len(ifc.VLan.Tags) > 0 {
		ok := src.Hostdev != nil ||
			(src.Direct != nil && src.Direct.Mode == "passthrough") ||
			(src.Bridge != nil && (ifc.VirtualPort == nil || ovs))
		if !ok {
			return virerr.New(virerr.FromDomain, libvirt.ErrConfigUnsupported,
				"interface %s - vlan tag not supported for this connection type", mac)
		}
	}
	if ifc.Bandwidth != nil && src.Hostdev != nil {
		return virerr.New(virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"interface %s - bandwidth settings are not supported for hostdev interfaces", mac)
	}
	return nil
}

// newUUID is a random (version 4) UUID, as virUUIDGenerate makes.
func newUUID() backend.UUID {
	var u backend.UUID
	rand.Read(u[:])
	u[6], u[8] = u[6]&0x0f|0x40, u[8]&0x3f|0x80
	return u
}

// samePorts reports whether a and b are the same ports (maps are replaced,
// never changed, so their entries tell).
func samePorts(a, b domxml.Ports) bool {
	if len(a) != len(b) {
		return false
	}
	for id, p := range a {
		if b[id] != p {
			return false
		}
	}
	return true
}
