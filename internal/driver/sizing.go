package driver

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// scaleToKiB converts a libvirt memory value with its unit attribute to KiB,
// rounding up, as virScaleInteger does for <memory unit='...'>. An empty unit
// means KiB.
func scaleToKiB(value uint64, unit string) (uint64, error) {
	var scale uint64
	switch strings.ToLower(unit) {
	case "", "k", "kib":
		return value, nil
	case "b", "bytes":
		return (value + 1023) / 1024, nil
	case "kb":
		return ceilDiv(value*1000, 1024, value, 1000)
	case "m", "mib":
		scale = 1 << 10
	case "mb":
		return ceilDiv(value*1000*1000, 1024, value, 1000*1000)
	case "g", "gib":
		scale = 1 << 20
	case "gb":
		return ceilDiv(value*1000*1000*1000, 1024, value, 1000*1000*1000)
	case "t", "tib":
		scale = 1 << 30
	case "p", "pib":
		scale = 1 << 40
	case "e", "eib":
		scale = 1 << 50
	default:
		return 0, fmt.Errorf("unknown suffix '%s'", unit)
	}
	if value > ^uint64(0)/scale {
		return 0, fmt.Errorf("value too large: %d%s", value, unit)
	}
	return value * scale, nil
}

func ceilDiv(product, div, value, mul uint64) (uint64, error) {
	if value != 0 && product/value != mul {
		return 0, fmt.Errorf("value too large: %d", value)
	}
	return (product + div - 1) / div, nil
}

// memoryKiB returns a <memory>-style element in KiB (0 when absent).
func memoryKiB(m *libvirtxml.DomainMemory) uint64 {
	if m == nil {
		return 0
	}
	return kibOrZero(m.Value, m.Unit)
}

// currentMemoryKiB returns a <currentMemory> in KiB (0 when absent).
func currentMemoryKiB(m *libvirtxml.DomainCurrentMemory) uint64 {
	if m == nil {
		return 0
	}
	return kibOrZero(m.Value, m.Unit)
}

// kibOrZero is value in unit as KiB; 0 for what does not scale (a
// definition that parsed has none).
func kibOrZero(value uint, unit string) uint64 {
	k, err := scaleToKiB(uint64(value), unit)
	if err != nil {
		return 0
	}
	return k
}

// guestShape is a definition's sizing: memory and vCPUs.
type guestShape struct {
	MaxMemKiB    uint64
	TargetMemKiB uint64
	VCPUsMax     int
	VCPUsOnline  int
}

// shapeOf reads memory and vCPU sizing from def, defaulting as libvirt does
// (currentMemory = memory, current vCPUs = all, at least one vCPU).
func shapeOf(def *libvirtxml.Domain) guestShape {
	s := guestShape{MaxMemKiB: memoryKiB(def.Memory), TargetMemKiB: currentMemoryKiB(def.CurrentMemory)}
	if s.TargetMemKiB == 0 || s.TargetMemKiB > s.MaxMemKiB {
		s.TargetMemKiB = s.MaxMemKiB
	}
	s.VCPUsMax = 1
	if def.VCPU != nil && def.VCPU.Value > 0 {
		s.VCPUsMax = int(def.VCPU.Value)
	}
	s.VCPUsOnline = s.VCPUsMax
	if def.VCPU != nil && def.VCPU.Current > 0 && int(def.VCPU.Current) < s.VCPUsMax {
		s.VCPUsOnline = int(def.VCPU.Current)
	}
	return s
}
