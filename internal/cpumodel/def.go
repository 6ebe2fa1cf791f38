package cpumodel

import (
	"encoding/xml"
	"fmt"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// Type says whether a definition describes a host CPU or a guest's
// (virCPUType).
type Type int

// CPU definition types.
const (
	Host Type = iota
	Guest
	Auto // parse only: host if the XML has <arch>, else guest
)

// Mode is a guest CPU's mode (virCPUMode); host CPUs have ModeNone.
type Mode int

// Guest CPU modes.
const (
	ModeNone        Mode = -1
	Custom          Mode = 0
	HostModel       Mode = 1
	HostPassthrough Mode = 2
	Maximum         Mode = 3
)

var modeNames = []string{"custom", "host-model", "host-passthrough", "maximum"}

// Match is a custom guest CPU's match (virCPUMatch).
type Match int

// Match values.
const (
	Exact Match = iota
	Minimum
	Strict
)

var matchNames = []string{"exact", "minimum", "strict"}

var checkNames = []string{"default", "none", "partial", "full"}

var fallbackNames = []string{"allow", "forbid"}

// Policy is a feature's policy in a guest CPU (virCPUFeaturePolicy); a
// host CPU's features have PolicyNone.
type Policy int

// Feature policies.
const (
	PolicyNone Policy = -1
	Force      Policy = 0
	Require    Policy = 1
	Optional   Policy = 2
	Disable    Policy = 3
	Forbid     Policy = 4
)

var policyNames = []string{"force", "require", "optional", "disable", "forbid"}

// Feature is one named feature of a definition.
type Feature struct {
	Name   string
	Policy Policy
}

// CPU is a CPU definition (virCPUDef) with what the x86 driver and its
// XML use.
type CPU struct {
	Type     Type
	Mode     Mode
	Match    Match
	Check    int // index into checkNames; 0 is default and not formatted
	Fallback int // 0 allow, 1 forbid
	Arch     string
	Model    string
	Vendor   string
	VendorID string
	// Topology, formatted when all five are set.
	Sockets, Dies, Clusters, Cores, Threads uint
	// Signature of a host CPU (family 0: none).
	SigFamily, SigModel, SigStepping uint
	Features                         []Feature
}

// hasFeature reports the index of the named feature, or -1.
func (c *CPU) feature(name string) int {
	for i, f := range c.Features {
		if f.Name == name {
			return i
		}
	}
	return -1
}

// addFeatureIfMissing is virCPUDefAddFeatureIfMissing.
func (c *CPU) addFeatureIfMissing(name string, p Policy) {
	if c.feature(name) < 0 {
		c.Features = append(c.Features, Feature{name, p})
	}
}

// updateFeature is virCPUDefUpdateFeature: set the policy of a listed
// feature, or add it.
func (c *CPU) updateFeature(name string, p Policy) {
	if i := c.feature(name); i >= 0 {
		c.Features[i].Policy = p
		return
	}
	c.Features = append(c.Features, Feature{name, p})
}

// knownArches are virArch's names; "none" is VIR_ARCH_NONE.
var knownArches = map[string]bool{}

func init() {
	for _, a := range strings.Fields("alpha armv6l armv7l armv7b aarch64 cris i686 ia64 lm32 loongarch64 m68k " +
		"microblaze microblazeel mips mipsel mips64 mips64el openrisc parisc parisc64 ppc ppcle ppc64 " +
		"ppc64le ppcemb riscv32 riscv64 s390 s390x sh4 sh4eb sparc sparc64 unicore32 x86_64 xtensa xtensaeb") {
		knownArches[a] = true
	}
}

func isX86(arch string) bool { return arch == "i686" || arch == "x86_64" }

func cpuErr(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromCPU, code, format, args...)
}

// xmlErr is an error of libvirt's XML helpers (virxml.c, VIR_FROM_XML).
func xmlErr(format string, args ...any) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError, format, args...)
}

// The XML of a definition, as encoding/xml reads it once the document is
// known to be well formed.
type (
	xmlElem struct {
		XMLName xml.Name
		Attrs   []xml.Attr `xml:",any,attr"`
		Text    string     `xml:",chardata"`
		Kids    []xmlElem  `xml:",any"`
	}
)

func (e *xmlElem) attr(name string) (string, bool) {
	for _, a := range e.Attrs {
		if a.Name.Space == "" && a.Name.Local == name {
			return a.Value, true
		}
	}
	return "", false
}

func (e *xmlElem) kids(name string) []*xmlElem {
	var out []*xmlElem
	for i := range e.Kids {
		if e.Kids[i].XMLName.Space == "" && e.Kids[i].XMLName.Local == name {
			out = append(out, &e.Kids[i])
		}
	}
	return out
}

func (e *xmlElem) first(name string) *xmlElem {
	if k := e.kids(name); len(k) > 0 {
		return k[0]
	}
	return nil
}

// text is XPath's string() of e: all its character data, descendants'
// included.
func (e *xmlElem) text() string {
	var b strings.Builder
	b.WriteString(e.Text)
	for i := range e.Kids {
		b.WriteString(e.Kids[i].text())
	}
	return b.String()
}

// firstText is virXPathString("string(./name[1])"): "" when absent or
// empty, as libvirt's NULL.
func (e *xmlElem) firstText(name string) string {
	if k := e.first(name); k != nil {
		return k.text()
	}
	return ""
}

// ParseXML is virCPUDefParseXMLString: one <cpu> element of type typ
// (Auto: host if it has <arch>). With validate, the document is checked
// against what libvirt's cpu.rng allows first.
func ParseXML(doc string, typ Type, validate bool) (*CPU, error) {
	root, err := domxml.CheckWellFormed(doc, "(CPU_definition)", virerr.FromCPU)
	if err != nil {
		return nil, err
	}
	var e xmlElem
	if err := xml.Unmarshal([]byte(doc), &e); err != nil {
		return nil, cpuErr(libvirt.ErrXMLError, "failed to parse xml document '%s'", "(CPU_definition)")
	}
	if root != "cpu" {
		return nil, cpuErr(libvirt.ErrXMLError, "XML does not contain expected 'cpu' element")
	}
	if validate {
		if err := validateSchema(&e); err != nil {
			return nil, err
		}
	}
	return parseCPU(&e, typ)
}

func parseCPU(e *xmlElem, typ Type) (*CPU, error) {
	c := &CPU{Type: typ}
	if typ == Auto {
		c.Type = Guest
		if e.first("arch") != nil {
			if _, ok := e.attr("match"); ok {
				return nil, cpuErr(libvirt.ErrXMLError, "'arch' element cannot be used inside 'cpu' element with 'match' attribute'")
			}
			c.Type = Host
		}
	}
	if err := c.parseMode(e); err != nil {
		return nil, err
	}
	if c.Type == Host {
		if err := c.parseHostParts(e); err != nil {
			return nil, err
		}
	}
	c.Model = e.firstText("model")
	if c.Model == "" && c.Type == Host {
		return nil, cpuErr(libvirt.ErrXMLError, "Missing CPU model name")
	}
	if c.Type == Guest && c.Mode != HostPassthrough && c.Mode != Maximum {
		if err := c.parseModelAttrs(e); err != nil {
			return nil, err
		}
	}
	c.Vendor = e.firstText("vendor")
	if c.Vendor != "" && c.Model == "" {
		return nil, cpuErr(libvirt.ErrXMLError, "CPU vendor specified without CPU model")
	}
	if err := c.parseTopology(e); err != nil {
		return nil, err
	}
	if err := c.parseFeatures(e); err != nil {
		return nil, err
	}
	return c, checkExtras(e)
}

func (c *CPU) parseMode(e *xmlElem) error {
	c.Mode = Custom
	if c.Type == Host {
		c.Mode = ModeNone
	}
	if mode, ok := e.attr("mode"); ok {
		if c.Type == Host {
			return cpuErr(libvirt.ErrConfigUnsupported, "Attribute mode is only allowed for guest CPU")
		}
		i := indexOf(modeNames, mode)
		if i < 0 {
			return cpuErr(libvirt.ErrConfigUnsupported, "Invalid mode attribute '%s'", mode)
		}
		c.Mode = Mode(i)
	}
	if v, ok := e.attr("migratable"); ok {
		if v != "on" && v != "off" {
			return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'.", "migratable", "cpu", v)
		}
		if c.Mode != HostPassthrough && c.Mode != Maximum {
			return cpuErr(libvirt.ErrConfigUnsupported, "Attribute migratable is only allowed for 'host-passthrough' / 'maximum' CPU mode")
		}
	}
	if c.Type != Guest {
		return nil
	}
	for _, a := range []struct {
		name  string
		names []string
		dst   *int
	}{{"match", matchNames, (*int)(&c.Match)}, {"check", checkNames, &c.Check}} {
		v, ok := e.attr(a.name)
		if !ok {
			continue
		}
		i := indexOf(a.names, v)
		if i < 0 {
			return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'.", a.name, "cpu", v)
		}
		*a.dst = i
	}
	if v, ok := e.attr("deprecated_features"); ok && v != "on" && v != "off" {
		return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'.", "deprecated_features", "cpu", v)
	}
	return nil
}

func (c *CPU) parseHostParts(e *xmlElem) error {
	arch := e.firstText("arch")
	if arch == "" {
		return cpuErr(libvirt.ErrXMLError, "Missing CPU architecture")
	}
	if !knownArches[arch] {
		return cpuErr(libvirt.ErrConfigUnsupported, "Unknown architecture %s", arch)
	}
	c.Arch = arch
	if m := e.first("microcode"); m != nil {
		if v, ok := m.attr("version"); ok {
			if _, err := parseUint(v); err != nil {
				return cpuErr(libvirt.ErrConfigUnsupported, "invalid microcode version")
			}
		}
	}
	if s := e.first("signature"); s != nil {
		var err error
		if c.SigFamily, err = uintAttr(s, "family", true, true); err != nil {
			return err
		}
		if c.SigModel, err = uintAttr(s, "model", true, false); err != nil {
			return err
		}
		if c.SigStepping, err = uintAttr(s, "stepping", true, false); err != nil {
			return err
		}
	}
	for _, k := range e.kids("counter") {
		if n, _ := k.attr("name"); n != "tsc" {
			continue
		}
		v, ok := k.attr("frequency")
		if !ok {
			return xmlErr("Missing required attribute '%s' in element '%s'", "frequency", "counter")
		}
		if _, err := strconv.ParseUint(v, 10, 64); err != nil {
			return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value", "frequency", "counter", v)
		}
		break
	}
	return nil
}

func (c *CPU) parseModelAttrs(e *xmlElem) error {
	m := e.first("model")
	if m == nil {
		return nil
	}
	if fb, ok := m.attr("fallback"); ok {
		i := indexOf(fallbackNames, fb)
		if i < 0 {
			return cpuErr(libvirt.ErrConfigUnsupported, "Invalid fallback attribute")
		}
		c.Fallback = i
	}
	if id, ok := m.attr("vendor_id"); ok && id != "" {
		if len(id) != 12 {
			return cpuErr(libvirt.ErrXMLError, "vendor_id must be exactly %d characters long", 12)
		}
		if strings.Contains(id, ",") {
			return cpuErr(libvirt.ErrXMLError, "vendor id is invalid")
		}
		c.VendorID = id
	}
	return nil
}

func (c *CPU) parseTopology(e *xmlElem) error {
	t := e.first("topology")
	if t == nil {
		return nil
	}
	var err error
	if c.Sockets, err = uintAttr(t, "sockets", true, true); err != nil {
		return err
	}
	if c.Dies, err = uintAttrDefault(t, "dies", 1); err != nil {
		return err
	}
	if c.Clusters, err = uintAttrDefault(t, "clusters", 1); err != nil {
		return err
	}
	if c.Cores, err = uintAttr(t, "cores", true, true); err != nil {
		return err
	}
	c.Threads, err = uintAttr(t, "threads", true, true)
	return err
}

func (c *CPU) parseFeatures(e *xmlElem) error {
	feats := e.kids("feature")
	if len(feats) > 0 && c.Model == "" && c.Mode == Custom {
		return cpuErr(libvirt.ErrXMLError, "Non-empty feature list specified without CPU model")
	}
	for _, f := range feats {
		p := PolicyNone
		if c.Type == Guest {
			p = Require
			if s, ok := f.attr("policy"); ok {
				i := indexOf(policyNames, s)
				if i < 0 {
					return cpuErr(libvirt.ErrConfigUnsupported, "Invalid CPU feature policy")
				}
				p = Policy(i)
			}
		}
		name, _ := f.attr("name")
		if name == "" {
			return cpuErr(libvirt.ErrXMLError, "Invalid CPU feature name")
		}
		if c.feature(name) >= 0 {
			return cpuErr(libvirt.ErrXMLError, "CPU feature '%s' specified more than once", name)
		}
		c.Features = append(c.Features, Feature{name, p})
	}
	return nil
}

// checkExtras makes the checks libvirt makes of <cache> and <maxphysaddr>,
// which the x86 driver then ignores.
func checkExtras(e *xmlElem) error {
	caches := e.kids("cache")
	if len(caches) > 1 {
		return cpuErr(libvirt.ErrXMLError, "at most one CPU cache element may be specified")
	}
	if len(caches) == 1 {
		k := caches[0]
		if v, ok := k.attr("level"); ok {
			l, err := strconv.Atoi(v)
			if err != nil || l < 0 {
				return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative value", "level", "cache", v)
			}
			if l < 1 || l > 3 {
				return cpuErr(libvirt.ErrXMLError, "invalid CPU cache level, must be in range [1,3]")
			}
		}
		if err := enumAttr(k, "mode", []string{"emulate", "passthrough", "disable"}); err != nil {
			return err
		}
	}
	if m := e.first("maxphysaddr"); m != nil {
		if err := enumAttr(m, "mode", []string{"emulate", "passthrough"}); err != nil {
			return err
		}
		if _, ok := m.attr("limit"); ok {
			if mode, _ := m.attr("mode"); mode != "passthrough" {
				return cpuErr(libvirt.ErrConfigUnsupported, "attribute 'limit' is only supported for maxphysaddr mode 'passthrough'")
			}
		}
	}
	return nil
}

func enumAttr(e *xmlElem, name string, names []string) error {
	v, ok := e.attr(name)
	if !ok {
		return xmlErr("Missing required attribute '%s' in element '%s'", name, e.XMLName.Local)
	}
	if indexOf(names, v) < 0 {
		return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'.", name, e.XMLName.Local, v)
	}
	return nil
}

// parseUint is virStrToLong_uip in base 10 (virstring.ToUIntP): leading
// blanks and a '+' taken, no '-', no trailing text.
func parseUint(s string) (uint, error) {
	v, ok := virstring.ToUIntP(s)
	if !ok {
		return 0, fmt.Errorf("not a non-negative integer")
	}
	return uint(v), nil
}

// uintAttr is virXMLPropUInt with VIR_XML_PROP_REQUIRED and, if nonzero,
// VIR_XML_PROP_NONZERO.
func uintAttr(e *xmlElem, name string, required, nonzero bool) (uint, error) {
	v, ok := e.attr(name)
	if !ok {
		if required {
			return 0, xmlErr("Missing required attribute '%s' in element '%s'", name, e.XMLName.Local)
		}
		return 0, nil
	}
	n, err := parseUint(v)
	if err != nil {
		return 0, xmlErr("Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value", name, e.XMLName.Local, v)
	}
	if nonzero && n == 0 {
		return 0, xmlErr("Invalid value for attribute '%s' in element '%s': Zero is not permitted", name, e.XMLName.Local)
	}
	return n, nil
}

func uintAttrDefault(e *xmlElem, name string, def uint) (uint, error) {
	if _, ok := e.attr(name); !ok {
		return def, nil
	}
	return uintAttr(e, name, false, true)
}

func indexOf(names []string, s string) int {
	for i, n := range names {
		if n == s {
			return i
		}
	}
	return -1
}

// Format is virCPUDefFormat: the definition as libvirt writes it, with a
// trailing newline.
func (c *CPU) Format() string {
	var attrs strings.Builder
	if c.Type == Guest && (c.Mode != Custom || c.Model != "") {
		fmt.Fprintf(&attrs, " mode='%s'", modeNames[c.Mode])
		if c.Mode == Custom {
			fmt.Fprintf(&attrs, " match='%s'", matchNames[c.Match])
		}
		if c.Check != 0 {
			fmt.Fprintf(&attrs, " check='%s'", checkNames[c.Check])
		}
	}
	var kids strings.Builder
	if c.Type == Host && c.Arch != "" {
		fmt.Fprintf(&kids, "  <arch>%s</arch>\n", c.Arch)
	}
	formatModel := c.Mode == Custom || c.Mode == HostModel
	if formatModel && (c.Model != "" || c.VendorID != "") {
		kids.WriteString("  <model")
		if c.Type == Guest && c.Model != "" {
			fmt.Fprintf(&kids, " fallback='%s'", fallbackNames[c.Fallback])
		}
		if c.Type == Guest && c.VendorID != "" {
			fmt.Fprintf(&kids, " vendor_id='%s'", virstring.EscapeString(c.VendorID))
		}
		if c.Model != "" {
			fmt.Fprintf(&kids, ">%s</model>\n", virstring.EscapeString(c.Model))
		} else {
			kids.WriteString("/>\n")
		}
	}
	if formatModel && c.Vendor != "" {
		fmt.Fprintf(&kids, "  <vendor>%s</vendor>\n", virstring.EscapeString(c.Vendor))
	}
	if c.Type == Host && c.SigFamily != 0 {
		fmt.Fprintf(&kids, "  <signature family='%d' model='%d' stepping='%d'/>\n", c.SigFamily, c.SigModel, c.SigStepping)
	}
	if c.Sockets != 0 && c.Dies != 0 && c.Clusters != 0 && c.Cores != 0 && c.Threads != 0 {
		fmt.Fprintf(&kids, "  <topology sockets='%d' dies='%d' clusters='%d' cores='%d' threads='%d'/>\n",
			c.Sockets, c.Dies, c.Clusters, c.Cores, c.Threads)
	}
	for _, f := range c.Features {
		if c.Type == Guest {
			fmt.Fprintf(&kids, "  <feature policy='%s' name='%s'/>\n", policyNames[f.Policy], f.Name)
		} else {
			fmt.Fprintf(&kids, "  <feature name='%s'/>\n", f.Name)
		}
	}
	if kids.Len() == 0 {
		if attrs.Len() == 0 {
			return ""
		}
		return "<cpu" + attrs.String() + "/>\n"
	}
	return "<cpu" + attrs.String() + ">\n" + kids.String() + "</cpu>\n"
}
