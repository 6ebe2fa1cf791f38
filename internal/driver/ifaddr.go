package driver

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/arptable"
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
// out. The ARP table (VIR_DOMAIN_INTERFACE_ADDRESSES_SRC_ARP), which it
// refuses, is read as libvirt's LXC and Cloud Hypervisor drivers read it:
// what finds a guest's addresses on a bridge (xenbr0), where there is no
// libvirt network and no agent. The guest agent is refused.
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
	switch source {
	case uint32(libvirt.DomainInterfaceAddressesSrcLease):
		return drv.dhcpInterfaces(ctx, s)
	case uint32(libvirt.DomainInterfaceAddressesSrcArp):
		return arpInterfaces(s.def.parsed())
	}
	return nil, libxlErr(libvirt.ErrArgumentUnsupported, "Unsupported IP address data source %d", int32(source))
}

// arpInterfaces is virDomainNetARPInterfaces: for each of the guest's
// interfaces, one answer for each address the host's neighbour table has
// at its MAC address, without a prefix.
func arpInterfaces(def *libvirtxml.Domain) ([]InterfaceAddrs, error) {
	if def.Devices == nil {
		return nil, nil
	}
	table, err := arptable.Get()
	if err != nil {
		return nil, errSystem(err, "error dumping neighbor table")
	}
	var out []InterfaceAddrs
	for _, ifc := range def.Devices.Interfaces {
		if ifc.MAC == nil {
			continue
		}
		mac := strings.ToLower(ifc.MAC.Address)
		for _, e := range table {
			if e.MAC != mac {
				continue
			}
			a := InterfaceAddrs{HWAddr: mac, Addrs: []IPAddr{{Type: int32(libvirt.IPAddrTypeIpv4), Addr: e.IP}}}
			if ifc.Target != nil {
				a.Name = ifc.Target.Dev
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// dhcpInterfaces is libxlGetDHCPInterfaces.
func (drv *Driver) dhcpInterfaces(ctx context.Context, s snapshot) ([]InterfaceAddrs, error) {
	var out []InterfaceAddrs
	err := drv.eachLeased(ctx, s, func(ifc *libvirtxml.DomainInterface, mac string, leases []libvirt.NetworkDhcpLease) bool {
		if len(leases) == 0 {
			return true
		}
		a := InterfaceAddrs{HWAddr: mac}
		if ifc.Target != nil {
			a.Name = ifc.Target.Dev
		}
		for _, l := range leases {
			a.Addrs = append(a.Addrs, IPAddr{Type: l.Type, Addr: l.Ipaddr, Prefix: l.Prefix})
		}
		out = append(out, a)
		return true
	})
	return out, err
}

// eachLeased hands fn, for each of the running guest's interfaces on a
// libvirt network in turn, the DHCP leases the network's server gave its
// MAC address, as the network driver lists them, until fn returns false.
// The network driver is reached only for a guest that has such an
// interface: one without answers without libvirtd.
func (drv *Driver) eachLeased(ctx context.Context, s snapshot, fn func(ifc *libvirtxml.DomainInterface, mac string, leases []libvirt.NetworkDhcpLease) bool) error {
	def := s.def.parsed()
	if def.Devices == nil {
		return nil
	}
	var nd NetworkDriver
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if ifc.Source == nil || ifc.Source.Network == nil {
			continue
		}
		if nd == nil {
			var err error
			if nd, err = drv.connectedNetworks(ctx); err != nil {
				return err
			}
		}
		mac := ""
		if ifc.MAC != nil {
			if m, ok := domxml.ParseMAC(ifc.MAC.Address); ok {
				mac = m
			}
		}
		net, err := nd.NetworkLookupByName(ctx, ifc.Source.Network.Network)
		if err != nil {
			return err
		}
		leases, err := nd.NetworkGetDHCPLeases(ctx, net, mac, 0)
		if err != nil {
			return err
		}
		if !fn(ifc, mac, leases) {
			return nil
		}
	}
	return nil
}

// GetHostname is virDomainGetHostname (flags: VIR_DOMAIN_GET_HOSTNAME_LEASE),
// which libvirt's libxl driver lacks, as libvirt's LXC driver serves it
// (its guests, as Xen's, have no agent to ask): the host name the first of
// the running guest's interfaces on a libvirt network that has one gave
// that network's DHCP server, from its leases.
func (drv *Driver) GetHostname(ctx context.Context, dom Domain, flags uint32) (string, error) {
	if err := checkFlags(flags, uint32(libvirt.DomainGetHostnameLease), "libxlDomainGetHostname"); err != nil {
		return "", err
	}
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return "", err
	}
	defer drv.endJob(d)
	hostname := ""
	err = drv.eachLeased(ctx, s, func(_ *libvirtxml.DomainInterface, _ string, leases []libvirt.NetworkDhcpLease) bool {
		for _, l := range leases {
			if len(l.Hostname) > 0 && l.Hostname[0] != "" {
				hostname = l.Hostname[0]
				break
			}
		}
		return hostname == ""
	})
	if err != nil {
		return "", err
	}
	if hostname == "" {
		return "", domainErr(libvirt.ErrNoHostname, "no hostname found for domain %s", s.ref.Name)
	}
	return hostname, nil
}

// connectedNetworks is the network driver, connected.
func (drv *Driver) connectedNetworks(ctx context.Context) (NetworkDriver, error) {
	nd, err := drv.networks()
	if err != nil {
		return nil, err
	}
	if err := nd.NetworkConnect(ctx); err != nil {
		return nil, err
	}
	return nd, nil
}
