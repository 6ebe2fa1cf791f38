package domxml

import (
	"libvirt.org/go/libvirtxml"
)

// OSKind is the Xen guest type a definition asks for.
type OSKind int

// The Xen guest types.
const (
	UnknownKind OSKind = iota
	PV                 // os type "linux" (or "xen"), machine xenpv
	HVM                // os type "hvm", machine xenfv
	PVH                // os type "xenpvh", machine xenpvh
)

func (k OSKind) String() string {
	switch k {
	case PV:
		return "pv"
	case HVM:
		return "hvm"
	case PVH:
		return "pvh"
	}
	return "unknown"
}

// KindOf tells a definition's guest type. A definition without <os><type>
// is PV, as libvirt treats one that has only a <bootloader>.
func KindOf(d *libvirtxml.Domain) OSKind {
	if d == nil {
		return UnknownKind
	}
	if d.OS == nil || d.OS.Type == nil || d.OS.Type.Type == "" {
		return PV
	}
	switch d.OS.Type.Type {
	case "hvm":
		return HVM
	case "xen", "linux":
		return PV
	case "xenpvh":
		return PVH
	}
	return UnknownKind
}

// MemoryKiB is the maximum memory (<memory>) in KiB, after Parse.
func MemoryKiB(d *libvirtxml.Domain) uint64 {
	if d.Memory == nil {
		return 0
	}
	return uint64(d.Memory.Value)
}

// CurrentMemoryKiB is the balloon target (<currentMemory>) in KiB.
func CurrentMemoryKiB(d *libvirtxml.Domain) uint64 {
	if d.CurrentMemory == nil {
		return MemoryKiB(d)
	}
	return uint64(d.CurrentMemory.Value)
}

// SetMemoryKiB sets <memory>, lowering the balloon target if it would
// exceed it (as virDomainDefSetMemoryTotal callers do).
func SetMemoryKiB(d *libvirtxml.Domain, kib uint64) {
	d.Memory = &libvirtxml.DomainMemory{Value: uint(kib), Unit: "KiB",
		DumpCore: dumpCore(d)}
	if d.CurrentMemory == nil || uint64(d.CurrentMemory.Value) > kib {
		SetCurrentMemoryKiB(d, kib)
	}
}

func dumpCore(d *libvirtxml.Domain) string {
	if d.Memory == nil {
		return ""
	}
	return d.Memory.DumpCore
}

// SetCurrentMemoryKiB sets <currentMemory>.
func SetCurrentMemoryKiB(d *libvirtxml.Domain, kib uint64) {
	d.CurrentMemory = &libvirtxml.DomainCurrentMemory{Value: uint(kib), Unit: "KiB"}
}

// MaxVCPUs is the <vcpu> count.
func MaxVCPUs(d *libvirtxml.Domain) uint {
	if d.VCPU == nil {
		return 1
	}
	return d.VCPU.Value
}

// CurrentVCPUs is the number of vCPUs online at boot (current=, which
// defaults to the maximum).
func CurrentVCPUs(d *libvirtxml.Domain) uint {
	if d.VCPU == nil {
		return 1
	}
	if d.VCPU.Current == 0 {
		return d.VCPU.Value
	}
	return d.VCPU.Current
}

// SetVCPUs sets maximum and current vCPUs; current above the maximum is
// libvirt's "maximum vCPU count must not be less than current vCPU count".
func SetVCPUs(d *libvirtxml.Domain, max, current uint) error {
	if current > max {
		return unsupported("maximum vCPU count must not be less than current vCPU count")
	}
	if d.VCPU == nil {
		d.VCPU = &libvirtxml.DomainVCPU{Placement: "static"}
	}
	d.VCPU.Value = max
	d.VCPU.Current = current
	if current == max {
		d.VCPU.Current = 0
	}
	return nil
}

// ID is the domain id, -1 when inactive.
func ID(d *libvirtxml.Domain) int {
	if d.ID == nil {
		return -1
	}
	return *d.ID
}

// SetID sets the id; -1 clears it.
func SetID(d *libvirtxml.Domain, id int) {
	if id < 0 {
		d.ID = nil
		return
	}
	d.ID = &id
}
