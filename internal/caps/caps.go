// Package caps builds the capabilities XML (virConnectGetCapabilities) and
// the domain capabilities XML (virConnectGetDomainCapabilities) exactly as
// libvirt's libxl driver (11.x) emits them, from a description of the host.
package caps

import (
	"encoding/xml"
	"regexp"
	"strings"

	"virtxend/internal/domxml"
)

// Host describes what libxl reports about the machine.
type Host struct {
	// Arch is the host architecture; "" means x86_64.
	Arch string
	// CPUs is libxl's nr_cpus; CoresPerSocket and ThreadsPerCore give the
	// topology (both default to 1).
	CPUs, CoresPerSocket, ThreadsPerCore int
	// CPUModel, CPUVendor and CPUFeatures are what libvirt's CPU driver
	// decodes from the host CPUID; all may be empty.
	CPUModel, CPUVendor string
	CPUFeatures         []string
	// PAE is the host's PAE CPUID bit (libvirt lists it as a host feature).
	PAE bool
	// MemoryKiB is the host memory; it fills the single NUMA cell when
	// Cells is empty.
	MemoryKiB uint64
	// Cells are the NUMA nodes; empty means one node with every CPU.
	Cells []Cell
	// XenCaps is libxl's version_info->capabilities, e.g.
	// "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64".
	// Empty means one derived from Arch and HVM.
	XenCaps string
	// HVM tells whether hardware virtualisation is available (used only
	// when XenCaps is empty). PVH guests exist wherever HVM ones do.
	HVM bool
	// Firmwares are the loader paths offered to HVM guests in domain
	// capabilities; nil means libvirt's default list.
	Firmwares []string
}

// Cell is one NUMA node.
type Cell struct {
	ID        int // the node's id: libvirt leaves out those libxl knows nothing of
	MemoryKiB uint64
	CPUs      []CPU
	// Distances to every node, by node id; empty omits <distances>.
	Distances []int
}

// CPU is one physical CPU of a cell.
type CPU struct {
	ID, Socket, Core int
}

// Default paths of Debian's Xen packages (libvirt's LIBXL_FIRMWARE_DIR and
// LIBXL_EXECBIN_DIR).
const (
	FirmwareDir = "/usr/lib/xen/boot"
	ExecbinDir  = "/usr/lib/xen/bin"
	Emulator    = ExecbinDir + "/qemu-system-i386"
)

// DefaultFirmwares is libxlDriverConfigNew's list: OVMF, then hvmloader.
func DefaultFirmwares() []string {
	return []string{FirmwareDir + "/ovmf.bin", FirmwareDir + "/hvmloader"}
}

func (h Host) arch() string {
	if h.Arch == "" {
		return "x86_64"
	}
	return h.Arch
}

func (h Host) xenCaps() string {
	if h.XenCaps != "" {
		return h.XenCaps
	}
	switch h.arch() {
	case "x86_64":
		if h.HVM {
			return "xen-3.0-x86_64 hvm-3.0-x86_32 hvm-3.0-x86_32p hvm-3.0-x86_64"
		}
		return "xen-3.0-x86_64"
	case "aarch64":
		return "xen-3.0-aarch64"
	}
	return "xen-3.0-" + h.arch()
}

// guestArch is one entry of libxlCapsInitGuests's table.
type guestArch struct {
	arch                  string
	hvm, pvh, pae, nonpae bool
	ia64BE                bool
}

var xenCapRE = regexp.MustCompile(`^(xen|hvm)-[0-9]+\.[0-9]+-(aarch64|armv7l|x86_32|x86_64|ia64|powerpc64)(p|be)?`)

// guestArches parses the capabilities string as libxlCapsInitGuests does:
// one entry per (arch, hvm) pair, and a PVH entry after an HVM one that
// is the newest. Like libvirt, a PVH entry (hvm false) can absorb a later
// PV token of the same arch.
func guestArches(capstr string) []guestArch {
	var out []guestArch
	for _, tok := range strings.Fields(capstr) {
		m := xenCapRE.FindStringSubmatch(tok)
		if m == nil || len(out) >= 32 {
			continue
		}
		hvm := m[1] == "hvm"
		arch, pae, nonpae, be := m[2], false, false, false
		switch m[2] {
		case "x86_32":
			arch, pae, nonpae = "i686", m[3] == "p", m[3] != "p"
		case "ia64":
			be = m[3] == "be"
		case "powerpc64":
			arch = "ppc64"
		}
		i := 0
		for i < len(out) && !(out[i].arch == arch && out[i].hvm == hvm) {
			i++
		}
		if i == len(out) {
			out = append(out, guestArch{})
		}
		e := &out[i]
		e.arch, e.hvm = arch, hvm
		e.pae = e.pae || pae
		e.nonpae = e.nonpae || nonpae
		e.ia64BE = e.ia64BE || be
		if hvm && i == len(out)-1 && len(out) < 32 {
			out = append(out, guestArch{arch: arch, pvh: true})
		}
	}
	return out
}

// Guests lists the guest types of the host in the form domxml validates
// definitions against.
func (h Host) Guests() []domxml.Guest {
	var out []domxml.Guest
	for _, g := range guestArches(h.xenCaps()) {
		out = append(out, domxml.Guest{OSType: ostype(g), Arch: g.arch})
	}
	return out
}

func ostype(g guestArch) string {
	switch {
	case g.hvm:
		return "hvm"
	case g.pvh:
		return "xenpvh"
	}
	return "xen"
}

func wordsize(arch string) int {
	switch arch {
	case "i686", "armv7l", "armv6l", "ppc", "mips", "mipsel":
		return 32
	}
	return 64
}

// libvirtDoc marshals v and writes it in libvirt's style.
func libvirtDoc(v any) (string, error) {
	b, err := xml.Marshal(v)
	if err != nil {
		return "", err
	}
	return domxml.LibvirtStyle(string(b))
}
