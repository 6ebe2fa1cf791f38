package caps

import (
	"encoding/xml"
	"sort"
	"strings"

	"virtxend/internal/domxml"
)

// The capabilities document. libvirtxml.Caps has no <netprefix> and no
// guest <hap> feature, both of which libxl emits, so this package keeps
// its own model of the parts libxl uses, in libvirt's element order.
type capsDoc struct {
	XMLName xml.Name    `xml:"capabilities"`
	Host    capsHost    `xml:"host"`
	Guests  []capsGuest `xml:"guest"`
}

type capsHost struct {
	CPU       capsCPU       `xml:"cpu"`
	Power     struct{}      `xml:"power_management"`
	IOMMU     capsIOMMU     `xml:"iommu"`
	Migration capsMigration `xml:"migration_features"`
	NetPrefix string        `xml:"netprefix"`
	Topology  *capsTopology `xml:"topology"`
}

type capsCPU struct {
	Arch     string          `xml:"arch"`
	Features *capsHostFeats  `xml:"features"`
	Model    string          `xml:"model,omitempty"`
	Vendor   string          `xml:"vendor,omitempty"`
	Topology *capsCPUTopo    `xml:"topology"`
	Feature  []capsNamedFeat `xml:"feature"`
}

type capsHostFeats struct {
	PAE *struct{} `xml:"pae"`
}

type capsCPUTopo struct {
	Sockets  int `xml:"sockets,attr"`
	Dies     int `xml:"dies,attr"`
	Clusters int `xml:"clusters,attr"`
	Cores    int `xml:"cores,attr"`
	Threads  int `xml:"threads,attr"`
}

type capsNamedFeat struct {
	Name string `xml:"name,attr"`
}

type capsIOMMU struct {
	Support string `xml:"support,attr"`
}

type capsMigration struct {
	Live struct{} `xml:"live"`
}

type capsTopology struct {
	Cells capsCells `xml:"cells"`
}

type capsCells struct {
	Num   int        `xml:"num,attr"`
	Cells []capsCell `xml:"cell"`
}

type capsCell struct {
	ID        int            `xml:"id,attr"`
	Memory    *capsMemory    `xml:"memory"`
	Distances *capsDistances `xml:"distances"`
	CPUs      capsCellCPUs   `xml:"cpus"`
}

type capsMemory struct {
	Unit  string `xml:"unit,attr"`
	Value uint64 `xml:",chardata"`
}

type capsDistances struct {
	Siblings []capsSibling `xml:"sibling"`
}

type capsSibling struct {
	ID    int `xml:"id,attr"`
	Value int `xml:"value,attr"`
}

type capsCellCPUs struct {
	Num  int           `xml:"num,attr"`
	CPUs []capsCellCPU `xml:"cpu"`
}

type capsCellCPU struct {
	ID        int    `xml:"id,attr"`
	SocketID  int    `xml:"socket_id,attr"`
	DieID     int    `xml:"die_id,attr"`
	ClusterID int    `xml:"cluster_id,attr"`
	CoreID    int    `xml:"core_id,attr"`
	Siblings  string `xml:"siblings,attr"`
}

type capsGuest struct {
	OSType   string          `xml:"os_type"`
	Arch     capsGuestArch   `xml:"arch"`
	Features *capsGuestFeats `xml:"features"`
}

type capsGuestArch struct {
	Name     string          `xml:"name,attr"`
	WordSize int             `xml:"wordsize"`
	Emulator string          `xml:"emulator"`
	Loader   string          `xml:"loader,omitempty"`
	Machines []string        `xml:"machine"`
	Domain   capsGuestDomain `xml:"domain"`
}

type capsGuestDomain struct {
	Type string `xml:"type,attr"`
}

// capsGuestFeats is in virCapsGuestFeatureType order.
type capsGuestFeats struct {
	PAE    *struct{}   `xml:"pae"`
	NonPAE *struct{}   `xml:"nonpae"`
	IA64BE *struct{}   `xml:"ia64_be"`
	ACPI   *capsToggle `xml:"acpi"`
	APIC   *capsToggle `xml:"apic"`
	HAP    *capsToggle `xml:"hap"`
}

type capsToggle struct {
	Default string `xml:"default,attr"`
	Toggle  string `xml:"toggle,attr"`
}

// Capabilities is libxlMakeCapabilities formatted by
// virCapabilitiesFormatXML, blank lines included.
func Capabilities(h Host) (string, error) {
	doc := capsDoc{Host: hostPart(h)}
	for _, g := range guestArches(h.xenCaps()) {
		doc.Guests = append(doc.Guests, guestPart(g))
	}
	s, err := libvirtDoc(doc)
	if err != nil {
		return "", err
	}
	// virCapabilitiesFormatXML separates the top-level parts by a blank line.
	s = strings.Replace(s, "<capabilities>\n", "<capabilities>\n\n", 1)
	s = strings.ReplaceAll(s, "\n  </host>\n", "\n  </host>\n\n")
	s = strings.ReplaceAll(s, "\n  </guest>\n", "\n  </guest>\n\n")
	return s, nil
}

func hostPart(h Host) capsHost {
	cpu := capsCPU{Arch: h.arch(), Model: h.CPUModel, Vendor: h.CPUVendor}
	if h.PAE {
		cpu.Features = &capsHostFeats{PAE: &struct{}{}}
	}
	if isX86(h.arch()) {
		cores, threads := max1(h.CoresPerSocket), max1(h.ThreadsPerCore)
		cpu.Topology = &capsCPUTopo{Sockets: h.CPUs / (cores * threads), Dies: 1,
			Clusters: 1, Cores: cores, Threads: threads}
		for _, f := range h.CPUFeatures {
			cpu.Feature = append(cpu.Feature, capsNamedFeat{f})
		}
	} else {
		cpu.Model, cpu.Vendor = "", ""
	}
	return capsHost{
		CPU:       cpu,
		IOMMU:     capsIOMMU{Support: "no"},
		NetPrefix: "vif",
		Topology:  topology(h),
	}
}

func isX86(arch string) bool { return arch == "x86_64" || arch == "i686" }

func max1(v int) int {
	if v < 1 {
		return 1
	}
	return v
}

// topology is libxlCapsInitNuma: CPUs per node with their siblings (same
// socket and core within the node).
func topology(h Host) *capsTopology {
	cells := h.Cells
	if len(cells) == 0 {
		c := Cell{MemoryKiB: h.MemoryKiB}
		cores, threads := max1(h.CoresPerSocket), max1(h.ThreadsPerCore)
		for i := 0; i < h.CPUs; i++ {
			c.CPUs = append(c.CPUs, CPU{ID: i, Socket: i / (cores * threads), Core: (i / threads) % cores})
		}
		cells = []Cell{c}
	}
	t := &capsTopology{Cells: capsCells{Num: len(cells)}}
	for _, c := range cells {
		cell := capsCell{ID: c.ID, CPUs: capsCellCPUs{Num: len(c.CPUs)}}
		if c.MemoryKiB > 0 {
			cell.Memory = &capsMemory{Unit: "KiB", Value: c.MemoryKiB}
		}
		if len(c.Distances) > 0 {
			cell.Distances = &capsDistances{}
			for j, v := range c.Distances {
				cell.Distances.Siblings = append(cell.Distances.Siblings, capsSibling{j, v})
			}
		}
		for _, p := range c.CPUs {
			var sib []int
			for _, q := range c.CPUs {
				if q.Socket == p.Socket && q.Core == p.Core {
					sib = append(sib, q.ID)
				}
			}
			cell.CPUs.CPUs = append(cell.CPUs.CPUs, capsCellCPU{ID: p.ID, SocketID: p.Socket,
				CoreID: p.Core, Siblings: siblings(sib)})
		}
		t.Cells.Cells = append(t.Cells.Cells, cell)
	}
	return t
}

func guestPart(g guestArch) capsGuest {
	cg := capsGuest{OSType: ostype(g), Arch: capsGuestArch{
		Name: g.arch, WordSize: wordsize(g.arch), Emulator: Emulator,
		Domain: capsGuestDomain{Type: "xen"},
	}}
	switch {
	case g.hvm:
		cg.Arch.Loader = FirmwareDir + "/hvmloader"
		cg.Arch.Machines = []string{"xenfv"}
	case g.pvh:
		cg.Arch.Machines = []string{"xenpvh"}
	default:
		cg.Arch.Machines = []string{"xenpv"}
	}
	f := &capsGuestFeats{}
	if g.pae {
		f.PAE = &struct{}{}
	}
	if g.nonpae {
		f.NonPAE = &struct{}{}
	}
	if g.ia64BE {
		f.IA64BE = &struct{}{}
	}
	if g.hvm {
		f.ACPI = &capsToggle{"on", "yes"}
		f.APIC = &capsToggle{"on", "no"}
	}
	if g.hvm || g.pvh {
		f.HAP = &capsToggle{"on", "yes"}
	}
	if *f != (capsGuestFeats{}) {
		cg.Features = f
	}
	return cg
}

// siblings is a core's CPU list as virBitmapFormat writes it.
func siblings(ids []int) string {
	sort.Ints(ids)
	return domxml.FormatCPUSet(ids)
}
