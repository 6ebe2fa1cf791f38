package xlcfg

import (
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// formatChr is xenFormatSxprChr.
func formatChr(src *libvirtxml.DomainChardevSource, proto *libvirtxml.DomainChardevProtocol) (string, error) {
	switch {
	case src == nil:
		return "", internalf("unexpected chr device type")
	case src.Null != nil:
		return "null", nil
	case src.StdIO != nil:
		return "stdio", nil
	case src.VC != nil:
		return "vc", nil
	case src.Pty != nil:
		return "pty", nil
	case src.File != nil:
		return "file:" + escapeSexpr(src.File.Path), nil
	case src.Pipe != nil:
		return "pipe:" + escapeSexpr(src.Pipe.Path), nil
	case src.Dev != nil:
		return escapeSexpr(src.Dev.Path), nil
	case src.TCP != nil:
		p := "telnet"
		if proto == nil || proto.Type == "raw" || proto.Type == "" {
			p = "tcp"
		}
		s := p + ":" + src.TCP.Host + ":" + src.TCP.Service
		if src.TCP.Mode == "bind" {
			s += ",server,nowait"
		}
		return s, nil
	case src.UDP != nil:
		u := src.UDP
		return "udp:" + u.ConnectHost + ":" + u.ConnectService + "@" + u.BindHost + ":" + u.BindService, nil
	case src.UNIX != nil:
		s := "unix:" + escapeSexpr(src.UNIX.Path)
		if src.UNIX.Mode == "bind" {
			s += ",server,nowait"
		}
		return s, nil
	}
	return "", unsupportedf("unsupported chr device type")
}

// escapeSexpr is virBufferEscapeSexpr: backslash before \ and '.
func escapeSexpr(s string) string {
	return strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(s)
}

// formatCharDevs is xenFormatCharDev.
func formatCharDevs(o *out, d *libvirtxml.Domain, f Format) error {
	if !isHVM(d) {
		return nil
	}
	if len(d.Devices.Parallels) > 0 {
		p := d.Devices.Parallels[0]
		s, err := formatChr(p.Source, p.Protocol)
		if err != nil {
			return err
		}
		o.setStr("parallel", s)
	} else {
		o.setStr("parallel", "none")
	}
	serials := d.Devices.Serials
	switch {
	case len(serials) == 0:
		o.setStr("serial", "none")
	case len(serials) == 1 && serialPort(serials[0]) == 0:
		s, err := formatChr(serials[0].Source, serials[0].Protocol)
		if err != nil {
			return err
		}
		o.setStr("serial", s)
	default:
		if f == XM {
			return unsupportedf("Multiple serial devices are not supported by xen-xm")
		}
		return formatSerialList(o, serials)
	}
	return nil
}

func serialPort(s libvirtxml.DomainSerial) int {
	if s.Target == nil || s.Target.Port == nil {
		return 0
	}
	return int(*s.Target.Port)
}

func formatSerialList(o *out, serials []libvirtxml.DomainSerial) error {
	byPort := map[int]libvirtxml.DomainSerial{}
	var ports []int
	for _, s := range serials {
		p := serialPort(s)
		if _, dup := byPort[p]; !dup {
			byPort[p] = s
			ports = append(ports, p)
		}
	}
	sort.Ints(ports)
	var l []value
	for p := 0; p <= ports[len(ports)-1]; p++ {
		s, ok := byPort[p]
		if !ok {
			l = append(l, strVal("none"))
			continue
		}
		str, err := formatChr(s.Source, s.Protocol)
		if err != nil {
			return err
		}
		l = append(l, strVal(str))
	}
	o.set("serial", listVal(l...))
	return nil
}

// formatChannels is xenFormatXLDomainChannels.
func formatChannels(o *out, d *libvirtxml.Domain) error {
	var l []value
	for _, ch := range d.Devices.Channels {
		if ch.Target == nil || ch.Target.Xen == nil {
			continue
		}
		var b strings.Builder
		b.WriteString("connection=")
		switch {
		case ch.Source != nil && ch.Source.Pty != nil:
			b.WriteString("pty,")
		case ch.Source != nil && ch.Source.UNIX != nil:
			b.WriteString("socket,")
			if ch.Source.UNIX.Path != "" {
				b.WriteString("path=" + ch.Source.UNIX.Path + ",")
			}
		default:
			return internalf("unsupported channel type")
		}
		b.WriteString("name=" + ch.Target.Xen.Name)
		l = append(l, strVal(b.String()))
	}
	if len(l) > 0 {
		o.set("channel", listVal(l...))
	}
	return nil
}
