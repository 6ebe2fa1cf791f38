package xlcfg

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

func listenAddr(addr string) []libvirtxml.DomainGraphicListener {
	if addr == "" {
		return nil
	}
	return []libvirtxml.DomainGraphicListener{{Address: &libvirtxml.DomainGraphicListenerAddress{Address: addr}}}
}

// parseVfb is xenParseVfb: HVM vnc/sdl keys, or a PV "vfb" list.
func (c *conf) parseVfb(d *libvirtxml.Domain) error {
	if isHVM(d) {
		return c.parseHVMGraphics(d)
	}
	vfbs, ok := c.getStringList("vfb")
	if !ok || len(vfbs) == 0 {
		return nil
	}
	return c.parsePVVfb(d, vfbs[0])
}

func (c *conf) parseHVMGraphics(d *libvirtxml.Domain) error {
	vnc, err := c.getBool("vnc", 0)
	if err != nil {
		return err
	}
	if vnc == 1 {
		g := &libvirtxml.DomainGraphicVNC{}
		unused, err := c.getBool("vncunused", 1)
		if err != nil {
			return err
		}
		if unused == 1 {
			g.AutoPort = "yes"
		} else {
			disp, err := c.getULong("vncdisplay", 0)
			if err != nil {
				return err
			}
			g.Port = int(disp) + 5900
		}
		addr, _, err := c.getString("vnclisten", "")
		if err != nil {
			return err
		}
		g.Listeners = listenAddr(addr)
		if g.Passwd, _, err = c.getString("vncpasswd", ""); err != nil {
			return err
		}
		if g.Keymap, _, err = c.getString("keymap", ""); err != nil {
			return err
		}
		d.Devices.Graphics = append(d.Devices.Graphics, libvirtxml.DomainGraphic{VNC: g})
		return nil
	}
	sdl, err := c.getBool("sdl", 0)
	if err != nil || sdl == 0 {
		return err
	}
	g := &libvirtxml.DomainGraphicSDL{}
	if g.Display, _, err = c.getString("display", ""); err != nil {
		return err
	}
	if g.XAuth, _, err = c.getString("xauthority", ""); err != nil {
		return err
	}
	d.Devices.Graphics = append(d.Devices.Graphics, libvirtxml.DomainGraphic{SDL: g})
	return nil
}

func (c *conf) parsePVVfb(d *libvirtxml.Domain, spec string) error {
	kv, _ := splitKV(spec)
	if strings.Contains(spec, "type=sdl") {
		g := &libvirtxml.DomainGraphicSDL{}
		for _, p := range kv {
			switch p[0] {
			case "display":
				g.Display = p[1]
			case "xauthority":
				g.XAuth = p[1]
			}
		}
		d.Devices.Graphics = append(d.Devices.Graphics, libvirtxml.DomainGraphic{SDL: g})
		return nil
	}
	g := &libvirtxml.DomainGraphicVNC{}
	addr := ""
	for _, p := range kv {
		switch p[0] {
		case "vncunused":
			if p[1] == "1" {
				g.AutoPort = "yes"
			}
		case "vnclisten":
			addr = p[1]
		case "vncpasswd":
			g.Passwd = p[1]
		case "keymap":
			g.Keymap = p[1]
		case "vncdisplay":
			n, err := strconv.Atoi(p[1])
			if err != nil {
				return c.errorf("vfb", "invalid vncdisplay value '%s'", p[1])
			}
			g.Port = n + 5900
		}
	}
	g.Listeners = listenAddr(addr)
	d.Devices.Graphics = append(d.Devices.Graphics, libvirtxml.DomainGraphic{VNC: g})
	return nil
}

// parseSpice is xenParseXLSpice.
func (c *conf) parseSpice(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		return nil
	}
	on, err := c.getBool("spice", 0)
	if err != nil || on == 0 {
		return err
	}
	g := &libvirtxml.DomainGraphicSpice{}
	addr, _, err := c.getString("spicehost", "")
	if err != nil {
		return err
	}
	g.Listeners = listenAddr(addr)
	tls, err := c.getULong("spicetls_port", 0)
	if err != nil {
		return err
	}
	port, err := c.getULong("spiceport", 0)
	if err != nil {
		return err
	}
	g.TLSPort, g.Port = int(tls), int(port)
	if tls == 0 && port == 0 {
		g.AutoPort = "yes"
	}
	if err := c.spiceOptions(g); err != nil {
		return err
	}
	d.Devices.Graphics = append(d.Devices.Graphics, libvirtxml.DomainGraphic{Spice: g})
	return nil
}

func (c *conf) spiceOptions(g *libvirtxml.DomainGraphicSpice) error {
	noTicket, err := c.getBool("spicedisable_ticketing", 0)
	if err != nil {
		return err
	}
	if noTicket == 0 {
		pw, ok, err := c.getString("spicepasswd", "")
		if err != nil {
			return err
		}
		if !ok {
			return c.errorf("spicepasswd", "config value %s was missing", "spicepasswd")
		}
		g.Passwd = pw
	}
	mouse, err := c.getBool("spiceagent_mouse", 0)
	if err != nil {
		return err
	}
	g.Mouse = &libvirtxml.DomainGraphicSpiceMouse{Mode: map[int]string{0: "server", 1: "client"}[mouse]}
	clip, err := c.getBool("spice_clipboard_sharing", 0)
	if err != nil {
		return err
	}
	g.ClipBoard = &libvirtxml.DomainGraphicSpiceClipBoard{CopyPaste: map[int]string{0: "no", 1: "yes"}[clip]}
	c.used["spicevdagent"] = true // implied by the two above when formatting
	return nil
}
