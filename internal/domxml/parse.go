package domxml

import (
	"errors"
	"fmt"
	"math"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// parseDocument checks well-formedness and the root element, reporting
// what virXMLParseHelper reports: VIR_ERR_XML_DETAIL from the caller's
// domain (VIR_FROM_DOMAIN) with "at line N: <libxml2 message>", and
// VIR_ERR_XML_ERROR from VIR_FROM_XML for a wrong root.
func parseDocument(doc string) (*node, error) {
	return parseDocumentNamed(doc, "[inline data]", "domain")
}

// parseDocumentNamed is parseDocument for a document libvirt names docname
// in its "failed to parse" error, whose root must be rootName ("" takes
// any root, as a device definition's parse does).
func parseDocumentNamed(doc, docname, rootName string) (*node, error) {
	root, err := parseTree(doc)
	if err != nil {
		var se *syntaxError
		if errors.As(err, &se) {
			ctx, ptr := errorContext(doc, se)
			return nil, virerr.New(virerr.FromDomain, libvirt.ErrXMLDetail,
				"at line %d: %s\n%s\n%s", se.line, se.msg, ctx, ptr)
		}
		return nil, virerr.New(virerr.FromDomain, libvirt.ErrXMLError,
			"failed to parse xml document '%s'", docname)
	}
	if rootName != "" && root.name != rootName {
		return nil, virerr.New(virerr.FromXML, libvirt.ErrXMLError,
			"expecting root element of '%s', not '%s'", rootName, root.name)
	}
	return root, nil
}

// errorContext is catchXMLError's context line and "----^" pointer.
func errorContext(doc string, se *syntaxError) (string, string) {
	if se.offset < 0 || doc == "" {
		return "(null)", "^"
	}
	off := int(se.offset)
	if off > len(doc) {
		off = len(doc)
	}
	cur := off
	if cur == len(doc) && cur > 0 {
		cur--
	}
	for cur > 0 && (doc[cur] == '\n' || doc[cur] == '\r') {
		cur--
	}
	start := strings.LastIndexAny(doc[:cur+1], "\r\n") + 1
	end := strings.IndexAny(doc[start:], "\r\n")
	line := doc[start:]
	if end >= 0 {
		line = doc[start : start+end]
	}
	col := off - start
	if col > len(line) {
		col = len(line)
	}
	var ptr strings.Builder
	for i := 0; i < col; i++ {
		if line[i] == '\t' {
			ptr.WriteByte('\t')
		} else {
			ptr.WriteByte('-')
		}
	}
	ptr.WriteByte('^')
	return line, ptr.String()
}

func xmlErr(format string, args ...any) error {
	return virerr.New(virerr.FromDomain, libvirt.ErrXMLError, format, args...)
}

// enumErr is virXMLPropEnum's refusal of an attribute's value, an error
// of libvirt's XML utilities (VIR_FROM_XML), not of the domain parser.
func enumErr(attr, elem, value string) error {
	return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
		"Invalid value for attribute '%s' in element '%s': '%s'.", attr, elem, value)
}

func unsupported(format string, args ...any) error {
	return virerr.New(virerr.FromDomain, libvirt.ErrConfigUnsupported, format, args...)
}

func internalErr(format string, args ...any) error {
	return virerr.New(virerr.FromDomain, libvirt.ErrInternalError, format, args...)
}

// virtTypes are libvirt's virDomainVirtType names; any of them parses,
// only "xen" passes the capabilities check.
var virtTypes = map[string]bool{
	"qemu": true, "kqemu": true, "kvm": true, "xen": true, "lxc": true,
	"uml": true, "openvz": true, "test": true, "vmware": true, "hyperv": true,
	"vbox": true, "phyp": true, "parallels": true, "bhyve": true, "vz": true, "hvf": true,
}

var osTypes = map[string]bool{"hvm": true, "xen": true, "linux": true, "exe": true, "uml": true, "xenpvh": true}

// precheck runs virDomainDefParseIDs/ParseCaps/ParseMemory/VcpuParse checks
// in libvirt's order on the raw tree, where libvirtxml would lose detail.
func precheck(root *node) error {
	name := root.child("name")
	if name == nil || name.content() == "" {
		// virerr has no text for VIR_ERR_NO_NAME; give libvirt's.
		return virerr.New(virerr.FromDomain, libvirt.ErrNoName, "")
	}
	if u := root.child("uuid"); u != nil && u.content() != "" {
		if _, ok := parseUUID(u.content()); !ok {
			return internalErr("malformed uuid element")
		}
	}
	if err := checkGenID(root); err != nil {
		return err
	}
	if err := checkCaps(root); err != nil {
		return err
	}
	if t := root.child("title"); t != nil && strings.Contains(t.content(), "\n") {
		return xmlErr("Domain title can't contain newlines")
	}
	if err := checkSeclabels(root); err != nil {
		return err
	}
	for _, el := range []string{"memory", "currentMemory", "maxMemory"} {
		// An empty one is as none (virXPathString's NULL for "").
		if n := root.child(el); n != nil && n.content() != "" {
			if _, err := scaledKiB(n, "./"+el+"[1]"); err != nil {
				return err
			}
		}
	}
	for _, check := range []func(*node) error{
		checkMaxMemory, checkMemtune, checkVCPU, checkCPUTuneNumbers, checkCPUTune, checkCPUMode,
		checkNUMACells, checkFeatureNames, checkLifecycle, checkClockOffset, checkDeviceValues, checkDiskTargets,
		checkIdmap, checkKeywrap,
	} {
		if err := check(root); err != nil {
			return err
		}
	}
	return nil
}

func checkCaps(root *node) error {
	vt, ok := root.attr("type")
	if !ok || vt == "" {
		return internalErr("missing domain type attribute")
	}
	if !virtTypes[vt] {
		return unsupported("invalid domain type %s", vt)
	}
	var ostype, arch string
	if os := root.child("os"); os != nil {
		if t := os.child("type"); t != nil {
			ostype = t.content()
			arch, _ = t.attr("arch")
		}
	}
	if ostype == "" {
		if bl := root.child("bootloader"); bl == nil || bl.content() == "" {
			return xmlErr("an os <type> must be specified")
		}
	} else if !osTypes[ostype] {
		return unsupported("unknown OS type '%s'", ostype)
	}
	if arch != "" && !KnownArch(arch) {
		return unsupported("Unknown architecture %s", arch)
	}
	return nil
}

func checkVCPU(root *node) error {
	v := root.child("vcpu")
	if v == nil {
		return nil
	}
	// virXPathUInt: blanks before, none after (readUint; and a '-', which
	// libvirt wraps to UINT_MAX vCPUs that its own clients then fail on).
	max, ok := readUint(v.content())
	if !ok || max > math.MaxUint32 {
		return xmlErr("maximum vcpus count must be an integer")
	}
	if s, ok := v.attr("current"); ok {
		// virXMLPropUInt, an error of libvirt's XML utilities.
		cur, ok := readUint(s)
		if !ok || cur > math.MaxUint32 {
			return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
				"Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
				"current", "vcpu", s)
		}
		if cur > max {
			return unsupported("maximum vCPU count must not be less than current vCPU count")
		}
	}
	p, _ := v.attr("placement")
	if p != "" && p != "static" && p != "auto" {
		return enumErr("placement", "vcpu", p)
	}
	if s, ok := v.attr("cpuset"); ok && p != "auto" {
		if _, err := checkCPUSet(s); err != nil {
			return err
		}
	}
	if max == 0 {
		// libvirt's <numa> check refuses no vcpus: the highest CPU id, 0,
		// is not below the count.
		return internalErr("CPU IDs in <numa> exceed the <vcpu> count")
	}
	return nil
}

// scaledKiB is virDomainParseMemory of an element and its unit.
func scaledKiB(n *node, xpath string) (uint64, error) {
	unit, _ := n.attr("unit")
	return scaledValueKiB(n.content(), unit, xpath)
}

// scaledValueKiB is virDomainParseMemory: the number as virStrToLong_ullp
// reads it, times its unit (virScaleInteger, KiB without one), rounded up
// to KiB; at most virMemoryMaxValue (LLONG_MAX bytes on 64-bit hosts).
func scaledValueKiB(s, unit, xpath string) (uint64, error) {
	v, ok := readUint(s)
	if !ok {
		return 0, virerr.New(virerr.FromXML, libvirt.ErrXMLError,
			"Invalid value '%s' for element or attribute '%s'", s, xpath)
	}
	const limit = math.MaxInt64
	bytes, err := virstring.ScaleInteger(v, unit, 1024, limit)
	if err != nil {
		return 0, err
	}
	kib := (bytes + 1023) / 1024
	if kib >= (limit+1023)/1024 {
		return 0, virerr.New(virerr.FromDomain, libvirt.ErrOverflow,
			"%s", "size value too large")
	}
	return kib, nil
}

// isNumber: s reads as virStrToLong_ull (or _ll when signed) reads it,
// with no '+' (readUint).
func isNumber(s string, signed bool) bool {
	if !signed {
		_, ok := readUint(s)
		return ok
	}
	_, ok := virstring.ToLL(s)
	return ok && !strings.Contains(s, "+")
}

// readUint reads an unsigned number as libvirt (virStrToLong_ullp) reads
// it, but for a '+' before it, which libvirt takes and libvirtxml, reading
// the number again with strconv, cannot: such a number is refused in
// libvirt's words for a bad one rather than strconv's.
func readUint(s string) (uint64, bool) {
	v, ok := virstring.ToULLP(s)
	return v, ok && !strings.Contains(s, "+")
}

// unmarshal fills the libvirtxml model; its own errors (bad numbers in
// places precheck does not look at) become XML errors.
func unmarshal(doc string) (d *libvirtxml.Domain, err error) {
	defer func() {
		if r := recover(); r != nil {
			d, err = nil, xmlErr("%v", r)
		}
	}()
	d = &libvirtxml.Domain{}
	if uerr := d.Unmarshal(doc); uerr != nil {
		return nil, xmlErr("%s", uerr.Error())
	}
	// What libvirtxml reads but cannot write (unknown enum values such as
	// a hostdev mode) is also what libvirt refuses; refusing it here keeps
	// Copy and Format total on parsed definitions.
	if _, rerr := roundTrip(d); rerr != nil {
		return nil, xmlErr("%s", rerr.Error())
	}
	return d, nil
}

// parseUUID is virUUIDParse (virstring.ParseUUID); it returns the
// canonical form, lower case 8-4-4-4-12.
func parseUUID(s string) (string, bool) {
	u, ok := virstring.ParseUUID(s)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16]), true
}

// KnownArch reports whether a is one of libvirt's virArch names.
func KnownArch(a string) bool {
	switch a {
	case "alpha", "armv6l", "armv7l", "armv7b", "aarch64", "cris", "i686",
		"ia64", "lm32", "loongarch64", "m68k", "microblaze", "microblazeel",
		"mips", "mipsel", "mips64", "mips64el", "openrisc", "parisc",
		"parisc64", "ppc", "ppcle", "ppc64", "ppc64le", "ppcemb", "riscv32",
		"riscv64", "s390", "s390x", "sh4", "sh4eb", "sparc", "sparc64",
		"unicore32", "x86_64", "xtensa", "xtensaeb":
		return true
	}
	return false
}
