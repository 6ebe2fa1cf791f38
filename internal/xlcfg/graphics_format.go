package xlcfg

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

func firstListen(ls []libvirtxml.DomainGraphicListener, attr string) string {
	if len(ls) > 0 {
		if ls[0].Address != nil {
			return ls[0].Address.Address
		}
		return ""
	}
	return attr
}

// formatVfb is xenFormatVfb.
func formatVfb(o *out, d *libvirtxml.Domain) {
	gs := d.Devices.Graphics
	if len(gs) != 1 || gs[0].Spice != nil {
		return
	}
	g := gs[0]
	if isHVM(d) {
		formatHVMGraphics(o, g)
		return
	}
	var b strings.Builder
	if g.SDL != nil {
		b.WriteString("type=sdl")
		if g.SDL.Display != "" {
			b.WriteString(",display=" + g.SDL.Display)
		}
		if g.SDL.XAuth != "" {
			b.WriteString(",xauthority=" + g.SDL.XAuth)
		}
	} else if v := g.VNC; v != nil {
		auto := v.AutoPort == "yes"
		fmt.Fprintf(&b, "type=vnc,vncunused=%d", boolInt(auto))
		if !auto {
			fmt.Fprintf(&b, ",vncdisplay=%d", v.Port-5900)
		}
		if a := firstListen(v.Listeners, v.Listen); a != "" {
			b.WriteString(",vnclisten=" + a)
		}
		if v.Passwd != "" {
			b.WriteString(",vncpasswd=" + v.Passwd)
		}
		if v.Keymap != "" {
			b.WriteString(",keymap=" + v.Keymap)
		}
	} else {
		return
	}
	o.set("vfb", listVal(strVal(b.String())))
}

func formatHVMGraphics(o *out, g libvirtxml.DomainGraphic) {
	if s := g.SDL; s != nil {
		o.setInt("sdl", 1)
		o.setInt("vnc", 0)
		if s.Display != "" {
			o.setStr("display", s.Display)
		}
		if s.XAuth != "" {
			o.setStr("xauthority", s.XAuth)
		}
		return
	}
	v := g.VNC
	if v == nil {
		return
	}
	o.setInt("sdl", 0)
	o.setInt("vnc", 1)
	auto := v.AutoPort == "yes"
	o.setBool("vncunused", auto)
	if !auto {
		o.setInt("vncdisplay", int64(v.Port-5900))
	}
	if a := firstListen(v.Listeners, v.Listen); a != "" {
		o.setStr("vnclisten", a)
	}
	if v.Passwd != "" {
		o.setStr("vncpasswd", v.Passwd)
	}
	if v.Keymap != "" {
		o.setStr("keymap", v.Keymap)
	}
}

// formatSpice is xenFormatXLSpice.
func formatSpice(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) || len(d.Devices.Graphics) == 0 || d.Devices.Graphics[0].Spice == nil {
		return
	}
	s := d.Devices.Graphics[0].Spice
	o.setInt("sdl", 0)
	o.setInt("vnc", 0)
	o.setInt("spice", 1)
	if a := firstListen(s.Listeners, s.Listen); a != "" {
		o.setStr("spicehost", a)
	}
	o.setInt("spiceport", int64(s.Port))
	o.setInt("spicetls_port", int64(s.TLSPort))
	if s.Passwd != "" {
		o.setInt("spicedisable_ticketing", 0)
		o.setStr("spicepasswd", s.Passwd)
	} else {
		o.setInt("spicedisable_ticketing", 1)
	}
	if s.Mouse != nil {
		switch s.Mouse.Mode {
		case "server":
			o.setInt("spiceagent_mouse", 0)
		case "client":
			o.setInt("spiceagent_mouse", 1)
			o.setInt("spicevdagent", 1)
		}
	}
	if s.ClipBoard != nil && s.ClipBoard.CopyPaste == "yes" {
		o.setInt("spice_clipboard_sharing", 1)
		o.setInt("spicevdagent", 1)
	}
}
