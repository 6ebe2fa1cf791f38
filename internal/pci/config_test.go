package pci

import "testing"

// cfgBuilder lays out a config space by hand: the simulated bus has its
// own builder, which these tests cannot import (it imports this package).
type cfgBuilder struct{ b Config }

func newCfg(size int) *cfgBuilder { return &cfgBuilder{make(Config, size)} }

func (c *cfgBuilder) put(pos int, v uint32, n int) *cfgBuilder {
	for i := 0; i < n; i++ {
		c.b[pos+i] = byte(v >> (8 * i))
	}
	return c
}

// caps chains capabilities (id at each offset) from the list pointer.
func (c *cfgBuilder) caps(list ...[2]int) *cfgBuilder {
	c.put(regStatus, statusCapList, 2)
	prev := regCapList
	for _, cp := range list {
		c.b[prev] = byte(cp[1])
		c.b[cp[1]] = byte(cp[0])
		prev = cp[1] + 1
	}
	return c
}

func TestHeaderType(t *testing.T) {
	for _, c := range []struct {
		raw  byte
		want Header
	}{{0x00, HeaderEndpoint}, {0x80, HeaderEndpoint}, {0x01, HeaderPCIBridge}, {0x81, HeaderPCIBridge}, {0x02, HeaderCardbusBridge}, {0x7f, 0x7f}} {
		cfg := newCfg(256)
		cfg.b[regHeaderType] = c.raw
		if got := cfg.b.HeaderType(); got != c.want {
			t.Errorf("header byte %#x: %v, want %v", c.raw, got, c.want)
		}
	}
	if got := Config(make([]byte, 8)).HeaderType(); got != HeaderEndpoint {
		t.Errorf("short config: %v, want endpoint (libvirt's zeroed read)", got)
	}
	if HeaderPCIBridge.String() != "pci-bridge" || HeaderCardbusBridge.String() != "cardbus-bridge" || HeaderEndpoint.String() != "endpoint" {
		t.Error("header names differ from libvirt's")
	}
}

func TestCapOffset(t *testing.T) {
	cfg := newCfg(256).caps([2]int{CapPM, 0x40}, [2]int{0x05, 0x50}, [2]int{CapExp, 0x60}).b
	for _, c := range []struct {
		id    uint8
		pos   int
		found bool
	}{{CapPM, 0x40, true}, {CapExp, 0x60, true}, {CapAF, 0, false}} {
		if pos, found := cfg.CapOffset(c.id); pos != c.pos || found != c.found {
			t.Errorf("cap %#x: %#x %v, want %#x %v", c.id, pos, found, c.pos, c.found)
		}
	}
	noList := append(Config(nil), cfg...)
	noList[regStatus] = 0
	if _, found := noList.CapOffset(CapPM); found {
		t.Error("capability found without the status register's capability list bit")
	}
	// A list that points back at itself ends after the TTL.
	loop := newCfg(256).caps([2]int{0x05, 0x40}).b
	loop[0x41] = 0x40
	if _, found := loop.CapOffset(CapPM); found {
		t.Error("found a capability in a cyclic list of another")
	}
	// A pointer into the header or at 0xff ends the walk.
	if _, found := newCfg(256).caps([2]int{CapPM, 0x3c}).b.CapOffset(CapPM); found {
		t.Error("capability found inside the header")
	}
	// An unprivileged read stops at 64 bytes: the list cannot be read.
	if _, found := cfg[:64].CapOffset(CapPM); found {
		t.Error("capability found past a truncated read")
	}
}

func TestExtCapOffset(t *testing.T) {
	cfg := newCfg(4096)
	cfg.put(0x100, 0x0001|0x1<<16|0x140<<20, 4) // AER, next 0x140
	cfg.put(0x140, ExtCapACS|0x1<<16, 4)
	if pos := cfg.b.ExtCapOffset(ExtCapACS); pos != 0x140 {
		t.Errorf("ACS at %#x, want 0x140", pos)
	}
	if pos := cfg.b.ExtCapOffset(0x0b); pos != 0 {
		t.Errorf("absent capability at %#x", pos)
	}
	if pos := cfg.b[:256].ExtCapOffset(ExtCapACS); pos != 0 {
		t.Errorf("ACS found in a conventional config space at %#x", pos)
	}
	cfg.put(0x140, 0x0002|0x100<<20, 4) // a cycle back to the first
	if pos := cfg.b.ExtCapOffset(ExtCapACS); pos != 0 {
		t.Errorf("ACS found in a cycle at %#x", pos)
	}
}

func TestCaps(t *testing.T) {
	pcie := func(devcap uint32) Config {
		return newCfg(4096).caps([2]int{CapExp, 0x40}).put(0x40+expDevCap, devcap, 4).b
	}
	pm := func(ctl uint32) Config { return newCfg(256).caps([2]int{CapPM, 0x40}).put(0x40+pmCtrl, ctl, 4).b }
	af := func(bits uint32) Config { return newCfg(256).caps([2]int{CapAF, 0x40}).put(0x40+afCap, bits, 2).b }
	for _, c := range []struct {
		name string
		cfg  Config
		vf   bool
		want Caps
	}{
		{"PCIe with FLR", pcie(expDevCapFLR), false, Caps{PCIeCap: 0x40, PCIe: true, FLR: true}},
		{"PCIe without FLR", pcie(0), false, Caps{PCIeCap: 0x40, PCIe: true}},
		{"PM reset", pm(0), false, Caps{PMCap: 0x40, PMReset: true}},
		{"PM with NO_SOFT_RESET", pm(pmCtrlNoSoftRst), false, Caps{PMCap: 0x40}},
		{"AF FLR", af(afCapFLR), false, Caps{FLR: true}},
		{"AF without FLR, a VF", af(0), true, Caps{FLR: true}},
		{"AF without FLR", af(0), false, Caps{}},
		// libvirt's AF lookup fails when AF is absent, before the VF test.
		{"VF without AF or FLR", pcie(0), true, Caps{PCIeCap: 0x40, PCIe: true}},
		{"4096 bytes without a PCIe capability", newCfg(4096).b, false, Caps{PCIe: true}},
		{"an unprivileged read of 64 bytes", pm(0)[:64], false, Caps{PCIe: true}},
	} {
		if got := c.cfg.Caps(c.vf); got != c.want {
			t.Errorf("%s: %+v, want %+v", c.name, got, c.want)
		}
	}
}

func TestBridgeBusesAndACS(t *testing.T) {
	br := newCfg(4096).caps([2]int{CapExp, 0x40}).put(regClass, classBridgePCI, 2)
	br.put(regHeaderType, 1, 1).put(regSecondaryBus, 5, 1).put(regSubordinateBus, 7, 1)
	if sec, sub, ok := br.b.bridgeBuses(); !ok || sec != 5 || sub != 7 {
		t.Errorf("bridge buses %d %d %v", sec, sub, ok)
	}
	if br.b.lacksACS(br.b.Caps(false)) {
		t.Error("a root port (type 0) said to lack ACS")
	}
	br.put(0x40+expFlags, expTypeDownstrm<<4, 2)
	if !br.b.lacksACS(br.b.Caps(false)) {
		t.Error("a downstream port without ACS does not lack it")
	}
	br.put(0x100, ExtCapACS|1<<16, 4).put(0x100+extACSCtrl, 0x1d, 2)
	if br.b.lacksACS(br.b.Caps(false)) {
		t.Error("a downstream port with ACS enabled lacks it")
	}
	br.put(0x100+extACSCtrl, 0x0d, 2)
	if !br.b.lacksACS(br.b.Caps(false)) {
		t.Error("a downstream port without upstream forwarding has ACS")
	}
	ep := newCfg(256).put(regClass, 0x0200, 2)
	if _, _, ok := ep.b.bridgeBuses(); ok {
		t.Error("a NIC taken for a bridge")
	}
	cardbus := newCfg(256).put(regClass, classBridgePCI, 2).put(regHeaderType, 2, 1)
	if _, _, ok := cardbus.b.bridgeBuses(); ok {
		t.Error("a bridge class with a cardbus header taken for a PCI bridge")
	}
}
