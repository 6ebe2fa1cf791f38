package cpumodel

import (
	"embed"
	"encoding/binary"
	"encoding/xml"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"
)

// cpuMap holds libvirt 11.3's src/cpu_map, unchanged (see its README).
//
//go:embed cpu_map
var cpuMap embed.FS

// vendor is a CPU vendor and its CPUID.0 string (virCPUx86Vendor).
type vendor struct {
	name string
	data item
}

// feature is a named set of CPUID or MSR bits (virCPUx86Feature).
type feature struct {
	name       string
	data       data
	migratable bool
}

// signature is a model's family, model and steppings (nil: any).
type signature struct {
	family, model uint
	stepping      []bool // indexed by stepping; nil matches all
}

// model is a CPU model of the map (virCPUx86Model).
type model struct {
	name                    string
	decodeHost, decodeGuest bool
	vendor                  *vendor
	signatures              []signature
	data                    data
	removed, added          []string
	ancestor, canonical     *model
}

// x86Map is the loaded map: vendors, features and models in the order the
// files define them (virCPUx86Map).
type x86Map struct {
	vendors  []*vendor
	features []*feature
	models   []*model
	blockers []*feature // not migratable
}

func (m *x86Map) vendor(name string) *vendor {
	for _, v := range m.vendors {
		if v.name == name {
			return v
		}
	}
	return nil
}

func (m *x86Map) feature(name string) *feature {
	for _, f := range m.features {
		if f.name == name {
			return f
		}
	}
	return nil
}

func (m *x86Map) model(name string) *model {
	for _, md := range m.models {
		if md.name == name {
			return md
		}
	}
	return nil
}

func (m *x86Map) migratable(name string) bool {
	for _, f := range m.blockers {
		if f.name == name {
			return false
		}
	}
	return true
}

var (
	loadOnce sync.Once
	loaded   *x86Map
	loadErr  error
)

// theMap is the map, loaded once (virCPUx86GetMap). The files are part of
// the binary, so failing to load them is a bug the tests catch.
func theMap() (*x86Map, error) {
	loadOnce.Do(func() { loaded, loadErr = loadMap(cpuMap) })
	return loaded, loadErr
}

// XML of the map files.
type (
	mapFile struct {
		Arches   []mapArch    `xml:"arch"`
		Vendors  []mapVendor  `xml:"vendor"`
		Features []mapFeature `xml:"feature"`
		Models   []mapModel   `xml:"model"`
	}
	mapArch struct {
		Name     string       `xml:"name,attr"`
		Vendors  []mapVendor  `xml:"vendor"`
		Features []mapFeature `xml:"feature"`
		Models   []mapModel   `xml:"model"`
		Includes []mapInclude `xml:",any"`
	}
	mapInclude struct {
		XMLName  xml.Name
		Name     string       `xml:"name,attr"`
		Filename string       `xml:"filename,attr"`
		Includes []mapInclude `xml:"include"`
	}
	mapVendor struct {
		Name   string `xml:"name,attr"`
		String string `xml:"string,attr"`
	}
	mapFeature struct {
		Name       string       `xml:"name,attr"`
		Migratable string       `xml:"migratable,attr"`
		Items      []mapDataRaw `xml:",any"`
	}
	mapDataRaw struct {
		XMLName xml.Name
		Attrs   []xml.Attr `xml:",any,attr"`
	}
	mapModel struct {
		Name   string `xml:"name,attr"`
		Decode *struct {
			Host  string `xml:"host,attr"`
			Guest string `xml:"guest,attr"`
		} `xml:"decode"`
		Ancestor *struct {
			Name string `xml:"name,attr"`
		} `xml:"model"`
		Signatures []struct {
			Family   string `xml:"family,attr"`
			Model    string `xml:"model,attr"`
			Stepping string `xml:"stepping,attr"`
		} `xml:"signature"`
		Vendor *struct {
			Name string `xml:"name,attr"`
		} `xml:"vendor"`
		Features []struct {
			Name    string `xml:"name,attr"`
			Removed string `xml:"removed,attr"`
			Added   string `xml:"added,attr"`
		} `xml:"feature"`
	}
)

// loadMap is cpuMapLoad("x86", ...): index.xml's x86 arch, its own
// vendors, features and models, then each include in document order.
func loadMap(fsys embed.FS) (*x86Map, error) {
	var idx mapFile
	if err := readMapFile(fsys, "index.xml", &idx); err != nil {
		return nil, err
	}
	m := &x86Map{}
	for _, a := range idx.Arches {
		if a.Name != "x86" {
			continue
		}
		if err := m.load("index.xml", mapFile{Vendors: a.Vendors, Features: a.Features, Models: a.Models}); err != nil {
			return nil, err
		}
		var files []string
		for _, inc := range a.Includes {
			switch {
			case inc.XMLName.Local == "include":
				files = append(files, inc.Filename)
			case inc.XMLName.Local == "group" && inc.Name != "":
				for _, sub := range inc.Includes {
					files = append(files, sub.Filename)
				}
			}
		}
		for _, name := range files {
			var f mapFile
			if err := readMapFile(fsys, name, &f); err != nil {
				return nil, err
			}
			if err := m.load(name, f); err != nil {
				return nil, err
			}
		}
		return m, nil
	}
	return nil, fmt.Errorf("cpu map: no x86 arch in index.xml")
}

func readMapFile(fsys embed.FS, name string, v any) error {
	b, err := fsys.ReadFile("cpu_map/" + name)
	if err != nil {
		return fmt.Errorf("cpu map: %w", err)
	}
	if err := xml.Unmarshal(b, v); err != nil {
		return fmt.Errorf("cpu map %s: %w", name, err)
	}
	return nil
}

func (m *x86Map) load(file string, f mapFile) error {
	for _, v := range f.Vendors {
		if err := m.addVendor(v); err != nil {
			return fmt.Errorf("cpu map %s: %w", file, err)
		}
	}
	for _, ft := range f.Features {
		if err := m.addFeature(ft); err != nil {
			return fmt.Errorf("cpu map %s: %w", file, err)
		}
	}
	for _, md := range f.Models {
		if err := m.addModel(md); err != nil {
			return fmt.Errorf("cpu map %s: %w", file, err)
		}
	}
	return nil
}

// vendorItem is virCPUx86VendorToData: the 12-character string in
// CPUID.0's EBX, EDX, ECX.
func vendorItem(s string) (item, error) {
	if len(s) != 12 {
		return item{}, fmt.Errorf("invalid CPU vendor string '%s'", s)
	}
	le := binary.LittleEndian
	return item{kind: kindCPUID, b: le.Uint32([]byte(s[0:4])), d: le.Uint32([]byte(s[4:8])), c: le.Uint32([]byte(s[8:12]))}, nil
}

func (m *x86Map) addVendor(v mapVendor) error {
	if m.vendor(v.Name) != nil {
		return fmt.Errorf("CPU vendor %s already defined", v.Name)
	}
	it, err := vendorItem(v.String)
	if err != nil {
		return err
	}
	m.vendors = append(m.vendors, &vendor{name: v.Name, data: it})
	return nil
}

func (m *x86Map) addFeature(f mapFeature) error {
	if m.feature(f.Name) != nil {
		return fmt.Errorf("CPU feature %s already defined", f.Name)
	}
	ft := &feature{name: f.Name, migratable: f.Migratable != "no"}
	n := 0
	for _, raw := range f.Items {
		switch raw.XMLName.Local {
		case "alias":
			continue
		case "cpuid", "msr":
		default:
			return fmt.Errorf("feature %s: unknown element %s", f.Name, raw.XMLName.Local)
		}
		it, err := parseDataItem(raw)
		if err != nil {
			return fmt.Errorf("feature %s: %w", f.Name, err)
		}
		ft.data.addItem(it)
		n++
	}
	if n == 0 {
		return fmt.Errorf("no x86 CPU data found in feature %s", f.Name)
	}
	if !ft.migratable {
		m.blockers = append(m.blockers, ft)
	}
	m.features = append(m.features, ft)
	return nil
}

// parseDataItem is x86ParseCPUID or x86ParseMSR.
func parseDataItem(raw mapDataRaw) (item, error) {
	vals := map[string]uint32{}
	for _, a := range raw.Attrs {
		v, err := strconv.ParseUint(a.Value, 0, 32)
		if err != nil {
			return item{}, fmt.Errorf("invalid %s %s='%s'", raw.XMLName.Local, a.Name.Local, a.Value)
		}
		vals[a.Name.Local] = uint32(v)
	}
	if raw.XMLName.Local == "msr" {
		return item{kind: kindMSR, in: vals["index"], a: vals["eax"], d: vals["edx"]}, nil
	}
	return item{kind: kindCPUID, in: vals["eax_in"], subin: vals["ecx_in"],
		a: vals["eax"], b: vals["ebx"], c: vals["ecx"], d: vals["edx"]}, nil
}

// addModel is x86ModelParse: an ancestor's vendor, signatures and data
// (less its removed features) first, then the model's own.
func (m *x86Map) addModel(x mapModel) error {
	if m.model(x.Name) != nil {
		return fmt.Errorf("multiple definitions of CPU model '%s'", x.Name)
	}
	md := &model{name: x.Name}
	if x.Decode == nil {
		return fmt.Errorf("missing decode element in CPU model %s", x.Name)
	}
	md.decodeHost, md.decodeGuest = x.Decode.Host == "on", x.Decode.Guest == "on"
	if x.Ancestor != nil {
		anc := m.model(x.Ancestor.Name)
		if anc == nil {
			return fmt.Errorf("ancestor model %s not found for CPU model %s", x.Ancestor.Name, x.Name)
		}
		md.ancestor, md.vendor = anc, anc.vendor
		md.signatures = slices.Clone(anc.signatures)
		md.data = anc.data.clone()
		for _, r := range anc.removed {
			if f := m.feature(r); f != nil {
				md.data.subtract(f.data)
			}
		}
	}
	changed := false
	if len(x.Signatures) > 0 {
		md.signatures = nil
		for _, s := range x.Signatures {
			sig, err := parseSignature(s.Family, s.Model, s.Stepping)
			if err != nil {
				return fmt.Errorf("CPU model %s: %w", x.Name, err)
			}
			md.signatures = append(md.signatures, sig)
		}
		changed = true
	}
	if x.Vendor != nil {
		if md.vendor = m.vendor(x.Vendor.Name); md.vendor == nil {
			return fmt.Errorf("unknown vendor %s referenced by CPU model %s", x.Vendor.Name, x.Name)
		}
		changed = true
	}
	for _, f := range x.Features {
		ft := m.feature(f.Name)
		if ft == nil {
			return fmt.Errorf("feature %s required by CPU model %s not found", f.Name, x.Name)
		}
		switch {
		case f.Removed == "yes":
			md.removed = append(md.removed, f.Name)
		case f.Added == "yes":
			md.added = append(md.added, f.Name)
		default:
			md.data.add(ft.data)
		}
		changed = true
	}
	if md.ancestor != nil && !changed {
		if md.ancestor.canonical != nil {
			return fmt.Errorf("cannot set CPU model '%s' as canonical name of '%s'", x.Name, md.ancestor.name)
		}
		md.ancestor.canonical = md
	}
	m.models = append(m.models, md)
	return nil
}

func parseSignature(family, mdl, stepping string) (signature, error) {
	f, err := strconv.ParseUint(family, 10, 32)
	if err != nil || f == 0 {
		return signature{}, fmt.Errorf("invalid CPU signature family")
	}
	mo, err := strconv.ParseUint(mdl, 10, 32)
	if err != nil {
		return signature{}, fmt.Errorf("invalid CPU signature model")
	}
	sig := signature{family: uint(f), model: uint(mo)}
	if stepping != "" {
		sig.stepping = make([]bool, 16)
		for _, part := range strings.Split(stepping, ",") {
			lo, hi, isRange := strings.Cut(part, "-")
			a, err1 := strconv.Atoi(lo)
			b := a
			var err2 error
			if isRange {
				b, err2 = strconv.Atoi(hi)
			}
			if err1 != nil || err2 != nil || a < 0 || b > 15 || a > b {
				return signature{}, fmt.Errorf("invalid stepping '%s'", stepping)
			}
			for s := a; s <= b; s++ {
				sig.stepping[s] = true
			}
		}
	}
	return sig, nil
}

// matches is virCPUx86SignaturesMatch.
func matchesSignature(sigs []signature, sig uint32) bool {
	family, mdl, stepping := splitSignature(sig)
	for _, s := range sigs {
		if s.family == family && s.model == mdl && (s.stepping == nil || s.stepping[stepping]) {
			return true
		}
	}
	return false
}

// copyModel is x86ModelCopy.
func (md *model) copy() *model {
	c := *md
	c.signatures = slices.Clone(md.signatures)
	c.data = md.data.clone()
	c.removed = slices.Clone(md.removed)
	c.added = slices.Clone(md.added)
	return &c
}

// ModelNames is virCPUGetModels: the names of the CPU models of arch, in
// the map's order. Only libvirt's x86 map is carried, so the models of
// another architecture a libvirt CPU driver knows (ppc64, s390, ARM,
// RISC-V) cannot be named; an architecture no CPU driver knows is
// refused in libvirt's words.
func ModelNames(arch string) ([]string, error) {
	switch {
	case isX86(arch):
	case otherCPUDriver[arch]:
		return nil, cpuErr(libvirt.ErrOperationUnsupported, "the CPU models of architecture '%s' are not known here: only libvirt's x86 CPU map is", arch)
	default:
		return nil, cpuErr(libvirt.ErrNoSupport, "'%s' architecture is not supported by CPU driver", arch)
	}
	m, err := theMap()
	if err != nil {
		return nil, cpuErr(libvirt.ErrInternalError, "%v", err)
	}
	names := make([]string, len(m.models))
	for i, md := range m.models {
		names[i] = md.name
	}
	return names, nil
}

// otherCPUDriver are the architectures of libvirt's CPU drivers but x86's
// (cpu.c's drivers: ppc64, s390, arm, riscv64).
var otherCPUDriver = map[string]bool{
	"ppc64": true, "ppc64le": true, "s390": true, "s390x": true,
	"armv6l": true, "armv7b": true, "armv7l": true, "aarch64": true, "riscv64": true,
}

// KnownArch reports whether name is one of libvirt's architectures
// (virArchFromString), "none" not being one.
func KnownArch(name string) bool { return knownArches[name] }
