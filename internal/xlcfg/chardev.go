package xlcfg

import (
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virconf"
)

// chrType is a character device's type name, as libvirt spells it.
var chrTypes = map[string]bool{"null": true, "vc": true, "pty": true, "dev": true, "file": true,
	"pipe": true, "stdio": true, "udp": true, "tcp": true, "unix": true, "spicevmc": true,
	"spiceport": true, "nmdm": true, "qemu-vdagent": true, "dbus": true}

// parseChr is xenParseSxprChar: "/dev/path", "pty", "file:/path",
// "tcp:host:port[,server,nowait]", "telnet:...", "udp:...", "unix:/path[,server]".
func parseChr(s string) (*libvirtxml.DomainChardevSource, string, error) {
	if strings.HasPrefix(s, "/") {
		return &libvirtxml.DomainChardevSource{Dev: &libvirtxml.DomainChardevSourceDev{Path: s}}, "", nil
	}
	prefix, val, _ := strings.Cut(s, ":")
	proto := ""
	typ := prefix
	if strings.HasPrefix(prefix, "telnet") {
		typ, proto = "tcp", "telnet"
	} else if !chrTypes[prefix] {
		return nil, "", internalf("unknown chr device type '%s'", prefix)
	}
	src := &libvirtxml.DomainChardevSource{}
	switch typ {
	case "null":
		src.Null = &libvirtxml.DomainChardevSourceNull{}
	case "vc":
		src.VC = &libvirtxml.DomainChardevSourceVC{}
	case "stdio":
		src.StdIO = &libvirtxml.DomainChardevSourceStdIO{}
	case "pty":
		src.Pty = &libvirtxml.DomainChardevSourcePty{}
	case "file":
		src.File = &libvirtxml.DomainChardevSourceFile{Path: val}
	case "pipe":
		src.Pipe = &libvirtxml.DomainChardevSourcePipe{Path: val}
	case "tcp":
		t, err := parseChrTCP(val)
		if err != nil {
			return nil, "", err
		}
		src.TCP = t
		if proto == "" {
			proto = "raw"
		}
	case "udp":
		u, err := parseChrUDP(val)
		if err != nil {
			return nil, "", err
		}
		src.UDP = u
	case "unix":
		path, opts, _ := strings.Cut(val, ",")
		mode := "connect"
		if strings.Contains(","+opts, ",server") {
			mode = "bind"
		}
		src.UNIX = &libvirtxml.DomainChardevSourceUNIX{Path: path, Mode: mode}
	default:
		return nil, "", unsupportedf("unsupported chr device type '%s'", typ)
	}
	return src, proto, nil
}

func parseChrTCP(val string) (*libvirtxml.DomainChardevSourceTCP, error) {
	host, rest, ok := strings.Cut(val, ":")
	if !ok {
		return nil, internalf("malformed char device string")
	}
	service, opts, _ := strings.Cut(rest, ",")
	mode := "connect"
	if strings.Contains(","+opts, ",server") {
		mode = "bind"
	}
	return &libvirtxml.DomainChardevSourceTCP{Mode: mode, Host: host, Service: service}, nil
}

func parseChrUDP(val string) (*libvirtxml.DomainChardevSourceUDP, error) {
	host, rest, ok := strings.Cut(val, ":")
	if !ok {
		return nil, internalf("malformed char device string")
	}
	u := &libvirtxml.DomainChardevSourceUDP{ConnectHost: host}
	svc, bind, hasBind := strings.Cut(rest, "@")
	u.ConnectService = svc
	if hasBind {
		bh, bs, ok := strings.Cut(bind, ":")
		if !ok {
			return nil, internalf("malformed char device string")
		}
		u.BindHost, u.BindService = bh, bs
	}
	return u, nil
}

func protocol(p string) *libvirtxml.DomainChardevProtocol {
	if p == "" {
		return nil
	}
	return &libvirtxml.DomainChardevProtocol{Type: p}
}

func uintp(u uint) *uint { return &u }

// parseCharDevs is xenParseCharDev.
func (c *conf) parseCharDevs(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		d.Devices.Consoles = append(d.Devices.Consoles, libvirtxml.DomainConsole{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainConsoleTarget{Type: "xen", Port: uintp(0)}})
		return nil
	}
	if p, ok, err := c.getString("parallel", ""); err != nil {
		return err
	} else if ok && p != "none" {
		src, proto, err := parseChr(p)
		if err != nil {
			return withKey(c, "parallel", err)
		}
		d.Devices.Parallels = append(d.Devices.Parallels, libvirtxml.DomainParallel{
			Source: src, Protocol: protocol(proto), Target: &libvirtxml.DomainParallelTarget{Port: uintp(0)}})
	}
	if list, ok := c.getStringList("serial"); ok {
		if c.fmt == XM {
			return c.errorCode(codeUnsupported, "serial", "Multiple serial devices are not supported by xen-xm")
		}
		for port, s := range list {
			if s == "none" {
				continue
			}
			if err := c.addSerial(d, s, uint(port)); err != nil {
				return err
			}
		}
		return nil
	}
	if v, _ := c.f.Lookup("serial"); v.Kind == virconf.List {
		return nil // a list that is not all strings: ignored, as in libvirt
	}
	s, ok, err := c.getString("serial", "")
	if err != nil || !ok || s == "none" {
		return err
	}
	return c.addSerial(d, s, 0)
}

func (c *conf) addSerial(d *libvirtxml.Domain, s string, port uint) error {
	src, proto, err := parseChr(s)
	if err != nil {
		return withKey(c, "serial", err)
	}
	d.Devices.Serials = append(d.Devices.Serials, libvirtxml.DomainSerial{
		Source: src, Protocol: protocol(proto), Target: &libvirtxml.DomainSerialTarget{Port: uintp(port)}})
	return nil
}

// withKey places a conversion error on key's line.
func withKey(c *conf, key string, err error) error {
	if e, ok := err.(*Error); ok && e.Line == 0 {
		e.Line, e.Key = c.f.Line(key), key
	}
	return err
}

// parseChannels is xenParseXLChannel.
func (c *conf) parseChannels(d *libvirtxml.Domain) error {
	for _, spec := range c.listStrings("channel") {
		kv, ok := splitKV(spec)
		if !ok {
			continue
		}
		var typ, name, path string
		for _, p := range kv {
			switch p[0] {
			case "connection":
				typ = p[1]
			case "name": // the first name and path win, as in libvirt
				if name == "" {
					name = p[1]
				}
			case "path":
				if path == "" {
					path = p[1]
				}
			}
		}
		ch := libvirtxml.DomainChannel{Target: &libvirtxml.DomainChannelTarget{
			Xen: &libvirtxml.DomainChannelTargetXen{Name: name}}}
		switch {
		case strings.HasPrefix(typ, "socket"):
			ch.Source = &libvirtxml.DomainChardevSource{UNIX: &libvirtxml.DomainChardevSourceUNIX{Mode: "bind", Path: path}}
		case strings.HasPrefix(typ, "pty"):
			ch.Source = &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}}
		default:
			return c.errorf("channel", "unsupported channel connection '%s'", typ)
		}
		d.Devices.Channels = append(d.Devices.Channels, ch)
	}
	return nil
}
