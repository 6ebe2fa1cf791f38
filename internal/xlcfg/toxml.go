package xlcfg

import (
	"encoding/xml"
	"fmt"
	"strconv"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/virstring"
)

// Result is a cfg converted to domain XML.
type Result struct {
	// XML is the domain as libvirt formats it (inactive).
	XML string
	// Unsupported lists the settings the conversion did not use: libvirt
	// ignores them silently, callers should report them.
	Unsupported []Unsupported
}

// Options tune ToXML.
type Options struct {
	// Secure keeps graphics passwords in the XML (virsh's own
	// domxml-from-native formats without them, as libvirt does).
	Secure bool
	// HWVirt is the host CPU's hardware virtualisation, "vmx" or "svm":
	// nestedhvm = 0 disables that feature of the guest's CPU, as libvirt
	// checks the host CPU's; vmx when the host has neither.
	HWVirt string
}

// The host libvirt's Xen driver describes (capabilities): where the
// firmware and the device model live.
const (
	hvmLoader   = "/usr/lib/xen/boot/hvmloader"
	ovmfDefault = "/usr/lib/xen/boot/ovmf.bin"
	minGuestMiB = 64
)

// ToXML converts a native cfg in format f to libvirt domain XML.
func ToXML(data []byte, f Format, o Options) (*Result, error) {
	if f == sxpr {
		return nil, &Error{Code: codeOpUnsupported, Msg: "conversion from 'xen-sxpr' format is no longer supported"}
	}
	if f != XL && f != XM {
		return nil, &Error{Code: codeInvalidArg, Msg: fmt.Sprintf("unsupported config type %s", f)}
	}
	c, err := readConf(data, f)
	if err != nil {
		return nil, err
	}
	c.hwVirt = o.HWVirt
	d, err := c.domain()
	if err != nil {
		return nil, err
	}
	raw, err := xml.Marshal(d)
	if err != nil {
		return nil, internalf("cannot format domain XML: %v", err)
	}
	pd, err := domxml.Parse(string(raw))
	if err != nil {
		return nil, err
	}
	flags := domxml.FormatInactive
	if o.Secure {
		flags |= domxml.FormatSecure
	}
	s, err := domxml.FormatFlags(pd, flags)
	if err != nil {
		return nil, err
	}
	return &Result{XML: s, Unsupported: c.unused()}, nil
}

// domain builds the definition, in the order of libvirt's xenParseXL and
// xenParseXM.
func (c *conf) domain() (*libvirtxml.Domain, error) {
	d := &libvirtxml.Domain{Type: "xen", Devices: &libvirtxml.DomainDeviceList{}}
	steps := []func(*libvirtxml.Domain) error{
		c.parseMeta, c.parseMem, c.parseEvents, c.parseCPU, c.parseFeatures,
		c.parseTimeOffset, c.parseEmulator, c.parseVifs, c.parsePCIs,
		c.parseSound, c.parseVfb, c.parseCharDevs,
	}
	if c.fmt == XL {
		steps = append(steps, c.parseXLOS, c.parseVnuma, c.parseXenbus,
			c.parseCPUID, c.parseXLDisks, c.parseSpice, c.parseXLInputs,
			c.parseUSBDevs, c.parseUSBCtrls, c.parseChannels, c.parseDMArgs)
	} else {
		steps = append(steps, c.parseXMOS, c.parseXMDisks, c.parseXMInputs)
	}
	for _, s := range steps {
		if err := s(d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func isHVM(d *libvirtxml.Domain) bool { return d.OS.Type.Type == "hvm" }

func (c *conf) parseMeta(d *libvirtxml.Domain) error {
	name, ok, err := c.getString("name", "")
	if err != nil {
		return err
	}
	if !ok {
		return c.errorf("name", "config value %s was missing", "name")
	}
	d.Name = name
	if err := c.parseUUID(d); err != nil {
		return err
	}
	typ := &libvirtxml.DomainOSType{Arch: "x86_64", Machine: "xenpv", Type: "linux"}
	d.OS = &libvirtxml.DomainOS{Type: typ}
	if t, ok, err := c.getString("type", ""); err == nil && ok {
		switch t {
		case "pv":
		case "pvh":
			typ.Type, typ.Machine = "xenpvh", "xenpvh"
		case "hvm":
			typ.Type, typ.Machine = "hvm", "xenfv"
		default:
			return c.errorCode(codeUnsupported, "type", "type %s is not supported", t)
		}
	} else if b, _, err := c.getString("builder", "linux"); err == nil && b == "hvm" {
		typ.Type, typ.Machine = "hvm", "xenfv"
	}
	return nil
}

func (c *conf) parseUUID(d *libvirtxml.Domain) error {
	u, ok, err := c.getString("uuid", "")
	if err != nil {
		return err
	}
	if !ok {
		return nil // domxml generates one
	}
	if u == "" {
		return c.errorCode(codeConfSyntax, "uuid", "%s can't be empty", "uuid")
	}
	if _, ok := virstring.ParseUUID(u); !ok {
		return c.errorCode(codeConfSyntax, "uuid", "%s not parseable", u)
	}
	d.UUID = u
	return nil
}

func (c *conf) parseMem(d *libvirtxml.Domain) error {
	cur, err := c.getULong("memory", minGuestMiB*2)
	if err != nil {
		return err
	}
	maxm, err := c.getULong("maxmem", cur)
	if err != nil {
		return err
	}
	d.Memory = &libvirtxml.DomainMemory{Value: uint(maxm * 1024), Unit: "KiB"}
	d.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(cur * 1024), Unit: "KiB"}
	return nil
}

var lifecycleActions = map[string]bool{"destroy": true, "restart": true, "rename-restart": true,
	"preserve": true, "coredump-destroy": true, "coredump-restart": true}

func (c *conf) parseEvents(d *libvirtxml.Domain) error {
	for _, ev := range []struct {
		key, def string
		dst      *string
	}{{"on_poweroff", "destroy", &d.OnPoweroff}, {"on_reboot", "restart", &d.OnReboot},
		{"on_crash", "restart", &d.OnCrash}} {
		v, _, err := c.getString(ev.key, ev.def)
		if err != nil {
			return err
		}
		if !lifecycleActions[v] {
			return c.errorf(ev.key, "unexpected value %s for %s", v, ev.key)
		}
		*ev.dst = v
	}
	return nil
}

func (c *conf) parseCPU(d *libvirtxml.Domain) error {
	n, err := c.getULong("vcpus", 1)
	if err != nil {
		return err
	}
	d.VCPU = &libvirtxml.DomainVCPU{Placement: "static", Value: uint(n)}
	if _, ok := c.f.Lookup("maxvcpus"); ok {
		m, err := c.getULong("maxvcpus", 0)
		if err != nil {
			return err
		}
		d.VCPU.Value = uint(m)
		if uint(n) < uint(m) {
			d.VCPU.Current = uint(n)
		} else if uint(n) > uint(m) {
			d.VCPU.Current = uint(m)
		}
	}
	// xenParseCPU reads cpus= with a bound of its own.
	const xlCPUsLen = 4096
	cpus, ok, err := c.getString("cpus", "")
	if err != nil {
		return err
	}
	if ok {
		set, err := domxml.ParseCPUSet(cpus, xlCPUsLen)
		if err != nil {
			return c.errorf("cpus", "Failed to parse bitmap '%s'", cpus)
		}
		d.VCPU.CPUSet = domxml.FormatCPUSet(set)
	}
	return nil
}

func (c *conf) parseTimeOffset(d *libvirtxml.Domain) error {
	local, err := c.getBool("localtime", 0)
	if err != nil {
		return err
	}
	if d.Clock == nil {
		d.Clock = &libvirtxml.DomainClock{}
	}
	if isHVM(d) {
		off, err := c.getULong("rtc_timeoffset", 0)
		if err != nil {
			return err
		}
		d.Clock.Offset = "variable"
		d.Clock.Adjustment = strconv.Itoa(int(int32(off)))
		d.Clock.Basis = map[int]string{0: "utc", 1: "localtime"}[local]
		return nil
	}
	d.Clock.Offset = map[int]string{0: "utc", 1: "localtime"}[local]
	d.Clock.Adjustment = "reset"
	return nil
}

func (c *conf) parseEmulator(d *libvirtxml.Domain) error {
	v, ok, err := c.getString("device_model_override", "")
	if ok {
		d.Devices.Emulator = v
	}
	return err
}
