package libxlconf

import (
	"sort"
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// cpu applies a host-passthrough <cpu>, as libvirt does (other modes are
// ignored): nested HVM, and the feature policies as a CPUID policy.
func (t *translation) cpu(b *libxltypes.BuildInfo) error {
	c := t.d.CPU
	if c == nil || c.Mode != "host-passthrough" {
		return nil
	}
	if t.kind != domxml.PV {
		b.NestedHVM = libxltypes.DefboolOf(t.nestedHVM(c))
	}
	t.cpuid(b, c.Features)
	return nil
}

// nestedHVM is on when the driver allows it and the host has vmx or svm,
// unless the guest forbids that feature; a guest requiring it gets it.
func (t *translation) nestedHVM(c *libvirtxml.DomainCPU) bool {
	hw := t.host.HWVirt
	on := t.host.NestedHVM && hw != ""
	for _, f := range c.Features {
		if f.Name != "vmx" && f.Name != "svm" {
			continue
		}
		switch f.Policy {
		case "force", "require":
			on = true
		case "disable", "forbid":
			if f.Name == hw {
				on = false
			}
		}
	}
	return on
}

// cpuidBit is where a CPU feature lives: leaf, optional subleaf, register
// (0 eax .. 3 edx) and bit.
type cpuidBit struct {
	leaf    uint32
	subleaf int64 // -1: none
	reg     int
	bit     uint
}

// cpuid sets the required and forbidden features; one libxl does not know
// is skipped with a warning, as libvirt does.
func (t *translation) cpuid(b *libxltypes.BuildInfo, feats []libvirtxml.DomainCPUFeature) {
	for _, f := range feats {
		if f.Name == "vmx" || f.Name == "svm" {
			continue // nested HVM, above
		}
		var val byte
		switch f.Policy {
		case "force", "require":
			val = '1'
		case "disable", "forbid":
			val = '0'
		default:
			continue
		}
		pos, ok := cpuidFeatures[xlFeatureName(f.Name)]
		if !ok {
			t.warn("Failed to set cpu feature '%s'", f.Name)
			continue
		}
		setCPUID(b, pos, val)
	}
}

// setCPUID sets one bit in the policy, merging entries of the same leaf.
func setCPUID(b *libxltypes.BuildInfo, pos cpuidBit, val byte) {
	var e *libxltypes.CPUIDLeaf
	for i := range b.CPUID {
		c := &b.CPUID[i]
		if c.Leaf != pos.leaf {
			continue
		}
		if (c.Subleaf == nil) != (pos.subleaf < 0) {
			continue
		}
		if c.Subleaf != nil && int64(*c.Subleaf) != pos.subleaf {
			continue
		}
		e = c
	}
	if e == nil {
		b.CPUID = append(b.CPUID, libxltypes.CPUIDLeaf{Leaf: pos.leaf})
		e = &b.CPUID[len(b.CPUID)-1]
		if pos.subleaf >= 0 {
			s := uint32(pos.subleaf)
			e.Subleaf = &s
		}
	}
	regs := []*string{&e.EAX, &e.EBX, &e.ECX, &e.EDX}
	r := regs[pos.reg]
	if *r == "" {
		*r = strings.Repeat("x", 32)
	}
	buf := []byte(*r)
	buf[31-pos.bit] = val
	*r = string(buf)
}

// xlFeatureNames are libvirt CPU feature names that xl spells otherwise.
var xlFeatureNames = map[string]string{
	"cx16":              "cmpxchg16",
	"cx8":               "cmpxchg8",
	"cid":               "cntxid",
	"ds_cpl":            "dscpl",
	"pclmuldq":          "pclmulqdq",
	"pni":               "sse3",
	"ht":                "htt",
	"pdpe1gb":           "page1gb",
	"fxsr_opt":          "ffxsr",
	"lahf_lm":           "lahfsahf",
	"cmp_legacy":        "cmplegacy",
	"cr8legacy":         "altmovcr8",
	"nodeid_msr":        "nodeid",
	"sep":               "sysenter",
	"clflush":           "clfsh",
	"tsc-deadline":      "tsc-deadline",
	"sse4.1":            "sse4_1",
	"sse4.2":            "sse4_2",
	"syscall":           "syscall",
	"rdtscp":            "rdtscp",
	"spec-ctrl":         "ibrsb",
	"arch-capabilities": "arch-caps",
	"intel-pt":          "proc-trace",
	"pqm":               "cmt",
}

func xlFeatureName(n string) string {
	if x, ok := xlFeatureNames[n]; ok {
		return x
	}
	return n
}

// cpuidFeatures is libxl's feature table (libxl_cpuid.c) for the
// features a guest commonly sets.
var cpuidFeatures = func() map[string]cpuidBit {
	m := map[string]cpuidBit{}
	add := func(leaf uint32, sub int64, reg int, names ...string) {
		for bit, n := range names {
			if n != "" {
				m[n] = cpuidBit{leaf, sub, reg, uint(bit)}
			}
		}
	}
	const ebx, ecx, edx = 1, 2, 3
	add(1, -1, ecx, "sse3", "pclmulqdq", "dtes64", "monitor", "dscpl", "vmx", "smx", "est",
		"tm2", "ssse3", "cntxid", "", "fma", "cmpxchg16", "xtpr", "pdcm",
		"", "pcid", "dca", "sse4_1", "sse4_2", "x2apic", "movbe", "popcnt",
		"tsc-deadline", "aes", "xsave", "osxsave", "avx", "f16c", "rdrand", "hypervisor")
	add(1, -1, edx, "fpu", "vme", "de", "pse", "tsc", "msr", "pae", "mce",
		"cmpxchg8", "apic", "", "sysenter", "mtrr", "pge", "mca", "cmov",
		"pat", "pse36", "psn", "clfsh", "", "ds", "acpi", "mmx",
		"fxsr", "sse", "sse2", "ss", "htt", "tm", "ia64", "pbe")
	add(7, 0, ebx, "fsgsbase", "tsc_adjust", "", "bmi1", "hle", "avx2", "", "smep",
		"bmi2", "erms", "invpcid", "rtm", "cmt", "", "mpx", "pqe",
		"avx512f", "avx512dq", "rdseed", "adx", "smap", "avx512-ifma", "", "clflushopt",
		"clwb", "proc-trace", "avx512pf", "avx512er", "avx512cd", "sha", "avx512bw", "avx512vl")
	add(7, 0, ecx, "prefetchwt1", "avx512-vbmi", "umip", "pku", "ospke")
	add(7, 0, edx, "", "", "avx512-4vnniw", "avx512-4fmaps", "", "", "", "",
		"", "", "md-clear", "", "", "", "", "",
		"", "", "", "", "", "", "", "",
		"", "", "ibrsb", "stibp", "l1d-flush", "arch-caps", "", "ssbd")
	add(0x80000001, -1, ecx, "lahfsahf", "cmplegacy", "svm", "extapic", "altmovcr8", "abm", "sse4a", "misalignsse",
		"3dnowprefetch", "osvw", "ibs", "xop", "skinit", "wdt", "", "lwp",
		"fma4", "", "", "nodeid", "", "tbm", "topoext", "perfctr_core", "perfctr_nb")
	add(0x80000001, -1, edx, "", "", "", "", "", "", "", "",
		"", "", "", "syscall", "", "", "", "",
		"", "", "", "", "nx", "", "mmxext", "",
		"", "ffxsr", "page1gb", "rdtscp", "", "lm", "3dnowext", "3dnow")
	return m
}()

// CPUIDFeatures lists the CPU features the translation can set, in libxl's
// spelling, sorted: for tests that compare the table with libxl's own.
func CPUIDFeatures() []string {
	names := make([]string, 0, len(cpuidFeatures))
	for n := range cpuidFeatures {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// CPUIDPolicy is the CPUID policy the translation writes to set one
// feature (libxl's spelling) on or off; false if it does not know it.
func CPUIDPolicy(feature string, on bool) ([]libxltypes.CPUIDLeaf, bool) {
	pos, ok := cpuidFeatures[feature]
	if !ok {
		return nil, false
	}
	val := byte('0')
	if on {
		val = '1'
	}
	var b libxltypes.BuildInfo
	setCPUID(&b, pos, val)
	return b.CPUID, true
}
