package daemontest

import "encoding/binary"

// Config space offsets and values (PCI Local Bus 3.0, PCI-to-PCI Bridge
// 1.2, PCI PM 1.2, PCI Express 2.0): the ones libvirt's virpci.c reads.
const (
	cfgCommand      = 0x04
	cfgStatus       = 0x06
	cfgStatusCaps   = 0x10 // the capability list at cfgCapPtr is valid
	cfgRevision     = 0x08
	cfgCacheLine    = 0x0c
	cfgHeaderType   = 0x0e
	cfgSubVendor    = 0x2c // header type 0; a bridge has an SSVID capability
	cfgCapPtr       = 0x34
	cfgIntLine      = 0x3c
	cfgIntPin       = 0x3d
	cfgPrimaryBus   = 0x18 // header type 1
	cfgSecondaryBus = 0x19
	cfgSubordinate  = 0x1a
	cfgSecLatency   = 0x1b
	cfgIOBase       = 0x1c
	cfgMemBase      = 0x20
	cfgPrefBase     = 0x24

	capPM    = 0x01
	capMSI   = 0x05
	capSSVID = 0x0d
	capPCIe  = 0x10

	pmNoSoftReset = 0x0008     // PMCSR, at PM cap + 4
	expDevCapFLR  = 1 << 28    // DEVCAP, at PCIe cap + 4
	extCapAER     = 0x0001     // the first extended capability, at 0x100
	pcieTypeEP    = 0x0        // PCIe cap flags' device/port type (bits 7:4)
	pcieTypeRoot  = 0x4        // root port
	pcieTypeDown  = 0x6        // switch downstream port
	pcieSlot      = 0x0100     // flags: slot implemented
	pcieLink      = 0x00000c11 // LNKCAP: 2.5 GT/s, x1, ASPM L0s and L1
	pcieLinkSta   = 0x1011     // LNKSTA: 2.5 GT/s, x1, slot clock
	pcieDevCap    = 0x00008cc1 // DEVCAP: 256-byte payload, L0s/L1 latencies, role-based errors
	pmPMC         = 0xc803     // PMC: PM 1.2, PME from D0, D3hot, D3cold
	configSize    = 256        // conventional PCI
	configSizeExp = 4096       // PCI Express
	capsStart     = 0x40       // the first capability, after the header
	capsAlign     = 0x10       // each one starts on such a boundary
)

// Config is the device's config space: 256 bytes, or 4096 for PCI
// Express, little-endian as sysfs's config file gives it.
func (d PCIDevice) Config() []byte {
	size := configSize
	if d.PCIe {
		size = configSizeExp
	}
	c := make([]byte, size)
	le := binary.LittleEndian
	le.PutUint16(c[0x00:], d.Vendor)
	le.PutUint16(c[0x02:], d.Device)
	c[cfgRevision] = d.Revision
	c[0x09], c[0x0a], c[0x0b] = byte(d.Class), byte(d.Class>>8), byte(d.Class>>16)
	switch {
	case d.IsBridge():
		le.PutUint16(c[cfgCommand:], 0x0007) // I/O, memory, bus master
	case d.Driver != "" || d.Class>>8 == 0x0600:
		le.PutUint16(c[cfgCommand:], 0x0006) // memory, bus master
	}
	if d.Class>>8 != 0x0600 {
		c[cfgCacheLine] = 0x10
	}
	if d.IRQ > 0 {
		c[cfgIntLine], c[cfgIntPin] = byte(d.IRQ), 1 // INTA
	}
	if d.IsBridge() {
		a, _ := parsePCIAddr(d.Addr)
		c[cfgHeaderType] = 0x01
		c[cfgPrimaryBus], c[cfgSecondaryBus], c[cfgSubordinate] = byte(a.bus), d.Secondary, d.Subordinate
		if !d.PCIe {
			c[cfgSecLatency] = 0x20
		}
		// Windows closed (base above limit): nothing assigned behind it.
		c[cfgIOBase], c[cfgIOBase+1] = 0xf0, 0x00
		le.PutUint32(c[cfgMemBase:], 0x0000fff0)
		le.PutUint32(c[cfgPrefBase:], 0x0001fff1)
	} else {
		le.PutUint16(c[cfgSubVendor:], d.SubVendor)
		le.PutUint16(c[cfgSubVendor+2:], d.SubDevice)
	}

	caps := d.capabilities()
	if len(caps) > 0 {
		le.PutUint16(c[cfgStatus:], cfgStatusCaps)
		c[cfgCapPtr] = capsStart
	}
	pos := capsStart
	for i, cp := range caps {
		next := 0
		if i < len(caps)-1 {
			next = pos + (2+len(cp.body)+capsAlign-1)/capsAlign*capsAlign
		}
		c[pos], c[pos+1] = cp.id, byte(next)
		copy(c[pos+2:], cp.body)
		pos = next
	}
	if d.PCIe {
		le.PutUint32(c[0x100:], 1<<16|extCapAER) // version 1, last
	}
	return c
}

// pciCap is one capability: its id and the bytes after id and next.
type pciCap struct {
	id   byte
	body []byte
}

// capabilities are the device's capabilities, in list order.
func (d PCIDevice) capabilities() []pciCap {
	le := binary.LittleEndian
	var caps []pciCap
	if d.PM {
		b := make([]byte, 6) // PMC, PMCSR, bridge extensions, data
		le.PutUint16(b[0:], pmPMC)
		if d.NoSoftReset {
			le.PutUint16(b[2:], pmNoSoftReset)
		}
		caps = append(caps, pciCap{capPM, b})
	}
	if d.MSI {
		b := make([]byte, 12) // control (64-bit), address, data
		le.PutUint16(b[0:], 0x0080)
		caps = append(caps, pciCap{capMSI, b})
	}
	if d.PCIe {
		b := make([]byte, 0x3a) // version 2: up to the slot registers 2
		typ := pcieTypeEP
		if d.IsBridge() {
			typ = pcieTypeDown
			if d.Parent == "" {
				typ = pcieTypeRoot
			}
		}
		flags := uint16(2 | typ<<4)
		if d.IsBridge() {
			flags |= pcieSlot
		}
		le.PutUint16(b[0x00:], flags)
		devcap := uint32(pcieDevCap)
		if d.FLR {
			devcap |= expDevCapFLR
		}
		le.PutUint32(b[0x02:], devcap)      // DEVCAP at cap+4
		le.PutUint16(b[0x06:], 0x2810)      // DEVCTL: 512-byte reads, no snoop, relaxed ordering
		le.PutUint32(b[0x0a:], pcieLink)    // LNKCAP at cap+0x0c
		le.PutUint16(b[0x10:], pcieLinkSta) // LNKSTA at cap+0x12
		le.PutUint32(b[0x2a:], 0x02)        // LNKCAP2 at cap+0x2c: 2.5 GT/s
		caps = append(caps, pciCap{capPCIe, b})
	}
	if d.IsBridge() && (d.SubVendor != 0 || d.SubDevice != 0) {
		b := make([]byte, 6) // reserved, subsystem vendor, subsystem
		le.PutUint16(b[2:], d.SubVendor)
		le.PutUint16(b[4:], d.SubDevice)
		caps = append(caps, pciCap{capSSVID, b})
	}
	return caps
}
