package xlcfg

import (
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// vifTypename is what "type=" must say for a netfront model: "vif" in xl,
// "netfront" in xm.
func (c *conf) vifTypename() string {
	if c.fmt == XM {
		return "netfront"
	}
	return "vif"
}

// splitKV splits a "k=v,k=v" device spec; blanks after commas are skipped.
// ok is false when an item has no '=' (libvirt stops there).
func splitKV(spec string) (kv [][2]string, ok bool) {
	for _, item := range strings.Split(spec, ",") {
		item = strings.TrimLeft(item, " \t")
		if item == "" {
			continue
		}
		k, v, found := strings.Cut(item, "=")
		if !found {
			return kv, false
		}
		kv = append(kv, [2]string{k, v})
	}
	return kv, true
}

func (c *conf) parseVifs(d *libvirtxml.Domain) error {
	for _, spec := range c.listStrings("vif") {
		n, err := c.parseVif(spec)
		if err != nil {
			return err
		}
		d.Devices.Interfaces = append(d.Devices.Interfaces, *n)
	}
	return nil
}

type vifSpec struct{ mac, bridge, script, model, typ, vifname, ip, rate string }

func (c *conf) parseVif(spec string) (*libvirtxml.DomainInterface, error) {
	var s vifSpec
	kv, ok := splitKV(spec)
	if !ok {
		return nil, c.errorf("vif", "malformed vif spec '%s'", spec)
	}
	fields := map[string]*string{"mac": &s.mac, "bridge": &s.bridge, "script": &s.script,
		"model": &s.model, "type": &s.typ, "vifname": &s.vifname, "ip": &s.ip, "rate": &s.rate}
	for _, p := range kv {
		if dst := fields[p[0]]; dst != nil {
			*dst = p[1]
		}
	}
	n := &libvirtxml.DomainInterface{}
	if s.mac != "" {
		mac, ok := domxml.ParseMAC(s.mac)
		if !ok {
			return nil, c.errorf("vif", "malformed mac address '%s'", s.mac)
		}
		n.MAC = &libvirtxml.DomainInterfaceMAC{Address: mac}
	}
	if s.bridge != "" || s.script == "vif-bridge" || s.script == "vif-vnic" {
		n.Source = &libvirtxml.DomainInterfaceSource{Bridge: &libvirtxml.DomainInterfaceSourceBridge{}}
		if s.bridge != "" {
			if err := parseVifBridge(n, s.bridge); err != nil {
				return nil, c.errorf("vif", "malformed bridge '%s'", s.bridge)
			}
		}
	} else {
		n.Source = &libvirtxml.DomainInterfaceSource{Ethernet: &libvirtxml.DomainInterfaceSourceEthernet{}}
	}
	if s.ip != "" {
		for _, a := range strings.Fields(s.ip) {
			ip := net.ParseIP(a)
			if ip == nil {
				return nil, c.errorf("vif", "Invalid IP address '%s'", a)
			}
			fam := "ipv4"
			if ip.To4() == nil {
				fam = "ipv6"
			}
			n.IP = append(n.IP, libvirtxml.DomainInterfaceIP{Address: a, Family: fam})
		}
	}
	if s.script != "" {
		n.Script = &libvirtxml.DomainInterfaceScript{Path: s.script}
	}
	if s.model != "" {
		n.Model = &libvirtxml.DomainInterfaceModel{Type: s.model}
	} else if s.typ != "" && s.typ == c.vifTypename() {
		n.Model = &libvirtxml.DomainInterfaceModel{Type: "netfront"}
	}
	if s.vifname != "" {
		n.Target = &libvirtxml.DomainInterfaceTarget{Dev: s.vifname}
	}
	if s.rate != "" {
		kbps, err := parseVifRate(s.rate)
		if err != nil {
			return nil, c.errorf("vif", "Invalid rate '%s' specified", s.rate)
		}
		avg := int(kbps)
		n.Bandwidth = &libvirtxml.DomainInterfaceBandwidth{Outbound: &libvirtxml.DomainInterfaceBandwidthParams{Average: &avg}}
	}
	return n, nil
}

// parseVifBridge reads BRIDGE[.VLAN] or BRIDGE:TRUNK:TRUNK (openvswitch).
func parseVifBridge(n *libvirtxml.DomainInterface, bridge string) error {
	br := n.Source.Bridge
	if name, tag, ok := strings.Cut(bridge, "."); ok {
		t, err := strconv.ParseUint(tag, 10, 32)
		if err != nil {
			return err
		}
		br.Bridge = name
		n.VLan = &libvirtxml.DomainInterfaceVLan{Tags: []libvirtxml.DomainInterfaceVLanTag{{ID: uint(t)}}}
		n.VirtualPort = ovsPort()
		return nil
	}
	if strings.Contains(bridge, ":") {
		parts := strings.Split(bridge, ":")
		br.Bridge = parts[0]
		n.VLan = &libvirtxml.DomainInterfaceVLan{Trunk: "yes"}
		for _, p := range parts[1:] {
			t, err := strconv.ParseUint(p, 10, 32)
			if err != nil {
				return err
			}
			n.VLan.Tags = append(n.VLan.Tags, libvirtxml.DomainInterfaceVLanTag{ID: uint(t)})
		}
		n.VirtualPort = ovsPort()
		return nil
	}
	br.Bridge = bridge
	return nil
}

func ovsPort() *libvirtxml.DomainInterfaceVirtualPort {
	return &libvirtxml.DomainInterfaceVirtualPort{Params: &libvirtxml.DomainInterfaceVirtualPortParams{
		OpenVSwitch: &libvirtxml.DomainInterfaceVirtualPortParamsOpenVSwitch{}}}
}

var vifRateRE = regexp.MustCompile(`^[0-9]+[GMK]?[Bb]/s$`)

// parseVifRate turns "10MB/s" or "100Mb/s@20ms" into KB/s.
func parseVifRate(rate string) (uint64, error) {
	r, _, _ := strings.Cut(rate, "@")
	if !vifRateRE.MatchString(r) {
		return 0, fmt.Errorf("invalid rate")
	}
	i := strings.IndexFunc(r, func(ch rune) bool { return ch < '0' || ch > '9' })
	n, err := strconv.ParseUint(r[:i], 10, 64)
	if err != nil {
		return 0, err
	}
	suffix := r[i:]
	switch suffix[0] {
	case 'G':
		n *= 1024 * 1024
	case 'M':
		n *= 1024
	}
	if suffix[0] == 'b' || (len(suffix) > 1 && suffix[1] == 'b') {
		n /= 8
	}
	return n, nil
}

// formatVifs is xenFormatVif.
func formatVifs(o *out, d *libvirtxml.Domain, typename string) error {
	var l []value
	for _, n := range d.Devices.Interfaces {
		s, err := formatVif(n, isHVM(d), typename)
		if err != nil {
			return err
		}
		l = append(l, strVal(s))
	}
	if len(l) > 0 {
		o.set("vif", listVal(l...))
	}
	return nil
}

func formatVif(n libvirtxml.DomainInterface, hvm bool, typename string) (string, error) {
	var b strings.Builder
	if n.MAC != nil {
		b.WriteString("mac=" + n.MAC.Address)
	}
	src := n.Source
	switch {
	case src != nil && src.Bridge != nil:
		formatVifBridge(&b, n)
	case src != nil && src.Ethernet != nil:
		if n.Script != nil {
			b.WriteString(",script=" + n.Script.Path)
		}
		writeIPs(&b, n)
	case src != nil && src.Network != nil:
		return "", &Error{Code: int(codeNoNetwork), Msg: src.Network.Network}
	default:
		return "", unsupportedf("Unsupported net type '%s'", netType(n))
	}
	if n.Model != nil && n.Model.Type != "" {
		if hvm && n.Model.Type == "netfront" {
			b.WriteString(",type=" + typename)
		} else {
			b.WriteString(",model=" + n.Model.Type)
		}
	}
	if n.Target != nil && n.Target.Dev != "" {
		b.WriteString(",vifname=" + n.Target.Dev)
	}
	if bw := n.Bandwidth; bw != nil && bw.Outbound != nil && bw.Outbound.Average != nil && *bw.Outbound.Average != 0 {
		fmt.Fprintf(&b, ",rate=%dKB/s", *bw.Outbound.Average)
	}
	return b.String(), nil
}

func formatVifBridge(b *strings.Builder, n libvirtxml.DomainInterface) {
	b.WriteString(",bridge=" + n.Source.Bridge.Bridge)
	script := ""
	if n.Script != nil {
		script = n.Script.Path
	}
	if vp := n.VirtualPort; vp != nil && vp.Params != nil && vp.Params.OpenVSwitch != nil {
		if script == "" {
			script = "vif-openvswitch"
		}
		if n.VLan != nil && len(n.VLan.Tags) > 0 {
			if n.VLan.Trunk == "yes" {
				for _, t := range n.VLan.Tags {
					fmt.Fprintf(b, ":%d", t.ID)
				}
			} else {
				fmt.Fprintf(b, ".%d", n.VLan.Tags[0].ID)
			}
		}
	}
	writeIPs(b, n)
	if script == "" {
		script = "vif-bridge"
	}
	b.WriteString(",script=" + script)
}

func writeIPs(b *strings.Builder, n libvirtxml.DomainInterface) {
	if len(n.IP) == 0 {
		return
	}
	ips := make([]string, len(n.IP))
	for i, ip := range n.IP {
		ips[i] = ip.Address
	}
	b.WriteString(",ip=" + strings.Join(ips, " "))
}

func netType(n libvirtxml.DomainInterface) string {
	s := n.Source
	switch {
	case s == nil:
		return "user"
	case s.User != nil:
		return "user"
	case s.Direct != nil:
		return "direct"
	case s.Hostdev != nil:
		return "hostdev"
	case s.VHostUser != nil:
		return "vhostuser"
	case s.Server != nil:
		return "server"
	case s.Client != nil:
		return "client"
	case s.MCast != nil:
		return "mcast"
	case s.UDP != nil:
		return "udp"
	case s.Internal != nil:
		return "internal"
	}
	return "unknown"
}
