package domxml

import (
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
	"virtxend/internal/virstring"
)

// The checks of virDomainDefParseXML that libvirtxml does not make, or
// makes with strconv's words where libvirt has its own: values that are
// not of libvirt's enumerations (libvirtxml keeps any string, or drops an
// element it does not know), and numbers that do not parse. Each found
// wrong in a comparison with libvirtd 9.0's own parser (its test driver)
// and libvirt's Xen driver (test/xen's oracle-errors). Run in libvirt's
// order by precheck.

// checkGenID is virDomainDefParseIDs' reading of <genid>.
func checkGenID(root *node) error {
	if g := root.child("genid"); g != nil && g.content() != "" {
		if _, ok := parseUUID(g.content()); !ok {
			return internalErr("malformed genid element")
		}
	}
	return nil
}

// tunableNumbers are the numbers of virDomainDefTunablesParse read with
// virXPathULongLong or virXPathLongLong, each with libvirt's message for
// one that does not parse.
var tunableNumbers = []struct {
	elem, name string
	signed     bool
}{
	{"shares", "shares", false},
	{"period", "period", false},
	{"quota", "quota", true},
	{"global_period", "global period", false},
	{"global_quota", "global quota", true},
	{"emulator_period", "emulator period", false},
	{"emulator_quota", "emulator quota", true},
	{"iothread_period", "iothread period", false},
	{"iothread_quota", "iothread quota", true},
}

// checkMemtune is virDomainDefTunablesParse's reading of <memtune>'s
// sizes (virDomainParseMemoryLimit).
func checkMemtune(root *node) error {
	mt := root.child("memtune")
	if mt == nil {
		return nil
	}
	for _, el := range []string{"hard_limit", "soft_limit", "min_guarantee", "swap_hard_limit"} {
		if n := mt.child(el); n != nil {
			if _, err := scaledKiB(n, "./memtune/"+el+"[1]"); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkCPUTuneNumbers is what virDomainDefTunablesParse refuses of
// <iothreads> and <cputune>'s numbers, after the vCPUs. A '+' before a
// number, which libvirt takes, is refused as a bad number: libvirtxml
// reads the numbers again with strconv, which has none.
func checkCPUTuneNumbers(root *node) error {
	if n := root.child("iothreads"); n != nil {
		if s := n.content(); s != "" && !isNumber(s, false) {
			return xmlErr("invalid iothreads count '%s'", s)
		}
	}
	tune := root.child("cputune")
	if tune == nil {
		return nil
	}
	for _, t := range tunableNumbers {
		n := tune.child(t.elem)
		if n == nil || n.content() == "" {
			continue
		}
		if !isNumber(n.content(), t.signed) {
			return xmlErr("can't parse cputune %s value", t.name)
		}
	}
	return nil
}

// checkCPUMode is virCPUDefParseXML's reading of a guest CPU's mode.
func checkCPUMode(root *node) error {
	cpu := root.child("cpu")
	if cpu == nil {
		return nil
	}
	if m, ok := cpu.attr("mode"); ok {
		switch m {
		case "custom", "host-model", "host-passthrough", "maximum":
		default:
			return virerr.New(virerr.FromCPU, libvirt.ErrConfigUnsupported, "Invalid mode attribute '%s'", m)
		}
	}
	return nil
}

// checkNUMACells is virDomainNumaDefParseXML's reading of each cell's
// memory (virDomainParseMemory of ./@memory).
func checkNUMACells(root *node) error {
	cpu := root.child("cpu")
	if cpu == nil {
		return nil
	}
	numa := cpu.child("numa")
	if numa == nil {
		return nil
	}
	for _, cell := range numa.elems() {
		if cell.localName() != "cell" {
			continue
		}
		mem, ok := cell.attr("memory")
		if !ok {
			continue // libvirtxml's own check, and libvirt's, follow
		}
		unit, _ := cell.attr("unit")
		if _, err := scaledValueKiB(mem, unit, "./@memory"); err != nil {
			return err
		}
	}
	return nil
}

// checkFeatureNames is virDomainFeaturesDefParse's refusal of an element
// of <features> that is no feature (libvirtxml drops it without a word).
// The names are libvirt 11.3's (featureOrder).
func checkFeatureNames(root *node) error {
	f := root.child("features")
	if f == nil {
		return nil
	}
	for _, e := range f.elems() {
		if !slices.Contains(featureOrder, e.localName()) {
			return unsupported("unexpected feature '%s'", e.localName())
		}
	}
	return nil
}

// lifecycleActions are virDomainLifecycleAction's names; lockFailures
// virDomainLockFailure's.
var (
	lifecycleActions = []string{"destroy", "restart", "rename-restart", "preserve", "coredump-destroy", "coredump-restart"}
	lockFailures     = []string{"default", "poweroff", "restart", "pause", "ignore"}
)

// checkLifecycle is virDomainDefLifecycleParse: the actions, then the
// power management states (virXMLPropTristateBool: yes or no).
func checkLifecycle(root *node) error {
	for _, a := range []struct {
		elem  string
		names []string
	}{{"on_reboot", lifecycleActions}, {"on_poweroff", lifecycleActions}, {"on_crash", lifecycleActions}, {"on_lockfailure", lockFailures}} {
		n := root.child(a.elem)
		if n == nil || n.content() == "" {
			continue
		}
		if !slices.Contains(a.names, n.content()) {
			return unsupported("unknown %s action: %s", a.elem, n.content())
		}
	}
	if pm := root.child("pm"); pm != nil {
		for _, st := range []string{"suspend-to-mem", "suspend-to-disk"} {
			if n := pm.child(st); n != nil {
				if v, ok := n.attr("enabled"); ok && v != "yes" && v != "no" {
					return enumErr("enabled", st, v)
				}
			}
		}
	}
	return nil
}

// checkClockOffset is virDomainDefClockParse's reading of the offset.
func checkClockOffset(root *node) error {
	c := root.child("clock")
	if c == nil {
		return nil
	}
	if o, ok := c.attr("offset"); ok && o != "" &&
		!slices.Contains([]string{"utc", "localtime", "variable", "timezone", "absolute"}, o) {
		return unsupported("unknown clock offset '%s'", o)
	}
	return nil
}

// checkCPUTuneRanges is virDomainDefCputuneValidate: the cgroup limits of
// shares, periods and quotas (0 is unset).
func checkCPUTuneRanges(d *libvirtxml.Domain, _ *Options) error {
	t := d.CPUTune
	if t == nil {
		return nil
	}
	if t.Shares != nil && t.Shares.Value > 0 && (t.Shares.Value < 2 || t.Shares.Value > 262144) {
		return unsupported("Value of cputune 'shares' must be in range [2, 262144]")
	}
	for _, p := range []struct {
		name string
		v    *uint64
	}{
		{"period", periodOf(t.Period)}, {"global_period", periodOf(t.GlobalPeriod)},
		{"emulator_period", periodOf(t.EmulatorPeriod)}, {"iothread_period", periodOf(t.IOThreadPeriod)},
	} {
		if p.v != nil && *p.v > 0 && (*p.v < 1000 || *p.v > 1000000) {
			return unsupported("Value of cputune '%s' must be in range [1000, 1000000]", p.name)
		}
	}
	for _, q := range []struct {
		name string
		v    *int64
	}{
		{"quota", quotaOf(t.Quota)}, {"global_quota", quotaOf(t.GlobalQuota)},
		{"emulator_quota", quotaOf(t.EmulatorQuota)}, {"iothread_quota", quotaOf(t.IOThreadQuota)},
	} {
		if q.v != nil && *q.v > 0 && (*q.v < 1000 || *q.v > 17592186044415) {
			return unsupported("Value of cputune '%s' must be in range [1000, 17592186044415]", q.name)
		}
	}
	return nil
}

func periodOf(p *libvirtxml.DomainCPUTunePeriod) *uint64 {
	if p == nil {
		return nil
	}
	return &p.Value
}

func quotaOf(q *libvirtxml.DomainCPUTuneQuota) *int64 {
	if q == nil {
		return nil
	}
	return &q.Value
}

// checkSeclabels is virSecurityLabelDefParseXML's reading of a domain
// <seclabel>'s type (virXMLPropEnum, not "default").
func checkSeclabels(root *node) error {
	for _, sl := range root.elems() {
		if sl.localName() != "seclabel" {
			continue
		}
		if t, ok := sl.attr("type"); ok && !slices.Contains([]string{"none", "dynamic", "static"}, t) {
			return enumErr("type", "seclabel", t)
		}
	}
	return nil
}

// checkMaxMemory is virDomainDefParseMemory's pairing of <maxMemory> with
// its slots, before the driver says whether it has memory hotplug.
func checkMaxMemory(root *node) error {
	mm := root.child("maxMemory")
	if mm == nil {
		return nil
	}
	var slots uint32
	if s, ok := mm.attr("slots"); ok && s != "" {
		var good bool
		if slots, good = virstring.ToUIntP(s); !good {
			return xmlErr("Failed to parse memory slot count")
		}
	}
	kib, _ := scaledKiB(mm, "./maxMemory[1]") // checked before
	if (kib != 0) != (slots != 0) {
		return xmlErr("both maximum memory size and memory slot count must be specified")
	}
	return nil
}

// checkIdmap is virDomainIdmapDefParseXML: every <uid> and <gid> needs
// its start, target and count.
func checkIdmap(root *node) error {
	im := root.child("idmap")
	if im == nil {
		return nil
	}
	for _, m := range im.elems() {
		if m.localName() != "uid" && m.localName() != "gid" {
			continue
		}
		for _, a := range []string{"start", "target", "count"} {
			if v, ok := m.attr(a); !ok || !isNumber(v, false) {
				return xmlErr("invalid idmap start/target/count settings")
			}
		}
	}
	return nil
}

// checkKeywrap is virDomainKeyWrapCipherDefParseXML: a cipher is aes or
// dea, on or off.
func checkKeywrap(root *node) error {
	kw := root.child("keywrap")
	if kw == nil {
		return nil
	}
	for _, c := range kw.elems() {
		if c.localName() != "cipher" {
			continue
		}
		for _, a := range []struct {
			attr   string
			values []string
		}{{"name", []string{"aes", "dea"}}, {"state", []string{"on", "off"}}} {
			v, ok := c.attr(a.attr)
			if !ok {
				return requiredAttr(a.attr, "cipher")
			}
			if !slices.Contains(a.values, v) {
				return enumErr(a.attr, "cipher", v)
			}
		}
	}
	return nil
}
