package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
)

// InterfaceAddrs is one interface's addresses (virDomainInterface).
type InterfaceAddrs struct {
	Name   string
	HWAddr string
	Addrs  []IPAddr
}

// IPAddr is virDomainIPAddress: its type is VIR_IP_ADDR_TYPE_IPV4 (0) or
// _IPV6 (1).
type IPAddr struct {
	Type   int32
	Addr   string
	Prefix uint32
}

// InterfaceAddresses is virDomainInterfaceAddresses (libxlDomainInterfaceAddresses;
// no flags). libvirt's libxl driver knows one source, the DHCP leases of
// libvirt's networks (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_LEASE): for each
// interface on a network, the leases the network's DHCP server gave its
// MAC address, through the network driver; an interface with none is left
// out. The guest agent and the ARP table are refused.
func (drv *Driver) InterfaceAddresses(ctx context.Context, dom Domain, source uint32, flags uint32) ([]InterfaceAddrs, error) {
	if err := checkFlags(flags, 0, "libxlDomainInterfaceAddresses"); err != nil {
		return nil, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, err
	}
	s := d.snap()
	if !s.active() {
		return nil, errNotRunning()
	}
	if source != uint32(libvirt.DomainInterfaceAddressesSrcLease) {
		return nil, libxlErr(libvirt.ErrArgumentUnsupported, "Unsupported IP address data source %d", int32(source))
	}
	return drv.dhcpInterfaces(ctx, s)
}

// dhcpInterfaces is libxlGetDHCPInterfaces.
func (drv *Driver) dhcpInterfaces(ctx context.Context, s snapshot) ([]InterfaceAddrs, error) {
	nd, err := drv.networks()
	if err != nil {
		return nil, err
	}
	if err := nd.NetworkConnect(ctx); err != nil {
		return nil, err
	}
	var out []InterfaceAddrs
	def := s.def.parsed()
	if def.Devices == nil {
		return nil, nil
	}
	for _, ifc := range def.Devices.Interfaces {
		if ifc.Source == nil || ifc.Source.Network == nil {
			continue
		}
		mac := ""
		if ifc.MAC != nil {
			if m, ok := domxml.ParseMAC(ifc.MAC.Address); ok {
				mac = m
			}
		}
		net, err := nd.NetworkLookupByName(ctx, ifc.Source.Network.Network)
		if err != nil {
			return nil, err
		}
		leases, err := nd.NetworkGetDHCPLeases(ctx, net, mac, 0)
		if err != nil {
			return nil, err
		}
		if len(leases) == 0 {
			continue
		}
		a := InterfaceAddrs{HWAddr: mac}
		if ifc.Target != nil {
			a.Name = ifc.Target.Dev
		}
		for _, l := range leases {
			a.Addrs = append(a.Addrs, IPAddr{Type: l.Type, Addr: l.Ipaddr, Prefix: l.Prefix})
		}
		out = append(out, a)
	}
	return out, nil
}
