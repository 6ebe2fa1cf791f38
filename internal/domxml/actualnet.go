package domxml

import (
	"encoding/xml"

	"libvirt.org/go/libvirtxml"
)

// Ports are the network ports libvirt's network driver created for a
// running domain's <interface type='network'> devices, by port id (the
// interface's <source portid>). Each port is what libvirt keeps as the
// interface's actual device (virDomainActualNetDef, which
// virDomainNetDefActualFromNetworkPort makes from the port).
type Ports map[string]*libvirtxml.NetworkPort

// PortOf is the port of ifc in ports, or nil when ifc is not on a network
// or has no port there.
func (p Ports) PortOf(ifc *libvirtxml.DomainInterface) *libvirtxml.NetworkPort {
	if ifc.Source == nil || ifc.Source.Network == nil || ifc.Source.Network.PortID == "" {
		return nil
	}
	return p[ifc.Source.Network.PortID]
}

// ActualInterface is ifc as libvirt's virDomainNetGetActual* accessors see
// it once the network driver gave it port: the port's plug as the
// interface's type and source (a network's bridge, a host bridge, a
// macvtap device or a PCI device), and the port's VLAN, virtual port,
// bandwidth and isolation in place of the interface's own. ifc itself is
// not changed; the result shares no source with it.
func ActualInterface(ifc libvirtxml.DomainInterface, port *libvirtxml.NetworkPort) libvirtxml.DomainInterface {
	out := ifc
	src := &libvirtxml.DomainInterfaceSource{}
	vport := portVirtualPort(port.VirtualPort)
	switch plug := port.Plug; {
	case plug == nil:
		src.Network = &libvirtxml.DomainInterfaceSourceNetwork{}
		if ifc.Source != nil && ifc.Source.Network != nil {
			*src.Network = *ifc.Source.Network
		}
	case plug.Network != nil:
		// The network's own bridge: no virtual port is used
		// (virDomainNetGetActualVirtPortProfile gives none).
		src.Network = &libvirtxml.DomainInterfaceSourceNetwork{Bridge: plug.Network.Bridge}
		if ifc.Source != nil && ifc.Source.Network != nil {
			src.Network.Network = ifc.Source.Network.Network
			src.Network.PortGroup = ifc.Source.Network.PortGroup
			src.Network.PortID = ifc.Source.Network.PortID
		}
		vport = nil
	case plug.Bridge != nil:
		src.Bridge = &libvirtxml.DomainInterfaceSourceBridge{Bridge: plug.Bridge.Bridge}
	case plug.Direct != nil:
		src.Direct = &libvirtxml.DomainInterfaceSourceDirect{Dev: plug.Direct.Dev, Mode: plug.Direct.Mode}
	case plug.HostDevPCI != nil:
		src.Hostdev = &libvirtxml.DomainInterfaceSourceHostdev{PCI: hostdevPCI(plug.HostDevPCI)}
		if plug.HostDevPCI.Managed == "yes" {
			out.Managed = "yes"
		}
	}
	out.Source = src
	out.VirtualPort = vport
	out.VLan = nil
	if port.VLAN != nil && len(port.VLAN.Tags) > 0 {
		out.VLan = &libvirtxml.DomainInterfaceVLan{Trunk: port.VLAN.Trunk}
		for _, t := range port.VLAN.Tags {
			out.VLan.Tags = append(out.VLan.Tags, libvirtxml.DomainInterfaceVLanTag{ID: t.ID, NativeMode: t.NativeMode})
		}
	}
	out.Bandwidth = portBandwidth(port.Bandwidth)
	out.PortOptions = nil
	if port.PortOptions != nil && port.PortOptions.Isolated != "" {
		out.PortOptions = &libvirtxml.DomainInterfacePortOptions{Isolated: port.PortOptions.Isolated}
	}
	return out
}

// macTableManager is the port's bridge's MAC table manager, which libvirt
// shows on the live interface's <source>.
func macTableManager(port *libvirtxml.NetworkPort) string {
	switch p := port.Plug; {
	case p == nil:
	case p.Network != nil:
		return p.Network.MacTableManager
	case p.Bridge != nil:
		return p.Bridge.MacTableManager
	}
	return ""
}

func hostdevPCI(p *libvirtxml.NetworkPortPlugHostDevPCI) *libvirtxml.DomainHostdevSubsysPCISource {
	src := &libvirtxml.DomainHostdevSubsysPCISource{}
	if a := p.Address; a != nil {
		src.Address = &libvirtxml.DomainAddressPCI{Domain: a.Domain, Bus: a.Bus, Slot: a.Slot, Function: a.Function}
	}
	return src
}

// portVirtualPort and portBandwidth convert the port's elements, which
// have the same XML as the domain's, through that XML.
func portVirtualPort(v *libvirtxml.NetworkVirtualPort) *libvirtxml.DomainInterfaceVirtualPort {
	if v == nil {
		return nil
	}
	out := &libvirtxml.DomainInterfaceVirtualPort{}
	if !convertXML(v, out) {
		return nil
	}
	return out
}

func portBandwidth(b *libvirtxml.NetworkBandwidth) *libvirtxml.DomainInterfaceBandwidth {
	if b == nil || (b.Inbound == nil && b.Outbound == nil) {
		return nil
	}
	out := &libvirtxml.DomainInterfaceBandwidth{}
	if !convertXML(b, out) {
		return nil
	}
	return out
}

func convertXML(from, to any) bool {
	b, err := xml.Marshal(from)
	return err == nil && xml.Unmarshal(b, to) == nil
}

// actualSourceAttrs are what libvirt adds to the live <source> of an
// interface with an actual device besides the device itself
// (virDomainActualNetDefContentsFormat): the network, port group and port
// id, and the bridge's MAC table manager. A PCI device shows none.
func actualSourceAttrs(ifc *libvirtxml.DomainInterface, port *libvirtxml.NetworkPort) []attr {
	if port.Plug != nil && port.Plug.HostDevPCI != nil {
		return nil
	}
	n := ifc.Source.Network
	var out []attr
	add := func(name, v string) {
		if v != "" {
			out = append(out, attr{name, v})
		}
	}
	if port.Plug == nil || port.Plug.Network == nil {
		// A network-type source already carries these.
		add("network", n.Network)
		add("portgroup", n.PortGroup)
		add("portid", n.PortID)
	}
	add("macTableManager", macTableManager(port))
	return out
}

// applyActual replaces, for the live view, every interface that has a port
// with its actual form (virDomainNetDefFormat's publicActual) and returns
// the <source> attributes libvirtxml cannot carry, by interface index.
func applyActual(c *libvirtxml.Domain, ports Ports) map[int][]attr {
	if c.Devices == nil || len(ports) == 0 {
		return nil
	}
	extra := map[int][]attr{}
	for i := range c.Devices.Interfaces {
		ifc := &c.Devices.Interfaces[i]
		port := ports.PortOf(ifc)
		if port == nil {
			continue
		}
		if a := actualSourceAttrs(ifc, port); len(a) > 0 {
			extra[i] = a
		}
		*ifc = ActualInterface(*ifc, port)
	}
	return extra
}

// addSourceAttrs adds extra's attributes to the <source> of the
// interfaces, in document order, of root's <devices>.
func addSourceAttrs(root *node, extra map[int][]attr) {
	devs := root.child("devices")
	if devs == nil || len(extra) == 0 {
		return
	}
	i := 0
	for _, k := range devs.elems() {
		if k.name != "interface" {
			continue
		}
		if a := extra[i]; a != nil {
			if src := k.child("source"); src != nil {
				src.attrs = append(src.attrs, a...)
			}
		}
		i++
	}
}

// NetworkPortOf is the port libvirt asks the network driver for on behalf
// of ifc, an interface of def on a network (virDomainNetDefToNetworkPort):
// its owner, port group and MAC address, and the virtual port, bandwidth,
// VLAN and isolation the interface asks for, which the network completes.
func NetworkPortOf(def *libvirtxml.Domain, ifc *libvirtxml.DomainInterface, uuid string) *libvirtxml.NetworkPort {
	p := &libvirtxml.NetworkPort{
		UUID:  uuid,
		Owner: &libvirtxml.NetworkPortOwner{Name: def.Name, UUID: def.UUID},
	}
	if ifc.Source != nil && ifc.Source.Network != nil {
		p.Group = ifc.Source.Network.PortGroup
	}
	if ifc.MAC != nil {
		p.MAC = &libvirtxml.NetworkPortMAC{Address: ifc.MAC.Address}
	}
	if ifc.VirtualPort != nil {
		v := &libvirtxml.NetworkVirtualPort{}
		if convertXML(ifc.VirtualPort, v) {
			p.VirtualPort = v
		}
	}
	if ifc.Bandwidth != nil {
		b := &libvirtxml.NetworkBandwidth{}
		if convertXML(ifc.Bandwidth, b) {
			p.Bandwidth = b
		}
	}
	if ifc.VLan != nil && len(ifc.VLan.Tags) > 0 {
		p.VLAN = &libvirtxml.NetworkPortVLAN{Trunk: ifc.VLan.Trunk}
		for _, t := range ifc.VLan.Tags {
			p.VLAN.Tags = append(p.VLAN.Tags, libvirtxml.NetworkPortVLANTag{ID: t.ID, NativeMode: t.NativeMode})
		}
	}
	if ifc.PortOptions != nil && ifc.PortOptions.Isolated != "" {
		p.PortOptions = &libvirtxml.NetworkPortPortOptions{Isolated: ifc.PortOptions.Isolated}
	}
	if ifc.TrustGuestRXFilters != "" {
		p.RXFilters = &libvirtxml.NetworkPortRXFilters{TrustGuest: ifc.TrustGuestRXFilters}
	}
	return p
}
