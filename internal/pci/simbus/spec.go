package simbus

import "virtxend/internal/pci"

// Spec describes a device's config space; Bytes lays it out. Only what
// libvirt's rules read is there: ids, class, header, bridge bus numbers,
// and the capabilities that say which resets work.
type Spec struct {
	Vendor, Device uint16
	// Class is the 24-bit class code: 0x020000 an Ethernet controller,
	// 0x060400 a PCI-to-PCI bridge.
	Class  uint32
	Header pci.Header
	Multi  bool // the multi-function bit of the header type
	// Primary, Secondary and Subordinate are a bridge's bus numbers: its
	// own bus, the bus right behind it, the highest bus behind it.
	Primary, Secondary, Subordinate uint8
	PCIe                            *PCIe // nil: conventional PCI, 256 bytes of config space
	PM                              *PM
	AF                              *AF
}

// PCIe is the PCI Express capability; a device with one has 4096 bytes of
// config space.
type PCIe struct {
	// Type is the device/port type: 0 an endpoint, 4 a root port, 5 a
	// switch's upstream port, 6 its downstream port.
	Type uint8
	FLR  bool // function level reset in DEVCAP
	// ACS adds an access control services extended capability with this
	// control register (0x1d enables what libvirt wants).
	ACS *uint16
}

// PM is the power management capability.
type PM struct {
	// NoSoftReset: D3hot→D0 does not reset the device, so libvirt cannot
	// use it for a reset.
	NoSoftReset bool
}

// AF is the advanced features capability, conventional PCI's FLR.
type AF struct{ FLR bool }

// Where Bytes puts the capabilities.
const (
	pmAt   = 0x40
	afAt   = 0x48
	pcieAt = 0x50
	acsAt  = 0x100
)

// Bytes is the config space.
func (s Spec) Bytes() []byte {
	size := 256
	if s.PCIe != nil {
		size = 4096
	}
	c := make(cfg, size)
	c.put(0x00, uint32(s.Vendor), 2)
	c.put(0x02, uint32(s.Device), 2)
	c.put(0x09, s.Class, 3)
	hdr := uint32(s.Header)
	if s.Multi {
		hdr |= 0x80
	}
	c.put(0x0e, hdr, 1)
	if s.Header == pci.HeaderPCIBridge {
		c.put(0x18, uint32(s.Primary), 1)
		c.put(regSecondary, uint32(s.Secondary), 1)
		c.put(regSubordinate, uint32(s.Subordinate), 1)
	}
	s.caps(c)
	return c
}

// cfg is a config space being laid out.
type cfg []byte

func (c cfg) put(pos int, v uint32, n int) {
	for i := 0; i < n; i++ {
		c[pos+i] = byte(v >> (8 * i))
	}
}

// caps chains the capabilities present from the list pointer at 0x34.
func (s Spec) caps(c cfg) {
	prev := 0x34
	link := func(pos int, id uint8) {
		c.put(0x06, 0x10, 2) // status: capability list
		c.put(prev, uint32(pos), 1)
		c.put(pos, uint32(id), 1)
		prev = pos + 1
	}
	if s.PM != nil {
		link(pmAt, pci.CapPM)
		c.put(pmAt+2, 0x0003, 2) // PM spec 1.2
		if s.PM.NoSoftReset {
			c.put(pmAt+pmCtrl, 0x8, 4)
		}
	}
	if s.AF != nil {
		link(afAt, pci.CapAF)
		c.put(afAt+2, 6, 1) // length
		if s.AF.FLR {
			c.put(afAt+3, 0x3, 1) // transactions pending, FLR
		} else {
			c.put(afAt+3, 0x1, 1)
		}
	}
	if s.PCIe != nil {
		link(pcieAt, pci.CapExp)
		c.put(pcieAt+2, 0x2|uint32(s.PCIe.Type)<<4, 2) // version 2, type
		if s.PCIe.FLR {
			c.put(pcieAt+4, 1<<28, 4)
		}
		if s.PCIe.ACS != nil {
			c.put(acsAt, pci.ExtCapACS|1<<16, 4) // version 1, last
			c.put(acsAt+4, 0x1f, 2)
			c.put(acsAt+6, uint32(*s.PCIe.ACS), 2)
		}
	}
}

// Bridge is a conventional PCI-to-PCI bridge with the given buses behind it.
func Bridge(secondary, subordinate uint8) Spec {
	return Spec{Vendor: 0x8086, Device: 0x244e, Class: 0x060400, Header: pci.HeaderPCIBridge,
		Secondary: secondary, Subordinate: subordinate}
}

// NIC is an Ethernet controller with the given capabilities.
func NIC(pcie *PCIe, pm *PM) Spec {
	return Spec{Vendor: 0x8086, Device: 0x10d3, Class: 0x020000, PCIe: pcie, PM: pm}
}
