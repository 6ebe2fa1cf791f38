package domxml

import (
	"errors"
	"reflect"
	"sort"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// CPUMaskLen is VIR_DOMAIN_CPUMASK_LEN, the bound on CPU numbers in
// domain XML (xl.cfg's cpus= has its own, 4096).
const CPUMaskLen = 16384

// ParseCPUSet reads a CPU list as virBitmapParse does: "0-3,^2,8", with
// every number below limit. The set comes back sorted.
func ParseCPUSet(s string, limit int) ([]int, error) {
	set := map[int]bool{}
	for _, part := range strings.Split(s, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			return nil, errors.New("empty")
		}
		neg := strings.HasPrefix(part, "^")
		part = strings.TrimPrefix(part, "^")
		lo, hi, err := bitRange(part, limit)
		if err != nil {
			return nil, err
		}
		if neg && lo != hi {
			return nil, errors.New("negated range")
		}
		for i := lo; i <= hi; i++ {
			if neg {
				delete(set, i)
			} else {
				set[i] = true
			}
		}
	}
	out := make([]int, 0, len(set))
	for i := range set {
		out = append(out, i)
	}
	sort.Ints(out)
	return out, nil
}

func bitRange(s string, limit int) (int, int, error) {
	a, b, isRange := strings.Cut(s, "-")
	lo, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil || lo < 0 || lo >= limit {
		return 0, 0, errors.New("bad")
	}
	if !isRange {
		return lo, lo, nil
	}
	hi, err := strconv.Atoi(strings.TrimSpace(b))
	if err != nil || hi < lo || hi >= limit {
		return 0, 0, errors.New("bad")
	}
	return lo, hi, nil
}

// FormatCPUSet writes a sorted set as virBitmapFormat does: "0-3,8".
func FormatCPUSet(set []int) string {
	var parts []string
	for i := 0; i < len(set); {
		j := i
		for j+1 < len(set) && set[j+1] == set[j]+1 {
			j++
		}
		if i == j {
			parts = append(parts, strconv.Itoa(set[i]))
		} else {
			parts = append(parts, strconv.Itoa(set[i])+"-"+strconv.Itoa(set[j]))
		}
		i = j + 1
	}
	return strings.Join(parts, ",")
}

// checkCPUSet is how libvirt takes a cpuset attribute: it must parse
// (VIR_ERR_INVALID_ARG from virBitmapParse, which has no error domain) and
// name at least one CPU.
func checkCPUSet(s string) ([]int, error) {
	set, err := ParseCPUSet(s, CPUMaskLen)
	if err != nil {
		return nil, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "Failed to parse bitmap '%s'", s)
	}
	if len(set) == 0 {
		return nil, unsupported("Invalid value of 'cpuset': %s", s)
	}
	return set, nil
}

// checkCPUTune is virDomainVcpuPinDefParseXML over <cputune>'s vcpupin
// elements, on the raw tree where a missing attribute still shows.
func checkCPUTune(root *node) error {
	tune := root.child("cputune")
	if tune == nil {
		return nil
	}
	seen := map[uint64]bool{}
	for _, pin := range tune.elems() {
		if pin.localName() != "vcpupin" {
			continue
		}
		v, ok := pin.attr("vcpu")
		if !ok {
			return xmlErr("Missing required attribute '%s' in element '%s'", "vcpu", "vcpupin")
		}
		id, err := strconv.ParseUint(v, 10, 32)
		if err != nil {
			return xmlErr("Invalid value for attribute '%s' in element '%s': '%s'. Expected non-negative integer value",
				"vcpu", "vcpupin", v)
		}
		cpuset, ok := pin.attr("cpuset")
		if !ok {
			return internalErr("missing cpuset for vcpupin")
		}
		if seen[id] {
			return internalErr("duplicate vcpupin for vcpu '%d'", id)
		}
		seen[id] = true
		if _, err := checkCPUSet(cpuset); err != nil {
			return err
		}
	}
	return nil
}

// normalizeCPUSets stores cpusets as virBitmapFormat writes them, drops
// the pins of vCPUs the guest does not have (libvirt ignores them with a
// warning) and orders the rest by vCPU, as libvirt formats them.
func normalizeCPUSets(d *libvirtxml.Domain) {
	if d.VCPU.CPUSet != "" {
		if set, err := ParseCPUSet(d.VCPU.CPUSet, CPUMaskLen); err == nil {
			d.VCPU.CPUSet = FormatCPUSet(set)
		}
	}
	if d.CPUTune == nil {
		return
	}
	var pins []libvirtxml.DomainCPUTuneVCPUPin
	for _, p := range d.CPUTune.VCPUPin {
		set, err := ParseCPUSet(p.CPUSet, CPUMaskLen)
		if err != nil || p.VCPU >= d.VCPU.Value {
			continue
		}
		pins = append(pins, libvirtxml.DomainCPUTuneVCPUPin{VCPU: p.VCPU, CPUSet: FormatCPUSet(set)})
	}
	sort.Slice(pins, func(i, j int) bool { return pins[i].VCPU < pins[j].VCPU })
	d.CPUTune.VCPUPin = pins
	if reflect.ValueOf(*d.CPUTune).IsZero() {
		d.CPUTune = nil // libvirt writes no empty <cputune/>
	}
}
