package domxml

import (
	"encoding/xml"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// rawPort is what ParseNetworkPort checks that libvirtxml does not keep:
// which attributes are there at all, and the plug's type as written.
type rawPort struct {
	XMLName   xml.Name `xml:"networkport"`
	UUID      string   `xml:"uuid"`
	OwnerName string   `xml:"owner>name"`
	OwnerUUID string   `xml:"owner>uuid"`
	MAC       *struct {
		Address string `xml:"address,attr"`
	} `xml:"mac"`
	Plug *struct {
		Type            string  `xml:"type,attr"`
		Bridge          *string `xml:"bridge,attr"`
		MacTableManager *string `xml:"macTableManager,attr"`
		Dev             *string `xml:"dev,attr"`
		Mode            *string `xml:"mode,attr"`
		Managed         *string `xml:"managed,attr"`
		Driver          *struct {
			Name string `xml:"name,attr"`
		} `xml:"driver"`
		Address *struct{} `xml:"address"`
	} `xml:"plug"`
}

// ParseNetworkPort reads a network port as libvirt's domain drivers read
// the one the network driver gives them (virNetworkPortDefParseXML): its
// uuid, owner and MAC address must be there and well formed, and its plug
// must be one libvirt knows, with what that kind needs (a bridge's name, a
// macvtap's device, a PCI device's address). A plug of type 'none' is no
// plug. The checks are libvirt's, with its errors; the port's virtual
// port, bandwidth and VLAN are taken as libvirtxml reads them, and a plug
// without a type is refused (libvirtxml cannot read it; libvirt takes it
// as none, which its network driver never writes).
func ParseNetworkPort(doc string) (*libvirtxml.NetworkPort, error) {
	var raw rawPort
	if err := xml.Unmarshal([]byte(doc), &raw); err != nil {
		return nil, portErr(libvirt.ErrXMLError, "cannot parse network port: %v", err)
	}
	if err := checkPort(&raw); err != nil {
		return nil, err
	}
	p := &libvirtxml.NetworkPort{}
	if err := p.Unmarshal(doc); err != nil {
		return nil, portErr(libvirt.ErrXMLError, "cannot parse network port: %v", err)
	}
	if p.Plug != nil && raw.Plug.Type == "none" {
		p.Plug = nil
	}
	return p, nil
}

func portErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromNetwork, code, format, args...)
}

func checkPort(p *rawPort) error {
	internal := libvirt.ErrInternalError
	switch {
	case p.UUID == "":
		return portErr(internal, "network port has no uuid")
	case !validUUID(p.UUID):
		return portErr(internal, "Unable to parse UUID '%s'", p.UUID)
	case p.OwnerName == "":
		return portErr(internal, "network port has no owner name")
	case p.OwnerUUID == "":
		return portErr(internal, "network port has no owner UUID")
	case !validUUID(p.OwnerUUID):
		return portErr(internal, "Unable to parse UUID '%s'", p.OwnerUUID)
	case p.MAC == nil || p.MAC.Address == "":
		return portErr(internal, "network port has no mac")
	}
	if _, ok := ParseMAC(p.MAC.Address); !ok {
		return portErr(internal, "Unable to parse MAC '%s'", p.MAC.Address)
	}
	return checkPlug(p)
}

func validUUID(s string) bool {
	_, ok := parseUUID(s)
	return ok
}

func checkPlug(p *rawPort) error {
	bad := libvirt.ErrXMLError
	plug := p.Plug
	if plug == nil {
		return nil
	}
	switch plug.Type {
	case "none":
	case "network", "bridge":
		if plug.Bridge == nil {
			return portErr(bad, "Missing network port bridge name")
		}
		if m := plug.MacTableManager; m != nil && *m != "kernel" && *m != "libvirt" {
			return portErr(bad, "Invalid macTableManager setting '%s' in network port", *m)
		}
	case "direct":
		if plug.Dev == nil {
			return portErr(bad, "Missing network port link device name")
		}
		if m := plug.Mode; m != nil && *m != "vepa" && *m != "private" && *m != "bridge" && *m != "passthrough" {
			return portErr(bad, "Invalid mode setting '%s' in network port", *m)
		}
	case "hostdev-pci":
		if m := plug.Managed; m != nil && *m != "yes" && *m != "no" {
			return portErr(bad, "Invalid value for attribute '%s' in element '%s': '%s'.", "managed", "plug", *m)
		}
		if d := plug.Driver; d != nil && d.Name != "" && d.Name != "kvm" && d.Name != "vfio" {
			return portErr(bad, "Missing network port driver name")
		}
		if plug.Address == nil {
			return portErr(bad, "Missing network port PCI address")
		}
	default:
		return portErr(bad, "Invalid value for attribute '%s' in element '%s': '%s'.", "type", "plug", plug.Type)
	}
	return nil
}
