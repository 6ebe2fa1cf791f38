package driver

import (
	"math"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virstring"
)

// scaleToKiB is a libvirt memory value with its unit attribute in KiB,
// rounded up, as virDomainParseMemory reads <memory unit='...'> (no unit:
// KiB).
func scaleToKiB(value uint64, unit string) (uint64, error) {
	bytes, err := virstring.ScaleInteger(value, unit, 1024, math.MaxUint64)
	if err != nil {
		return 0, err
	}
	return bytes/1024 + min(bytes%1024, 1), nil
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
