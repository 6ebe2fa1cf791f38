package cpumodel

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The bits libxlCapsInitCPU reads itself: PAE in CPUID.1:EDX and long
// mode in CPUID.80000001:EDX.
const (
	paeMask = 1 << 6
	lmMask  = 1 << 29
)

// HostInfo is what libxl's physinfo tells of the host CPU.
type HostInfo struct {
	// HWCap is physinfo's hw_cap: Xen's host featureset words, in Xen
	// 4.7's layout (1.EDX, 1.ECX, 80000001.EDX, 80000001.ECX, D:1.EAX,
	// 7:0.EBX, 7:0.ECX, 80000007.EDX).
	HWCap                         []uint32
	CPUs, CoresPerSocket, Threads int
}

// HostCPU is libxlCapsInitCPU: the host CPU of the capabilities, decoded
// from the CPUID words libxl reports (no vendor or signature leaf among
// them, so the host CPU has neither), and whether the host has PAE. With
// no words (hw_cap[0] is 0, as on ARM) there is no host CPU: nil. When no
// model of the map fits the words, the error is libvirt's, and whether
// the host has PAE is still known.
func HostCPU(h HostInfo) (*CPU, bool, error) {
	if len(h.HWCap) < 8 || h.HWCap[0] == 0 {
		return nil, false, nil
	}
	hw := h.HWCap
	pae := hw[0]&paeMask != 0
	c := &CPU{Type: Host, Mode: Custom, Arch: "i686", Dies: 1, Clusters: 1,
		Cores: uint(max(h.CoresPerSocket, 0)), Threads: uint(max(h.Threads, 0))}
	if hw[2]&lmMask != 0 {
		c.Arch = "x86_64"
	}
	if per := h.CoresPerSocket * h.Threads; per > 0 {
		c.Sockets = uint(h.CPUs / per)
	}
	var d data
	for _, it := range []item{
		{kind: kindCPUID, in: 0x1, d: hw[0]},
		{kind: kindCPUID, in: 0x1, c: hw[1]},
		{kind: kindCPUID, in: 0x80000001, d: hw[2]},
		{kind: kindCPUID, in: 0x80000001, c: hw[3]},
		{kind: kindCPUID, in: 0x7, b: hw[5]},
		{kind: kindCPUID, in: 0xD, subin: 1, a: hw[4]},
		{kind: kindCPUID, in: 0x7, c: hw[6]},
		{kind: kindCPUID, in: 0x80000007, d: hw[7]},
	} {
		d.addItem(it)
	}
	m, err := theMap()
	if err == nil {
		err = m.decode(c, d, nil, false)
	}
	if err != nil {
		return nil, pae, virerr.Wrap(err, virerr.FromLibxl, libvirt.ErrInternalError, "Failed to initialize host cpu features")
	}
	return c, pae, nil
}

// HWCap is the inverse of HostCPU for a model of the map: the words a
// host whose CPU has exactly model's features (and the extra ones) would
// report. The simulated host and tests use it to describe a host CPU.
func HWCap(modelName string, extra ...string) ([]uint32, error) {
	m, err := theMap()
	if err != nil {
		return nil, err
	}
	md := m.model(modelName)
	if md == nil {
		return nil, cpuErr(libvirt.ErrInternalError, "Unknown CPU model %s", modelName)
	}
	d := md.data.clone()
	for _, e := range extra {
		f := m.feature(e)
		if f == nil {
			return nil, cpuErr(libvirt.ErrInternalError, "Unknown CPU feature %s", e)
		}
		d.add(f.data)
	}
	hw := make([]uint32, 8)
	get := func(in, subin uint32) item {
		if it := d.get(item{kind: kindCPUID, in: in, subin: subin}); it != nil {
			return *it
		}
		return item{}
	}
	l1, e1, l7, lD, e7 := get(1, 0), get(0x80000001, 0), get(7, 0), get(0xD, 1), get(0x80000007, 0)
	hw[0], hw[1], hw[2], hw[3], hw[4], hw[5], hw[6], hw[7] = l1.d, l1.c, e1.d, e1.c, lD.a, l7.b, l7.c, e7.d
	return hw, nil
}
