package libxlconf

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// loopbackAddress is VIR_LOOPBACK_IPV4_ADDR.
const loopbackAddress = "127.0.0.1"

// vncPortMin is LIBXL_VNC_PORT_MIN: VNC display N listens on 5900+N.
const vncPortMin = 5900

// graphics is libxlMakeVfbList and libxlMakeBuildInfoVfb: a framebuffer
// and keyboard per VNC or SDL display; for an HVM guest the first display
// also configures the device model, and SPICE is set up there.
func (t *translation) graphics(c *libxltypes.DomainConfig) error {
	gs := devices(t.d).Graphics
	for i := range gs {
		g := &gs[i]
		if g.VNC == nil && g.SDL == nil {
			continue
		}
		v, port, err := t.makeVFB(g)
		if err != nil {
			return err
		}
		if port != 0 {
			setGraphicsPort(c, i, port)
		}
		c.VFBs = append(c.VFBs, v)
		c.VKBs = append(c.VKBs, libxltypes.VKB{DevID: -1})
	}
	if !t.hvm() {
		return nil
	}
	h := t.hvmPart(&c.BInfo)
	// SPICE, if any, is the device model's display; otherwise the first
	// framebuffer is.
	for i := range gs {
		if gs[i].Spice != nil {
			port, err := t.spice(h, gs[i].Spice)
			if port != 0 {
				setGraphicsPort(c, i, port)
			}
			return err
		}
	}
	if len(c.VFBs) > 0 {
		h.VNC, h.SDL, h.Keymap = c.VFBs[0].VNC, c.VFBs[0].SDL, c.VFBs[0].Keymap
	}
	return nil
}

// setGraphicsPort records an automatically chosen port.
func setGraphicsPort(c *libxltypes.DomainConfig, i, port int) {
	if c.GraphicsPorts == nil {
		c.GraphicsPorts = map[int]int{}
	}
	c.GraphicsPorts[i] = port
}

// makeVFB is libxlMakeVfb; it also returns the port it chose, if any.
func (t *translation) makeVFB(g *libvirtxml.DomainGraphic) (libxltypes.VFB, int, error) {
	v := libxltypes.VFB{DevID: -1}
	if s := g.SDL; s != nil {
		v.SDL.Enable, v.VNC.Enable, v.SDL.OpenGL = libxltypes.True, libxltypes.False, libxltypes.False
		v.SDL.Display, v.SDL.XAuthority = s.Display, s.XAuth
		return v, 0, nil
	}
	vnc := g.VNC
	v.VNC.Enable, v.SDL.Enable = libxltypes.True, libxltypes.False
	port, chosen := vnc.Port, 0
	if vnc.AutoPort == "yes" || port <= 0 {
		p, err := t.port()
		if err != nil {
			return v, 0, err
		}
		port, chosen = p, p
	}
	if port < vncPortMin {
		return v, 0, unsupported("VNC port %d is below %d", port, vncPortMin)
	}
	v.VNC.Display = port - vncPortMin
	v.VNC.FindUnused = libxltypes.False
	v.VNC.Listen = listenAddress(vnc.Listen, vnc.Listeners)
	v.VNC.Passwd = vnc.Passwd
	v.Keymap = vnc.Keymap
	return v, chosen, nil
}

// listenAddress is the first listen's address, if it has one.
func listenAddress(attr string, ls []libvirtxml.DomainGraphicListener) string {
	if len(ls) > 0 {
		if a := ls[0].Address; a != nil {
			return a.Address
		}
		return ""
	}
	return attr
}

// spice configures the device model's SPICE server; it returns the port
// it chose, if any.
func (t *translation) spice(h *libxltypes.HVMInfo, s *libvirtxml.DomainGraphicSpice) (int, error) {
	h.Spice.Enable = libxltypes.True
	port, chosen := s.Port, 0
	if s.AutoPort == "yes" || port <= 0 {
		p, err := t.port()
		if err != nil {
			return 0, err
		}
		port, chosen = p, p
	}
	h.Spice.Port = port
	if s.TLSPort > 0 {
		h.Spice.TLSPort = s.TLSPort
	}
	// libxlMakeBuildInfoVfb: with no address the server listens on the
	// loopback only (qemu would take every address), and libvirt writes
	// that into the live definition too (the driver's recordPorts).
	if h.Spice.Host = listenAddress(s.Listen, s.Listeners); h.Spice.Host == "" {
		h.Spice.Host = loopbackAddress
	}
	h.Keymap = s.Keymap
	if s.Passwd != "" {
		h.Spice.Passwd = s.Passwd
		h.Spice.DisableTicketing = libxltypes.False
	} else {
		h.Spice.DisableTicketing = libxltypes.True
	}
	// Client mouse mode is xl.cfg's default.
	h.Spice.AgentMouse = libxltypes.DefboolOf(s.Mouse == nil || s.Mouse.Mode != "server")
	copyPaste := s.ClipBoard != nil && s.ClipBoard.CopyPaste == "yes"
	h.Spice.VDAgent = libxltypes.DefboolOf(copyPaste)
	h.Spice.ClipboardSharing = libxltypes.DefboolOf(copyPaste)
	return chosen, nil
}

// video is libxlMakeVideo: the HVM guest's emulated graphics card, or
// none and no graphics at all.
func (t *translation) video(c *libxltypes.DomainConfig) error {
	if !t.hvm() {
		return nil
	}
	h := t.hvmPart(&c.BInfo)
	vs := devices(t.d).Videos
	if len(vs) == 0 || vs[0].Model.Type == "none" {
		h.Nographic = libxltypes.True
		h.VGA.Kind = "none"
		return nil
	}
	m := vs[0].Model
	var minKiB uint
	var name string
	switch m.Type {
	case "vga", "xen":
		h.VGA.Kind, minKiB, name = "std", 16*1024, "VGA"
	case "cirrus":
		h.VGA.Kind, minKiB, name = "cirrus", 8*1024, "CIRRUS"
	case "qxl":
		h.VGA.Kind, minKiB, name = "qxl", 128*1024, "QXL"
	default:
		return unsupported("video type %s is not supported by libxl", m.Type)
	}
	if m.VRam < minKiB {
		return unsupported("videoram must be at least %dMB for %s", minKiB/1024, name)
	}
	c.BInfo.VideoMemKiB = uint64(m.VRam)
	return nil
}

// channels are the Xen PV channels, over a pty or a Unix socket; a
// socket without a path gets one in the channel directory.
func (t *translation) channels(c *libxltypes.DomainConfig) error {
	for _, ch := range devices(t.d).Channels {
		if ch.Target == nil || ch.Target.Xen == nil {
			return unsupported("channel target type not supported")
		}
		name := ch.Target.Xen.Name
		if name == "" {
			return virerr.New(virerr.FromLibxl, libvirt.ErrOperationInvalid, "channel target name missing")
		}
		x := libxltypes.Channel{DevID: -1, Name: name}
		switch {
		case ch.Source == nil || ch.Source.Pty != nil:
			x.PTY = &struct{}{}
		case ch.Source.UNIX != nil:
			path := ch.Source.UNIX.Path
			if path == "" {
				dir := t.host.ChannelDir
				if dir == "" {
					dir = DefaultChannelDir
				}
				path = dir + "/" + t.d.Name + "-" + name
			}
			x.Socket = &libxltypes.ChannelSocket{Path: path}
		default:
			return unsupported("channel source type not supported")
		}
		c.Channels = append(c.Channels, x)
	}
	return nil
}
