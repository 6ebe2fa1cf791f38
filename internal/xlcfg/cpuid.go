package xlcfg

import (
	"strings"

	"libvirt.org/go/libvirtxml"
)

// cpuFeatureNames maps libvirt's CPU feature names to libxl's.
var cpuFeatureNames = [][2]string{
	{"cx16", "cmpxchg16"}, {"cid", "cntxid"}, {"ds_cpl", "dscpl"}, {"pclmuldq", "pclmulqdq"},
	{"pni", "sse3"}, {"ht", "htt"}, {"pn", "psn"}, {"clflush", "clfsh"}, {"sep", "sysenter"},
	{"cx8", "cmpxchg8"}, {"nodeid_msr", "nodeid"}, {"cr8legacy", "altmovcr8"},
	{"lahf_lm", "lahfsahf"}, {"cmp_legacy", "cmplegacy"}, {"fxsr_opt", "ffxsr"},
	{"pdpe1gb", "page1gb"}, {"spec-ctrl", "ibrsb"},
}

// translateFeature converts a feature name from libxl's spelling
// (fromLibxl) or to it.
func translateFeature(name string, fromLibxl bool) string {
	from, to := 0, 1
	if fromLibxl {
		from, to = 1, 0
	}
	for _, p := range cpuFeatureNames {
		if p[from] == name {
			return p[to]
		}
	}
	return name
}

var cpuidPolicies = map[string]string{"1": "force", "0": "disable", "x": "optional", "k": "optional", "s": "optional"}

// parseCPUID is xenParseXLCPUID: only libxl's "host,feature=v,..." form.
func (c *conf) parseCPUID(d *libvirtxml.Domain) error {
	s, ok, err := c.getString("cpuid", "")
	if err != nil || !ok {
		return err
	}
	if d.CPU == nil {
		d.CPU = &libvirtxml.DomainCPU{Mode: "host-passthrough"}
	}
	pairs := strings.Split(s, ",")
	if pairs[0] != "host" {
		return c.errorCode(codeConfSyntax, "cpuid", "cpuid starting with %s is not supported, only libxl format is", pairs[0])
	}
	for _, p := range pairs[1:] {
		name, val, ok := strings.Cut(p, "=")
		if !ok || name == "" {
			return c.errorCode(codeConfSyntax, "cpuid", "Invalid libxl cpuid key=value element: %s", p)
		}
		pol := cpuidPolicies[val]
		if pol == "" {
			return c.errorCode(codeConfSyntax, "cpuid", "Invalid libxl cpuid value: %s", p)
		}
		d.CPU.Features = append(d.CPU.Features, libvirtxml.DomainCPUFeature{Policy: pol, Name: translateFeature(name, true)})
	}
	return nil
}

// formatCPUID is xenFormatXLCPUID.
func formatCPUID(o *out, d *libvirtxml.Domain) {
	if d.CPU == nil || d.CPU.Mode != "host-passthrough" {
		return
	}
	pairs := []string{"host"}
	for _, f := range d.CPU.Features {
		name := translateFeature(f.Name, false)
		if name == "vmx" || name == "svm" {
			continue
		}
		pol := ""
		switch f.Policy {
		case "force", "require":
			pol = "1"
		case "optional":
			pol = "x"
		case "disable", "forbid":
			pol = "0"
		}
		pairs = append(pairs, name+"="+pol)
	}
	if len(pairs) > 1 {
		o.setStr("cpuid", strings.Join(pairs, ","))
	}
}
