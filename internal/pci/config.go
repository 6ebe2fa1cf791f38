package pci

// Offsets and bits of config space, as virpci.c names them (PCI Local Bus
// 3.0, PCIe 2.0, PCI-to-PCI Bridge 1.2, PCI PM 1.2, the AF ECN).
const (
	confLen       = 0x100 // the conventional config space libvirt saves and restores
	confHeaderLen = 0x40  // capabilities never live in the header

	regStatus      = 0x06
	statusCapList  = 0x10
	regClass       = 0x0a // sub-class and base class, 16 bits
	regHeaderType  = 0x0e
	headerTypeMask = 0x7f // without the multi-function bit
	regCapList     = 0x34

	regSecondaryBus   = 0x19
	regSubordinateBus = 0x1a
	regBridgeControl  = 0x3e
	bridgeCtlReset    = 0x40 // secondary bus reset

	classBridgePCI = 0x0604

	expFlags         = 0x2
	expFlagsType     = 0x00f0
	expTypeDownstrm  = 0x6
	expDevCap        = 0x4
	expDevCapFLR     = 1 << 28
	pmCtrl           = 4
	pmCtrlStateMask  = 0x3
	pmCtrlStateD0    = 0x0
	pmCtrlStateD3hot = 0x3
	pmCtrlNoSoftRst  = 0x8
	afCap            = 0x3
	afCapFLR         = 0x2

	extCapBase     = 0x100
	extCapLimit    = 0x1000
	extCapIDMask   = 0x0000ffff
	extCapOffShift = 20
	extCapOffMask  = 0x00000ffc
	extACSCtrl     = 0x06
	// ACS source validation, P2P request redirect, completion redirect,
	// upstream forwarding: libvirt wants all four on a downstream port.
	acsEnabled = 0x01 | 0x04 | 0x08 | 0x10
)

// Capability IDs this package looks for.
const (
	CapPM      = 0x01   // power management
	CapExp     = 0x10   // PCI Express
	CapAF      = 0x13   // advanced features (FLR for conventional PCI)
	ExtCapACS  = 0x000d // access control services (extended)
	capWalkTTL = 48     // the kernel's PCI_FIND_CAP_TTL
)

// Header is a config space's header type (virPCIHeader).
type Header int

// The header types libvirt knows; any other value is an error.
const (
	HeaderEndpoint Header = iota
	HeaderPCIBridge
	HeaderCardbusBridge
	headerLast
)

// String is libvirt's name for the header type.
func (h Header) String() string {
	switch h {
	case HeaderEndpoint:
		return "endpoint"
	case HeaderPCIBridge:
		return "pci-bridge"
	case HeaderCardbusBridge:
		return "cardbus-bridge"
	}
	return ""
}

// Config is a device's config space as sysfs's config file gives it: 256
// bytes for conventional PCI, 4096 for PCI Express, and only the first 64
// to a reader without CAP_SYS_ADMIN.
type Config []byte

// read is virPCIDeviceRead: little-endian n bytes at pos; ok is false when
// the file is shorter (libvirt's errno), and the value then holds what
// could be read, zero-padded, as libvirt's memset buffer does.
func (c Config) read(pos, n int) (v uint32, ok bool) {
	for i := 0; i < n; i++ {
		if pos+i < 0 || pos+i >= len(c) {
			return v, false
		}
		v |= uint32(c[pos+i]) << (8 * i)
	}
	return v, true
}

func (c Config) read8(pos int) (uint8, bool) {
	v, ok := c.read(pos, 1)
	return uint8(v), ok
}

func (c Config) read16(pos int) (uint16, bool) {
	v, ok := c.read(pos, 2)
	return uint16(v), ok
}

func (c Config) read32(pos int) uint32 {
	v, _ := c.read(pos, 4)
	return v
}

// HeaderType is the header type without the multi-function bit; a short
// read counts as 0, an endpoint, as it does in virPCIGetHeaderType.
func (c Config) HeaderType() Header {
	t, _ := c.read8(regHeaderType)
	return Header(t & headerTypeMask)
}

// class is the 16-bit class code (base class and sub-class), what
// virPCIDeviceReadClass takes from sysfs's class file, which the kernel
// fills from these very bytes.
func (c Config) class() (uint16, bool) {
	return c.read16(regClass)
}

// CapOffset is virPCIDeviceFindCapabilityOffset: the offset of capability
// id in the standard list. found is false whenever libvirt returns -1,
// which is also when the capability is simply absent (libvirt's walk
// falls through to its error label) — the callers' rules depend on that.
// libvirt does not guard against a cyclic list; this walk stops after the
// kernel's 48 steps, as many capabilities as fit behind the header.
func (c Config) CapOffset(id uint8) (pos int, found bool) {
	status, ok := c.read16(regStatus)
	if !ok || status&statusCapList == 0 {
		return 0, false
	}
	p, ok := c.read8(regCapList)
	for ttl := capWalkTTL; ok && ttl > 0 && p >= confHeaderLen && p != 0xff; ttl-- {
		var capid uint8
		if capid, ok = c.read8(int(p)); !ok {
			break
		}
		if capid == id {
			return int(p), true
		}
		p, ok = c.read8(int(p) + 1)
	}
	return 0, false
}

// ExtCapOffset is virPCIDeviceFindExtendedCapabilityOffset: the offset of
// extended capability id, 0 if absent. A short read is a header of 0,
// which ends the walk; the TTL is libvirt's, one step per 8 bytes.
func (c Config) ExtCapOffset(id uint16) int {
	pos := extCapBase
	for ttl := (extCapLimit - extCapBase) / 8; ttl > 0 && pos >= extCapBase; ttl-- {
		header := c.read32(pos)
		if header&extCapIDMask == uint32(id) {
			return pos
		}
		pos = int(header>>extCapOffShift) & extCapOffMask
	}
	return 0
}
