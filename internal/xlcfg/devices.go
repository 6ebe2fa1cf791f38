package xlcfg

import (
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virconf"
)

// parsePCIs is xenParsePCIList: "[DDDD:]BB:SS.F[,permissive=N]".
func (c *conf) parsePCIs(d *libvirtxml.Domain) error {
	list, ok := c.getStringList("pci")
	if !ok {
		return nil
	}
	for _, e := range list {
		h, err := parsePCI(e)
		if err != nil {
			return withKey(c, "pci", err)
		}
		d.Devices.Hostdevs = append(d.Devices.Hostdevs, *h)
	}
	return nil
}

func parsePCI(entry string) (*libvirtxml.DomainHostdev, error) {
	addr, opts, _ := strings.Cut(entry, ",")
	parts := strings.SplitN(addr, ":", 3)
	dom := "0"
	if len(parts) == 3 {
		dom, parts = parts[0], parts[1:]
	}
	if len(parts) != 2 {
		return nil, internalf("Malformed PCI address %s", entry)
	}
	slot, fn, ok := strings.Cut(parts[1], ".")
	if !ok {
		return nil, internalf("Malformed PCI address %s", parts[1])
	}
	nums := make([]uint, 4)
	for i, s := range []string{dom, parts[0], slot, fn} {
		n, err := strconv.ParseUint(s, 16, 32)
		if err != nil {
			return nil, internalf("Malformed PCI address %s", entry)
		}
		nums[i] = uint(n)
	}
	src := &libvirtxml.DomainHostdevSubsysPCISource{Address: &libvirtxml.DomainAddressPCI{
		Domain: &nums[0], Bus: &nums[1], Slot: &nums[2], Function: &nums[3]}}
	if opts != "" {
		for _, o := range strings.Split(opts, ",") {
			k, v, ok := strings.Cut(o, "=")
			if !ok {
				return nil, internalf("Malformed PCI options %s", opts)
			}
			if k == "permissive" {
				n, err := strconv.Atoi(v)
				if err != nil {
					return nil, internalf("Malformed PCI options %s", opts)
				}
				src.WriteFiltering = map[bool]string{true: "no", false: "yes"}[n != 0]
			}
		}
	}
	return &libvirtxml.DomainHostdev{Managed: "no",
		SubsysPCI: &libvirtxml.DomainHostdevSubsysPCI{Source: src}}, nil
}

var soundModels = map[string]bool{"sb16": true, "es1370": true, "pcspk": true, "ac97": true,
	"ich6": true, "ich7": true, "ich9": true, "usb": true, "ics6000": true}

// parseSound is xenParseEmulatedDevices: "soundhw" for HVM guests.
func (c *conf) parseSound(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		return nil
	}
	s, ok, err := c.getString("soundhw", "")
	if err != nil || !ok {
		return err
	}
	models := strings.Split(s, ",")
	switch {
	case s == "all":
		models = []string{"sb16", "es1370"}
	case s == "":
		models = nil
	case strings.HasSuffix(s, ","):
		models = models[:len(models)-1] // libvirt stops at a trailing comma
	}
	for _, m := range models {
		if !soundModels[m] {
			return c.errorf("soundhw", "unknown sound model '%s'", m)
		}
		d.Devices.Sounds = append(d.Devices.Sounds, libvirtxml.DomainSound{Model: m})
	}
	return nil
}

var usbInputs = map[string]string{"tablet": "tablet", "mouse": "mouse", "keyboard": "keyboard"}

// parseXLInputs is xenParseXLInputDevs: usbdevice as a string or a list.
func (c *conf) parseXLInputs(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		return nil
	}
	v, ok := c.lookup("usbdevice")
	if !ok {
		return nil
	}
	items := []virconf.Value{v}
	if v.Kind == virconf.List {
		items = v.List
	}
	for _, it := range items {
		if it.Kind != virconf.String {
			return c.malformed("usbdevice")
		}
		addUSBInput(d, it.Str)
	}
	return nil
}

func addUSBInput(d *libvirtxml.Domain, s string) {
	if t := usbInputs[s]; t != "" {
		d.Devices.Inputs = append(d.Devices.Inputs, libvirtxml.DomainInput{Type: t, Bus: "usb"})
	}
}

// parseXMInputs is xenParseXMInputDevs: a single usbdevice string.
func (c *conf) parseXMInputs(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		return nil
	}
	s, ok, err := c.getString("usbdevice", "")
	if err != nil || !ok {
		return err
	}
	addUSBInput(d, s)
	return nil
}

// parseUSBDevs is xenParseXLUSB: "hostbus=B,hostaddr=A" (hexadecimal).
func (c *conf) parseUSBDevs(d *libvirtxml.Domain) error {
	for _, spec := range c.listStrings("usbdev") {
		kv, ok := splitKV(spec)
		if !ok {
			continue
		}
		var bus, dev string
		for _, p := range kv {
			switch p[0] {
			case "hostbus":
				bus = p[1]
			case "hostaddr":
				dev = p[1]
			}
		}
		b, err1 := strconv.ParseUint(bus, 16, 32)
		a, err2 := strconv.ParseUint(dev, 16, 32)
		if err1 != nil || err2 != nil {
			continue
		}
		ub, ua := uint(b), uint(a)
		d.Devices.Hostdevs = append(d.Devices.Hostdevs, libvirtxml.DomainHostdev{Managed: "no",
			SubsysUSB: &libvirtxml.DomainHostdevSubsysUSB{Source: &libvirtxml.DomainHostdevSubsysUSBSource{
				Address: &libvirtxml.DomainAddressUSB{Bus: &ub, Device: &ua}}}})
	}
	return nil
}

// parseUSBCtrls is xenParseXLUSBController: "type=qusb,version=2,ports=8".
func (c *conf) parseUSBCtrls(d *libvirtxml.Domain) error {
	for _, spec := range c.listStrings("usbctrl") {
		kv, ok := splitKV(spec)
		if !ok {
			continue
		}
		typ, version, ports := "", int64(2), int64(8)
		bad := false
		for _, p := range kv {
			var err error
			switch p[0] {
			case "type":
				typ = p[1]
			case "version":
				version, err = strconv.ParseInt(p[1], 16, 32)
			case "ports":
				ports, err = strconv.ParseInt(p[1], 16, 32)
			}
			bad = bad || err != nil
		}
		if bad || (typ != "" && !strings.HasPrefix(typ, "qusb")) {
			continue
		}
		model := "qusb2"
		if version == 1 {
			model = "qusb1"
		}
		pu := uint(ports)
		d.Devices.Controllers = append(d.Devices.Controllers, libvirtxml.DomainController{
			Type: "usb", Model: model, USB: &libvirtxml.DomainControllerUSB{Port: &pu}})
	}
	return nil
}

// parseDMArgs is xenParseXLNamespaceData: device_model_args.
func (c *conf) parseDMArgs(d *libvirtxml.Domain) error {
	args := c.listStrings("device_model_args")
	if len(args) == 0 {
		return nil
	}
	cl := &libvirtxml.DomainXenCommandline{}
	for _, a := range args {
		cl.Args = append(cl.Args, libvirtxml.DomainXenCommandlineArg{Value: a})
	}
	d.XenCommandline = cl
	return nil
}

// parseXenbus is xenParseXLXenbusLimits.
func (c *conf) parseXenbus(d *libvirtxml.Domain) error {
	ev, err := c.getULong("max_event_channels", 0)
	if err != nil {
		return err
	}
	gf, err := c.getULong("max_grant_frames", 0)
	if err != nil {
		return err
	}
	idx := uint(0)
	d.Devices.Controllers = append(d.Devices.Controllers, libvirtxml.DomainController{
		Type: "xenbus", Index: &idx,
		XenBus: &libvirtxml.DomainControllerXenBus{MaxEventChannels: uint(ev), MaxGrantFrames: uint(gf)}})
	return nil
}
