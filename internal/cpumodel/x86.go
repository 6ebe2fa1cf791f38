package cpumodel

import (
	"slices"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// dataToFeatures is x86DataToCPUFeatures: every feature of the map whose
// bits are all in d joins c with policy p, in the map's order, and its
// bits leave d.
func (m *x86Map) dataToFeatures(c *CPU, p Policy, d data) {
	for _, f := range m.features {
		if d.hasAll(f.data) {
			d.subtract(f.data)
			c.Features = append(c.Features, Feature{f.name, p})
		}
	}
}

// featureNames is x86FeatureNames: the map's features in d, joined.
func (m *x86Map) featureNames(d data) string {
	var names []string
	for _, f := range m.features {
		if d.hasAll(f.data) {
			names = append(names, f.name)
		}
	}
	return strings.Join(names, ", ")
}

// dataToVendor is x86DataToVendor: the vendor whose CPUID.0 string d has,
// whose bits then leave d.
func (m *x86Map) dataToVendor(d data) *vendor {
	for _, v := range m.vendors {
		if it := d.get(v.data); it != nil && it.matchMasked(v.data) {
			it.a &^= v.data.a
			it.b &^= v.data.b
			it.c &^= v.data.c
			it.d &^= v.data.d
			return v
		}
	}
	return nil
}

// dataToCPU is x86DataToCPU: d described as model md plus the features d
// has beyond it (require) and less those it lacks (disable).
func (m *x86Map) dataToCPU(d data, md *model, typ Type) *CPU {
	c := &CPU{Type: Guest, Model: md.name}
	cp := d.clone()
	modelData := md.data.clone()
	if v := m.dataToVendor(cp); v != nil {
		c.Vendor = v.name
	}
	cp.subtract(modelData)
	modelData.subtract(d)
	m.dataToFeatures(c, Require, cp)
	m.dataToFeatures(c, Disable, modelData)
	if typ == Guest {
		for _, r := range md.removed {
			c.addFeatureIfMissing(r, Disable)
		}
	}
	c.Type = typ
	return c
}

// basePenalty is the base penalty for disabled features.
const basePenalty = 2

// betterFeatureList is virCPUx86CompareCandidateFeatureList.
func betterFeatureList(cur, cand *CPU, preferred bool) bool {
	current, candidate := len(cur.Features), len(cand.Features)
	enabledCur, disabledCur, enabled, disabled := current, 0, candidate, 0
	if cand.Type != Host {
		penalty := basePenalty
		for i := 0; i < len(cur.Features); i++ {
			if cur.Features[i].Policy == Disable {
				enabledCur--
				disabledCur += penalty
				penalty++
			}
		}
		current = enabledCur + disabledCur
		penalty = basePenalty
		for i := 0; i < len(cand.Features); i++ {
			if cand.Features[i].Policy == Disable {
				enabled--
				disabled += penalty
				penalty++
			}
		}
		candidate = enabled + disabled
	}
	if candidate < current || (candidate == current && disabled < disabledCur) {
		return true
	}
	return preferred && disabled < disabledCur
}

// useCandidate is x86DecodeUseCandidate: 0 keep the current model, 1 take
// the candidate, 2 take it and stop.
func useCandidate(cur *model, curCPU *CPU, cand *model, candCPU *CPU, sig uint32, preferred []string) int {
	if candCPU.Type == Host && !cand.decodeHost {
		return 0
	}
	if candCPU.Type == Guest && !cand.decodeGuest {
		return 0
	}
	if candCPU.Type == Host {
		for i := range candCPU.Features {
			if candCPU.Features[i].Policy == Disable {
				return 0
			}
			candCPU.Features[i].Policy = PolicyNone
		}
	}
	isPreferred := false
	if len(preferred) > 0 {
		isPreferred = slices.Contains(preferred, candCPU.Model)
		if isPreferred && len(preferred) == 1 {
			return 2
		}
	}
	if curCPU == nil {
		return 1
	}
	if sig != 0 {
		curMatch, candMatch := matchesSignature(cur.signatures, sig), matchesSignature(cand.signatures, sig)
		if curMatch && !candMatch {
			return 0
		}
		if !curMatch && candMatch {
			return 1
		}
	}
	if betterFeatureList(curCPU, candCPU, isPreferred) {
		return 1
	}
	return 0
}

// filterTSX is x86DataFilterTSX: Intel CPUs whose TSX is broken lose hle
// and rtm.
func (m *x86Map) filterTSX(d data, v *vendor) {
	if v == nil || v.name != "Intel" {
		return
	}
	var family, mdl, stepping uint
	if it := d.get(leaf1); it != nil {
		family, mdl, stepping = splitSignature(it.a)
	}
	if family == 6 && ((mdl == 63 && stepping < 4) || mdl == 60 || mdl == 69 || mdl == 70) {
		for _, n := range []string{"hle", "rtm"} {
			if f := m.feature(n); f != nil {
				d.subtract(f.data)
			}
		}
	}
}

// decode is x86Decode: the newest model of the map that describes d best
// (walking the models newest first), with d's other features; c's Type
// says whether host or guest models apply.
func (m *x86Map) decode(c *CPU, in data, preferred []string, migratable bool) error {
	d := in.clone()
	v := m.dataToVendor(d)
	sig := d.signature()
	m.filterTSX(d, v)
	var best *model
	var bestCPU *CPU
	for i := len(m.models) - 1; i >= 0; i-- {
		cand := m.models[i]
		if v != nil && cand.vendor != nil && v != cand.vendor {
			continue
		}
		candCPU := m.dataToCPU(d, cand, c.Type)
		rc := useCandidate(best, bestCPU, cand, candCPU, sig, preferred)
		if rc == 0 {
			continue
		}
		best, bestCPU = cand, candCPU
		if rc == 2 {
			break
		}
	}
	if bestCPU == nil {
		return cpuErr(libvirt.ErrInternalError, "Cannot find suitable CPU model for given data")
	}
	if migratable {
		bestCPU.Features = slices.DeleteFunc(bestCPU.Features, func(f Feature) bool { return !m.migratable(f.Name) })
	}
	if v != nil {
		c.Vendor = v.name
	}
	c.Model, c.Features = bestCPU.Model, bestCPU.Features
	c.SigFamily, c.SigModel, c.SigStepping = splitSignature(sig)
	return nil
}

// modelFromCPU is x86ModelFromCPU: the data of c's features of policy p
// (with the model's own for Require), or, for policy all (PolicyNone),
// the model's data plus required and forced features less disabled and
// forbidden ones.
func (m *x86Map) modelFromCPU(c *CPU, p Policy, all bool) (*model, error) {
	if c.Type == Host && p != Require && !all {
		return &model{}, nil
	}
	md := &model{}
	if c.Model != "" && (p == Require || all) {
		found := m.model(c.Model)
		if found == nil {
			return nil, cpuErr(libvirt.ErrInternalError, "Unknown CPU model %s", c.Model)
		}
		md = found.copy()
	}
	for _, f := range c.Features {
		fp := f.Policy
		if fp == PolicyNone {
			fp = Require
		}
		if (all && fp == Optional) || (!all && fp != p) {
			continue
		}
		ft := m.feature(f.Name)
		if ft == nil {
			return nil, cpuErr(libvirt.ErrInternalError, "Unknown CPU feature %s", f.Name)
		}
		switch {
		case !all, fp == Force, fp == Require:
			md.data.add(ft.data)
		case fp == Disable, fp == Forbid:
			md.data.subtract(ft.data)
		}
	}
	return md, nil
}

type relation int

const (
	subset relation = iota
	equal
	superset
	unrelated
)

// compareModels is x86ModelCompare.
func compareModels(m1, m2 *model) relation {
	result := equal
	step := func(match relation) bool {
		if result == equal {
			result = match
		} else if result != match {
			result = unrelated
			return false
		}
		return true
	}
	for _, it1 := range m1.data {
		if it1.zero() {
			continue
		}
		match := superset
		if it2 := m2.data.get(it1); it2 != nil {
			if it1.equalBits(*it2) {
				continue
			} else if !it1.matchMasked(*it2) {
				match = subset
			}
		}
		if !step(match) {
			return unrelated
		}
	}
	for _, it2 := range m2.data {
		if it2.zero() {
			continue
		}
		match := subset
		if it1 := m1.data.get(it2); it1 != nil {
			if it2.equalBits(*it1) {
				continue
			} else if !it2.matchMasked(*it1) {
				match = superset
			}
		}
		if !step(match) {
			return unrelated
		}
	}
	return result
}

// CompareResult is virCPUCompareResult.
type CompareResult int32

// Comparison results.
const (
	CompareError        CompareResult = -1
	CompareIncompatible CompareResult = 0
	CompareIdentical    CompareResult = 1
	CompareSuperset     CompareResult = 2
)

// compute is x86Compute: how host relates to cpu, and why not when it is
// incompatible.
func (m *x86Map) compute(host, cpu *CPU) (CompareResult, string, error) {
	if cpu.Arch != "" && !isX86(cpu.Arch) {
		return CompareIncompatible, "CPU arch " + cpu.Arch + " does not match host arch", nil
	}
	if cpu.Vendor != "" && host.Vendor != cpu.Vendor {
		return CompareIncompatible, "host CPU vendor does not match required CPU vendor " + cpu.Vendor, nil
	}
	hostModel, err := m.modelFromCPU(host, PolicyNone, true)
	if err != nil {
		return CompareError, "", err
	}
	by := map[Policy]*model{}
	for _, p := range []Policy{Force, Require, Optional, Disable, Forbid} {
		if by[p], err = m.modelFromCPU(cpu, p, false); err != nil {
			return CompareError, "", err
		}
	}
	forbid := by[Forbid].data
	forbid.intersect(hostModel.data)
	if !forbid.empty() {
		return CompareIncompatible, "Host CPU provides forbidden features: " + m.featureNames(forbid), nil
	}
	req := by[Require]
	req.data.subtract(by[Force].data)
	req.data.subtract(by[Optional].data)
	req.data.subtract(by[Disable].data)
	if r := compareModels(hostModel, req); r == subset || r == unrelated {
		req.data.subtract(hostModel.data)
		return CompareIncompatible, "Host CPU does not provide required features: " + m.featureNames(req.data), nil
	}
	diff := hostModel.copy()
	for _, p := range []Policy{Optional, Require, Disable, Force} {
		diff.data.subtract(by[p].data)
	}
	if diff.data.empty() {
		return CompareIdentical, "", nil
	}
	if cpu.Type == Guest && cpu.Match == Strict {
		return CompareIncompatible, "Host CPU does not strictly match guest CPU: Extra features: " + m.featureNames(diff.data), nil
	}
	return CompareSuperset, "", nil
}

// Compare is virCPUCompare on an x86 host (virCPUx86Compare): host is the
// host CPU (nil or without a model when libxl could not describe it).
// With failIncompatible an incompatible CPU is an error saying why.
func Compare(host, cpu *CPU, failIncompatible bool) (CompareResult, error) {
	if host == nil || host.Model == "" {
		if failIncompatible {
			return CompareError, cpuErr(libvirt.ErrCPUIncompatible, "unknown host CPU")
		}
		return CompareIncompatible, nil
	}
	m, err := theMap()
	if err != nil {
		return CompareError, virerr.Wrap(err, virerr.FromCPU, libvirt.ErrInternalError, "%v", err)
	}
	res, msg, err := m.compute(host, cpu)
	if err != nil {
		return CompareError, err
	}
	if res == CompareIncompatible && failIncompatible {
		return CompareError, cpuErr(libvirt.ErrCPUIncompatible, "%s", msg)
	}
	return res, nil
}

// Baseline is virCPUBaseline for host CPU definitions (virCPUx86Baseline):
// the newest guest model that every one of cpus can run, with the features
// they share beyond it; with migratable, features that block migration are
// left out.
func Baseline(cpus []*CPU, migratable bool) (*CPU, error) {
	if len(cpus) == 0 {
		return nil, cpuErr(libvirt.ErrInvalidArg, "no CPUs given")
	}
	for i, c := range cpus {
		if c.Model == "" {
			return nil, cpuErr(libvirt.ErrInvalidArg, "no CPU model specified at index %d", i)
		}
	}
	if arch := cpus[0].Arch; !isX86(arch) {
		if arch == "" {
			return nil, cpuErr(libvirt.ErrInternalError, "undefined hardware architecture")
		}
		return nil, cpuErr(libvirt.ErrNoSupport, "cannot compute baseline CPU of %s architecture", arch)
	}
	m, err := theMap()
	if err != nil {
		return nil, virerr.Wrap(err, virerr.FromCPU, libvirt.ErrInternalError, "%v", err)
	}
	return m.baseline(cpus, migratable)
}

func (m *x86Map) baseline(cpus []*CPU, migratable bool) (*CPU, error) {
	base, err := m.modelFromCPU(cpus[0], PolicyNone, true)
	if err != nil {
		return nil, err
	}
	out := &CPU{Type: Guest, Mode: Custom, Match: Exact}
	outputVendor := cpus[0].Vendor != ""
	var v *vendor
	if outputVendor {
		if v = m.vendor(cpus[0].Vendor); v == nil {
			return nil, cpuErr(libvirt.ErrOperationFailed, "Unknown CPU vendor %s", cpus[0].Vendor)
		}
	}
	names := []string{cpus[0].Model}
	for _, c := range cpus[1:] {
		if !slices.Contains(names, c.Model) {
			names = append(names, c.Model)
		}
		md, err := m.modelFromCPU(c, PolicyNone, true)
		if err != nil {
			return nil, err
		}
		if c.Vendor != "" && md.vendor != nil && c.Vendor != md.vendor.name {
			return nil, cpuErr(libvirt.ErrOperationFailed, "CPU vendor %s of model %s differs from vendor %s",
				md.vendor.name, md.name, c.Vendor)
		}
		vn := c.Vendor
		if vn == "" {
			outputVendor = false
			if md.vendor != nil {
				vn = md.vendor.name
			}
		}
		if vn != "" {
			if v == nil {
				if v = m.vendor(vn); v == nil {
					return nil, cpuErr(libvirt.ErrOperationFailed, "Unknown CPU vendor %s", vn)
				}
			} else if v.name != vn {
				return nil, cpuErr(libvirt.ErrOperationFailed, "CPU vendors do not match")
			}
		}
		base.data.intersect(md.data)
	}
	if base.data.empty() {
		return nil, cpuErr(libvirt.ErrOperationFailed, "CPUs are incompatible")
	}
	if v != nil {
		base.data.addItem(v.data)
	}
	if err := m.decode(out, base.data, names, migratable); err != nil {
		return nil, err
	}
	out.SigFamily, out.SigModel, out.SigStepping = 0, 0, 0
	if len(names) == 1 && out.Model == names[0] {
		out.Fallback = 1
	}
	if !outputVendor {
		out.Vendor = ""
	}
	return out, nil
}

// ExpandFeatures is virCPUExpandFeatures on x86: c's model written out as
// its features, c's own required and disabled features applied, the
// model's removed features disabled, sorted by name.
func ExpandFeatures(c *CPU) error {
	m, err := theMap()
	if err != nil {
		return virerr.Wrap(err, virerr.FromCPU, libvirt.ErrInternalError, "%v", err)
	}
	md := m.model(c.Model)
	if md == nil {
		return cpuErr(libvirt.ErrInternalError, "unknown CPU model %s", c.Model)
	}
	host := c.Type == Host
	expanded := &CPU{}
	p := Require
	if host {
		p = PolicyNone
	}
	m.dataToFeatures(expanded, p, md.data.clone())
	for _, f := range c.Features {
		if !host && f.Policy != Require && f.Policy != Disable {
			continue
		}
		expanded.updateFeature(f.Name, f.Policy)
	}
	if !host {
		for _, r := range md.removed {
			expanded.addFeatureIfMissing(r, Disable)
		}
	}
	c.Features = expanded.Features
	slices.SortStableFunc(c.Features, func(a, b Feature) int { return strings.Compare(a.Name, b.Name) })
	return nil
}
