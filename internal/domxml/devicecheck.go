package domxml

import (
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// The values libvirt's device parsers (domain_conf.c, 9.0) refuse that
// libvirtxml keeps, or refuses in its own words ("did not consume entire
// element"): each attribute's names, and how libvirt says no. Found by
// comparing define with libvirtd 9.0 (test/driver's
// TestDefineAnswersAsLibvirtd). Checked on the raw tree, for a definition
// (precheck) and for a device alone (ParseDevice).

// valueRule is one attribute of a device's element (path: the elements
// below the device, none for the device's own) and the values libvirt
// takes.
type valueRule struct {
	path   []string
	attr   string
	values []string
	// refuse is libvirt's error for a value not among them; nil:
	// virXMLPropEnum's (enumErr).
	refuse func(v string) error
	// missing is libvirt's error for an element without the attribute;
	// nil: the attribute is optional.
	missing error
}

// requiredAttr is virXMLPropEnum's refusal of an element without a
// VIR_XML_PROP_REQUIRED attribute.
func requiredAttr(attr, elem string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError, "Missing required attribute '%s' in element '%s'", attr, elem)
}

func configErr(format string) func(string) error {
	return func(v string) error { return unsupported(format, v) }
}

// chrTypes are virDomainChr's names: what a character device's type may be.
var chrTypes = []string{"null", "vc", "pty", "dev", "file", "pipe", "stdio", "udp", "tcp", "unix",
	"spicevmc", "spiceport", "nmdm", "qemu-vdagent", "dbus"}

var chrType = valueRule{attr: "type", values: chrTypes,
	refuse: configErr("unknown type presented to host for character device: %s")}

// chrTarget is the target types a kind of character device takes
// (virDomainChrTargetTypeFromString).
func chrTarget(types ...string) valueRule {
	return valueRule{path: []string{"target"}, attr: "type", values: types,
		refuse: configErr("unknown target type '%s' specified for character device")}
}

// deviceRules, by device element. Index 0 of an enumeration that libvirt
// reads with VIR_XML_PROP_NONZERO ("none" of a disk bus, "default" of an
// I/O mode) is left out of its names, as libvirt refuses it.
var deviceRules = map[string][]valueRule{
	"disk": {
		{attr: "snapshot", values: []string{"no", "internal", "external", "manual"}},
		{path: []string{"driver"}, attr: "cache", values: []string{"default", "none", "writethrough", "writeback", "directsync", "unsafe"}},
		{path: []string{"driver"}, attr: "io", values: []string{"native", "threads", "io_uring"}},
		{path: []string{"source"}, attr: "startupPolicy", values: []string{"mandatory", "requisite", "optional"}},
		{path: []string{"target"}, attr: "bus", values: []string{"ide", "fdc", "scsi", "virtio", "xen", "usb", "uml", "sata", "sd", "nvme"}},
	},
	"controller": {
		{attr: "type", values: []string{"ide", "fdc", "scsi", "sata", "virtio-serial", "ccid", "usb", "pci", "xenbus", "isa"}},
	},
	"interface": {
		{attr: "type", values: []string{"user", "ethernet", "vhostuser", "server", "client", "mcast", "network", "bridge",
			"internal", "direct", "hostdev", "udp", "vdpa", "null", "vds"}},
		{path: []string{"link"}, attr: "state", values: []string{"up", "down"}, refuse: configErr("unknown interface link state '%s'")},
	},
	"serial": {chrType, chrTarget("none", "isa-serial", "usb-serial", "pci-serial", "spapr-vio-serial",
		"system-serial", "sclp-serial", "isa-debug")},
	"parallel": {chrType},
	"console":  {chrType, chrTarget("none", "serial", "xen", "uml", "virtio", "lxc", "openvz", "sclp", "sclplm")},
	"channel":  {chrType, chrTarget("none", "guestfwd", "virtio", "xen")},
	"input": {
		{attr: "type", values: []string{"mouse", "tablet", "keyboard", "passthrough", "evdev"}, refuse: configErr("unknown input device type '%s'"),
			missing: internalErr("missing input device type")},
		{attr: "bus", values: []string{"ps2", "usb", "xen", "parallels", "virtio", "none"}, refuse: configErr("unknown input bus type '%s'")},
	},
	"graphics": {
		{attr: "type", values: []string{"sdl", "vnc", "rdp", "desktop", "spice", "egl-headless", "dbus"},
			missing: requiredAttr("type", "graphics")},
		{path: []string{"listen"}, attr: "type", values: []string{"none", "address", "network", "socket"},
			missing: requiredAttr("type", "listen")},
	},
	"sound": {
		{attr: "model", values: []string{"sb16", "es1370", "pcspk", "ac97", "ich6", "ich9", "usb", "ich7"},
			missing: requiredAttr("model", "sound")},
	},
	"video": {
		{path: []string{"model"}, attr: "type", values: []string{"default", "vga", "cirrus", "vmvga", "xen", "vbox", "qxl",
			"parallels", "virtio", "gop", "none", "bochs", "ramfb"}, refuse: configErr("unknown video model '%s'")},
	},
	"watchdog": {
		{attr: "model", values: []string{"i6300esb", "ib700", "diag288", "itco"}, refuse: configErr("unknown watchdog model '%s'")},
	},
	"memballoon": {
		{attr: "model", values: []string{"virtio", "xen", "none", "virtio-transitional", "virtio-non-transitional"},
			missing: requiredAttr("model", "memballoon")},
	},
	"rng": {
		{attr: "model", values: []string{"virtio", "virtio-transitional", "virtio-non-transitional"}, refuse: configErr("unknown RNG model '%s'")},
	},
	"tpm": {
		{attr: "model", values: []string{"tpm-tis", "tpm-crb", "tpm-spapr", "spapr-tpm-proxy"}},
	},
}

// deviceOrder is the order in which virDomainDefParseXML reads the kinds
// of device, so that of several wrong ones the first libvirt meets is
// the one refused.
var deviceOrder = []string{"disk", "controller", "interface", "parallel", "serial", "console", "channel",
	"input", "graphics", "sound", "video", "hostdev", "watchdog", "memballoon", "rng", "tpm"}

// checkDeviceValues is the rules of the devices of a definition, kind by
// kind in libvirt's order.
func checkDeviceValues(root *node) error {
	devs := root.child("devices")
	if devs == nil {
		return nil
	}
	for _, kind := range deviceOrder {
		for _, d := range devs.elems() {
			if d.localName() != kind {
				continue
			}
			if err := checkDeviceNode(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkDeviceNode is the rules of one device element: its values, then
// its numbers.
func checkDeviceNode(d *node) error {
	if err := checkDeviceEnums(d); err != nil {
		return err
	}
	return checkDeviceNumbers(d)
}

// addressTypes are virDomainDeviceAddress's names but "none", which
// libvirt refuses too.
var addressTypes = []string{"pci", "drive", "virtio-serial", "ccid", "usb", "spapr-vio", "virtio-s390",
	"ccw", "virtio-mmio", "isa", "dimm", "unassigned"}

// sourcedNets are the interface types virDomainNetDefParseXML wants a
// <source> of (virDomainNetDefParseXMLRequireSource).
var sourcedNets = []string{"network", "vds", "internal", "bridge", "direct", "vdpa", "client", "server", "mcast", "udp"}

// checkDeviceShape is what libvirt requires of a device's parts before
// their values: a known address type, a source for the interfaces and
// host devices that need one, a known host device type.
func checkDeviceShape(d *node) error {
	if a := d.child("address"); a != nil {
		t, ok := a.attr("type")
		if ok && !slices.Contains(addressTypes, t) {
			return unsupported("unknown address type '%s'", t)
		}
		if t == "pci" {
			if err := checkPCIAddress(a); err != nil {
				return err
			}
		}
	}
	switch d.localName() {
	case "interface":
		if t, _ := d.attr("type"); slices.Contains(sourcedNets, t) && d.child("source") == nil {
			return xmlErr("interface type='%s' requires a 'source' element", t)
		}
	case "hostdev":
		return checkHostdevShape(d)
	}
	return nil
}

// checkHostdevShape is libvirt 11.3's virDomainHostdevDefParseXML: a
// known mode (subsystem when absent), a type that mode knows, required,
// then a source, read with virXMLPropEnum's words where 9.0 had its own
// ("unknown hostdev mode 'x'"; we follow 11.3).
func checkHostdevShape(d *node) error {
	types := []string{"usb", "pci", "scsi", "scsi_host", "mdev"}
	switch m, set := d.attr("mode"); {
	case m == "capabilities":
		types = []string{"storage", "misc", "net"}
	case set && m != "subsystem":
		return enumErr("mode", "hostdev", m)
	}
	t, set := d.attr("type")
	switch {
	case !set:
		return requiredAttr("type", "hostdev")
	case !slices.Contains(types, t):
		return enumErr("type", "hostdev", t)
	case d.child("source") == nil:
		return xmlErr("Missing <source> element in hostdev device")
	}
	if a := d.descend([]string{"source", "address"}); t == "pci" && a != nil {
		return checkPCIAddress(a)
	}
	return nil
}

// checkPCIAddress is virPCIDeviceAddressParseXML: domain, bus, slot and
// function read as virXMLPropUInt reads them in any base, multifunction
// on or off, and an address that names a device within PCI's ranges. A
// '+' or blank before a number, which libvirt takes and libvirtxml's
// strconv cannot, is refused with the others.
func checkPCIAddress(a *node) error {
	var v [4]uint32
	for i, name := range []string{"domain", "bus", "slot", "function"} {
		s, set := a.attr(name)
		if !set {
			continue
		}
		n, ok := virstring.ToUIntPAnyBase(s)
		if !ok || s[0] < '0' || s[0] > '9' { // no '+' or blank before it
			return propUIntErr(a.localName(), name, s)
		}
		v[i] = n
	}
	if m, set := a.attr("multifunction"); set && m != "on" && m != "off" {
		return enumErr("multifunction", a.localName(), m)
	}
	domain, bus, slot, function := v[0], v[1], v[2], v[3]
	pciErr := func(format string, args ...any) error {
		return virerr.New(virerr.FromNone, libvirt.ErrXMLError, format, args...)
	}
	switch {
	case domain == 0 && bus == 0 && slot == 0: // empty: not checked
	case bus > 0xFF:
		return pciErr("Invalid PCI address bus='0x%x', must be <= 0xFF", bus)
	case slot > 0x1F:
		return pciErr("Invalid PCI address slot='0x%x', must be <= 0x1F", slot)
	case function > 7:
		return pciErr("Invalid PCI address function=0x%x, must be <= 7", function)
	}
	return nil
}

func checkDeviceEnums(d *node) error {
	if err := checkDeviceShape(d); err != nil {
		return err
	}
	for _, r := range deviceRules[d.localName()] {
		n := d.descend(r.path)
		if n == nil {
			continue
		}
		v, ok := n.attr(r.attr)
		if !ok && r.missing != nil {
			return r.missing
		}
		if !ok || slices.Contains(r.values, v) {
			continue
		}
		if r.refuse != nil {
			return r.refuse(v)
		}
		return enumErr(r.attr, n.localName(), v)
	}
	return nil
}

// numberRule is a number of a device's element that libvirt reads with
// its own message for one that does not parse (libvirtxml reads it again
// with strconv, whose words would show): path below the device, the
// attribute. A '+' is refused too: strconv has none.
type numberRule struct {
	path   []string
	attr   string
	signed bool
	refuse func(elem, v string) error
}

func propUIntErr(elem, attr, v string) error {
	return propErr(attr, elem, v, "Expected non-negative integer value")
}

func propErr(attr, elem, v, expected string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
		"Invalid value for attribute '%s' in element '%s': '%s'. %s", attr, elem, v, expected)
}

var chrPort = numberRule{path: []string{"target"}, attr: "port",
	refuse: func(_, v string) error { return xmlErr("Invalid port number: %s", v) }}

var bootOrder = numberRule{path: []string{"boot"}, attr: "order",
	refuse: func(elem, v string) error { return propUIntErr(elem, "order", v) }}

var numberRules = map[string][]numberRule{
	"disk": {bootOrder},
	"controller": {{attr: "index", signed: true,
		refuse: func(elem, v string) error { return propErr("index", elem, v, "Expected integer value") }}},
	"interface": {bootOrder,
		{path: []string{"mtu"}, attr: "size", refuse: func(_, _ string) error { return xmlErr("malformed mtu size") }}},
	"hostdev":  {bootOrder},
	"serial":   {chrPort},
	"parallel": {chrPort},
	"console":  {chrPort},
	"video": {
		{path: []string{"model"}, attr: "vram", refuse: func(_, v string) error { return xmlErr("cannot parse video vram '%s'", v) }},
		{path: []string{"model"}, attr: "ram", refuse: func(_, v string) error { return xmlErr("cannot parse video ram '%s'", v) }},
		{path: []string{"model"}, attr: "heads", refuse: func(_, v string) error { return xmlErr("cannot parse video heads '%s'", v) }},
	},
}

// checkDeviceNumbers is the number rules of one device element, and the
// ones libvirt reads per child: a disk's <iotune> fields, an interface's
// bandwidth, a graphics device's ports.
func checkDeviceNumbers(d *node) error {
	for _, r := range numberRules[d.localName()] {
		n := d.descend(r.path)
		if n == nil {
			continue
		}
		if v, ok := n.attr(r.attr); ok && !isNumber(v, r.signed) {
			return r.refuse(n.localName(), v)
		}
	}
	switch d.localName() {
	case "disk":
		if io := d.child("iotune"); io != nil {
			for _, f := range io.elems() {
				if f.localName() != "group_name" && !isNumber(f.content(), false) {
					return xmlErr("disk iotune field '%s' must be an integer", f.localName())
				}
			}
		}
	case "interface":
		if bw := d.child("bandwidth"); bw != nil {
			t, _ := d.attr("type")
			return checkBandwidth(bw, t == "network")
		}
	case "graphics":
		t, _ := d.attr("type")
		if v, ok := d.attr("port"); ok && (t == "vnc" || t == "rdp") && !isNumber(v, true) {
			return internalErr("cannot parse %s port %s", t, v)
		}
		for _, a := range graphicsInts[t] {
			if v, ok := d.attr(a); ok && !isNumber(v, true) {
				return propErr(a, "graphics", v, "Expected integer value")
			}
		}
	}
	return nil
}

// checkBandwidth makes virNetDevBandwidthParse's checks of an interface's
// <bandwidth>: one <inbound> and one <outbound> at most, each with an
// average (or an inbound floor, which only an interface on a network may
// have), and whole numbers; other children are ignored, as libvirt ignores
// them. A domain's interface has no class id.
func checkBandwidth(bw *node, allowFloor bool) error {
	if _, ok := bw.attr("classID"); ok {
		return noneErr(libvirt.ErrXMLDetail, "classID attribute not supported on <bandwidth> in this usage context")
	}
	var in, out *node
	for _, dir := range bw.elems() {
		switch dir.localName() {
		case "inbound":
			if in != nil {
				return noneErr(libvirt.ErrXMLDetail, "Only one child <inbound> element allowed")
			}
			in = dir
		case "outbound":
			if out != nil {
				return noneErr(libvirt.ErrXMLDetail, "Only one child <outbound> element allowed")
			}
			out = dir
		}
	}
	if in != nil {
		floor, err := checkBandwidthRate(in)
		if err != nil {
			return err
		}
		if floor && !allowFloor {
			return noneErr(libvirt.ErrConfigUnsupported, "floor attribute is not supported for this config")
		}
	}
	if out != nil {
		floor, err := checkBandwidthRate(out)
		if err != nil {
			return err
		}
		if floor {
			return noneErr(libvirt.ErrConfigUnsupported, "'floor' attribute allowed only in <inbound> element")
		}
	}
	return nil
}

// checkBandwidthRate is virNetDevBandwidthParseRate's checks of an
// <inbound> or <outbound>, in its order; floor reports a floor other than
// 0.
func checkBandwidthRate(dir *node) (floor bool, err error) {
	average, hasAverage := dir.attr("average")
	_, hasFloor := dir.attr("floor")
	_, hasPeak := dir.attr("peak")
	_, hasBurst := dir.attr("burst")
	switch {
	case hasAverage && !isNumber(average, false):
		return false, bandwidthValueErr("average", average)
	case !hasAverage && !hasFloor:
		return false, noneErr(libvirt.ErrXMLDetail, "Missing mandatory average or floor attributes")
	case (hasPeak || hasBurst) && !hasAverage:
		return false, noneErr(libvirt.ErrConfigUnsupported, "'peak' and 'burst' require 'average' attribute")
	}
	for _, a := range []string{"peak", "burst", "floor"} {
		if v, ok := dir.attr(a); ok && !isNumber(v, false) {
			return false, bandwidthValueErr(a, v)
		}
	}
	v, _ := dir.attr("floor")
	f, _ := readUint(v)
	return f != 0, nil
}

func bandwidthValueErr(attr, v string) error {
	return noneErr(libvirt.ErrConfigUnsupported, "could not convert bandwidth %s value '%s'", attr, v)
}

func noneErr(code libvirt.ErrorNumber, format string, args ...any) error {
	return virerr.New(virerr.FromNone, code, format, args...)
}

// graphicsInts are the graphics attributes libvirt reads with
// virXMLPropInt, by type: what the type has (a VNC tlsPort is no
// attribute of libvirt's, nor of libvirtxml's).
var graphicsInts = map[string][]string{
	"vnc":   {"websocket"},
	"spice": {"port", "tlsPort"},
}

// descend is the element at path below n (its first child of each name),
// nil if there is none.
func (n *node) descend(path []string) *node {
	for _, p := range path {
		if n = n.child(p); n == nil {
			return nil
		}
	}
	return n
}
