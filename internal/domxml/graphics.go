package domxml

import (
	"libvirt.org/go/libvirtxml"
)

// normalizeGraphics does what virDomainGraphicsListensParseXML and the
// VNC/SPICE parsers do: the legacy listen attribute and the first
// <listen> element describe the same thing; port -1 means autoport, and
// an inactive parse forgets automatically chosen ports.
func normalizeGraphics(d *libvirtxml.Domain, root *node, live bool) error {
	nodes := graphicsNodes(root)
	for i := range d.Devices.Graphics {
		g := &d.Devices.Graphics[i]
		var gn *node
		if i < len(nodes) {
			gn = nodes[i]
		}
		switch {
		case g.VNC != nil:
			v := g.VNC
			if v.Socket != "" && len(v.Listeners) == 0 {
				v.Listeners = append(v.Listeners, libvirtxml.DomainGraphicListener{
					Socket: &libvirtxml.DomainGraphicListenerSocket{Socket: v.Socket}})
			}
			v.Socket = ""
			if err := syncListen(&v.Listen, &v.Listeners, gn); err != nil {
				return err
			}
			autoPort(&v.Port, &v.AutoPort, live)
		case g.Spice != nil:
			s := g.Spice
			if err := syncListen(&s.Listen, &s.Listeners, gn); err != nil {
				return err
			}
			spicePorts(s, live)
		case g.RDP != nil:
			r := g.RDP
			if err := syncListen(&r.Listen, &r.Listeners, gn); err != nil {
				return err
			}
			autoPort(&r.Port, &r.AutoPort, live)
		}
	}
	return nil
}

func graphicsNodes(root *node) []*node {
	dev := root.child("devices")
	if dev == nil {
		return nil
	}
	var out []*node
	for _, k := range dev.elems() {
		if k.name == "graphics" {
			out = append(out, k)
		}
	}
	return out
}

// syncListen makes the first listen element and the listen attribute
// agree, adding <listen type='address'/> from the attribute when the XML
// has no listen element.
func syncListen(attrListen *string, ls *[]libvirtxml.DomainGraphicListener, gn *node) error {
	if len(*ls) == 0 {
		*ls = append(*ls, libvirtxml.DomainGraphicListener{
			Address: &libvirtxml.DomainGraphicListenerAddress{Address: *attrListen},
		})
		return nil
	}
	first := (*ls)[0]
	if first.Address == nil && first.Network == nil {
		return nil
	}
	if *attrListen != "" && first.Address != nil {
		if first.Address.Address == "" {
			first.Address.Address = *attrListen
		} else if first.Address.Address != *attrListen {
			return xmlErr("graphics 'listen' attribute '%s' must match 'address' attribute of first listen element (found '%s')",
				*attrListen, first.Address.Address)
		}
	}
	_ = gn
	return nil
}

func autoPort(port *int, auto *string, live bool) {
	if *port == -1 || (*port == 0 && *auto == "") {
		*auto = "yes"
		if !live || *port == -1 {
			*port = 0
		}
	}
	if *auto == "yes" && !live {
		*port = 0
	}
	if *auto == "" {
		*auto = "no"
	}
}

func spicePorts(s *libvirtxml.DomainGraphicSpice, live bool) {
	if s.Port == -1 || s.TLSPort == -1 {
		s.AutoPort = "yes"
	}
	if s.Port == -1 {
		s.Port = 0
	}
	if s.TLSPort == -1 {
		s.TLSPort = 0
	}
	if s.AutoPort == "yes" && !live {
		s.Port, s.TLSPort = 0, 0
	}
	if s.AutoPort == "" {
		s.AutoPort = "no"
	}
	// virDomainDefPostParseGraphics: no ports and no autoport means
	// "listen nowhere".
	if len(s.Listeners) > 0 && s.Listeners[0].Address != nil &&
		s.Port == 0 && s.TLSPort == 0 && s.AutoPort != "yes" {
		s.Listeners[0] = libvirtxml.DomainGraphicListener{}
		s.Listen = ""
	}
}

// formatGraphics applies virDomainGraphicsDefFormat* rules to a copy.
func formatGraphics(g *libvirtxml.DomainGraphic, flags FormatFlag) {
	inactive := flags&FormatInactive != 0
	secure := flags&FormatSecure != 0
	switch {
	case g.VNC != nil:
		v := g.VNC
		if v.AutoPort == "yes" && (v.Port == 0 || inactive) {
			v.Port = -1
		}
		v.Listen = firstAddress(v.Listeners, flags)
		if len(v.Listeners) > 0 && v.Listeners[0].Socket != nil {
			v.Socket = v.Listeners[0].Socket.Socket
		}
		if !secure {
			v.Passwd = ""
		}
	case g.Spice != nil:
		s := g.Spice
		if s.AutoPort == "yes" && inactive {
			s.Port, s.TLSPort = 0, 0
		}
		s.Listen = firstAddress(s.Listeners, flags)
		if !secure {
			s.Passwd = ""
		}
	case g.RDP != nil:
		r := g.RDP
		if r.AutoPort == "yes" && inactive {
			r.Port = 0
		}
		r.Listen = firstAddress(r.Listeners, flags)
		if !secure {
			r.Passwd = ""
		}
	}
}

func firstAddress(ls []libvirtxml.DomainGraphicListener, flags FormatFlag) string {
	if len(ls) == 0 {
		return ""
	}
	if ls[0].Address != nil {
		return ls[0].Address.Address
	}
	if ls[0].Network != nil && flags&(FormatInactive|FormatMigratable) == 0 {
		return ls[0].Network.Address
	}
	return ""
}

// HasSecrets reports whether d's view without FormatSecure differs from
// its view with it: whether a graphics device has a password.
func HasSecrets(d *libvirtxml.Domain) bool {
	if d == nil || d.Devices == nil {
		return false
	}
	for _, g := range d.Devices.Graphics {
		switch {
		case g.VNC != nil && g.VNC.Passwd != "",
			g.Spice != nil && g.Spice.Passwd != "",
			g.RDP != nil && g.RDP.Passwd != "":
			return true
		}
	}
	return false
}
