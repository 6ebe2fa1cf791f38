package daemontest

import (
	"encoding/binary"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// resetOf reads a config space as libvirt's virPCIDeviceReset does
// (src/util/virpci.c) and says which reset it would use.
func resetOf(c []byte, bus uint) PCIReset {
	if c[cfgHeaderType]&0x7f != 0 {
		return ResetNotEndpoint
	}
	find := func(id byte) int {
		if binary.LittleEndian.Uint16(c[cfgStatus:])&cfgStatusCaps == 0 {
			return 0
		}
		for pos, n := int(c[cfgCapPtr]), 0; pos >= 0x40 && pos != 0xff && n < 48; pos, n = int(c[pos+1]), n+1 {
			if c[pos] == id {
				return pos
			}
		}
		return 0
	}
	if exp := find(capPCIe); exp != 0 && binary.LittleEndian.Uint32(c[exp+4:])&expDevCapFLR != 0 {
		return ResetFLR
	}
	if pm := find(capPM); pm != 0 && binary.LittleEndian.Uint32(c[pm+4:])&pmNoSoftReset == 0 {
		return ResetPM
	}
	if bus != 0 {
		return ResetBus
	}
	return ResetNone
}

// TestPCIFixtureConfig: each default device's config space says what its
// fields say, and libvirt's reading of it gives the reset it expects.
func TestPCIFixtureConfig(t *testing.T) {
	for _, d := range DefaultPCIFixture().Devices {
		c := d.Config()
		a, err := parsePCIAddr(d.Addr)
		if err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{false: 256, true: 4096}[d.PCIe]; len(c) != want {
			t.Errorf("%s: %d bytes of config, want %d", d.Addr, len(c), want)
		}
		le := binary.LittleEndian
		if le.Uint16(c[0:]) != d.Vendor || le.Uint16(c[2:]) != d.Device || le.Uint32(c[8:])>>8 != d.Class {
			t.Errorf("%s: ids %04x:%04x class %06x in config", d.Addr, le.Uint16(c[0:]), le.Uint16(c[2:]), le.Uint32(c[8:])>>8)
		}
		if d.IsBridge() && (c[cfgHeaderType] != 1 || c[cfgSecondaryBus] != d.Secondary || c[cfgSubordinate] != d.Subordinate) {
			t.Errorf("%s: bridge header %#x, buses %d-%d", d.Addr, c[cfgHeaderType], c[cfgSecondaryBus], c[cfgSubordinate])
		}
		if got := resetOf(c, a.bus); got != d.Reset {
			t.Errorf("%s: config space gives reset %q, the fixture says %q", d.Addr, got, d.Reset)
		}
	}
}

// TestPCIFixtureLayout: the tree is sysfs's, every link resolves inside
// the fixture, and devices behind a bridge sit in its directory.
func TestPCIFixtureLayout(t *testing.T) {
	f := DefaultPCIFixture()
	f.Drivers = []string{"pciback"}
	fix := t.TempDir()
	if err := f.Write(fix); err != nil {
		t.Fatal(err)
	}
	bus := filepath.Join(fix, "bus", "pci")
	for _, d := range f.Devices {
		dir, err := filepath.EvalSymlinks(filepath.Join(bus, "devices", d.Addr))
		if err != nil {
			t.Fatal(err)
		}
		want := filepath.Join(fix, "devices", "pci0000:00", d.Addr)
		if d.Parent != "" {
			want = filepath.Join(fix, "devices", "pci0000:00", d.Parent, d.Addr)
		}
		if dir != want {
			t.Errorf("bus/pci/devices/%s is %s, want %s", d.Addr, dir, want)
		}
		if sub, _ := filepath.EvalSymlinks(filepath.Join(dir, "subsystem")); sub != bus {
			t.Errorf("%s: subsystem %s", d.Addr, sub)
		}
		drv, _ := filepath.EvalSymlinks(filepath.Join(dir, "driver"))
		if want := filepath.Join(bus, "drivers", d.Driver); d.Driver != "" && drv != want || d.Driver == "" && drv != "" {
			t.Errorf("%s: driver link %q, want %q", d.Addr, drv, d.Driver)
		}
		if d.Driver != "" {
			if back, _ := filepath.EvalSymlinks(filepath.Join(bus, "drivers", d.Driver, d.Addr)); back != dir {
				t.Errorf("drivers/%s/%s is %q", d.Driver, d.Addr, back)
			}
		}
		uevent, _ := os.ReadFile(filepath.Join(dir, "uevent"))
		if !strings.Contains(string(uevent), "PCI_SLOT_NAME="+d.Addr+"\n") {
			t.Errorf("%s: uevent %q", d.Addr, uevent)
		}
		class, _ := os.ReadFile(filepath.Join(dir, "class"))
		config, _ := os.ReadFile(filepath.Join(dir, "config"))
		if len(class) != 9 || string(config) != string(d.Config()) {
			t.Errorf("%s: class %q, config of %d bytes", d.Addr, class, len(config))
		}
	}
	for _, p := range []string{"drivers_probe", "drivers/pciback/bind", "drivers/e1000e/unbind"} {
		if _, err := os.Stat(filepath.Join(bus, p)); err != nil {
			t.Error(err)
		}
	}
}

// TestPCIFixtureErrors: a fixture that is no tree is refused.
func TestPCIFixtureErrors(t *testing.T) {
	bridge := PCIDevice{Addr: "0000:00:1e.0", Class: 0x060400, Secondary: 2, Subordinate: 2}
	for name, devs := range map[string][]PCIDevice{
		"bad address":     {{Addr: "00:03.0"}},
		"twice":           {{Addr: "0000:00:03.0"}, {Addr: "0000:00:03.0"}},
		"parent missing":  {{Addr: "0000:01:00.0", Parent: "0000:00:1e.0"}},
		"not a bridge":    {{Addr: "0000:00:1e.0", Class: 0x020000}, {Addr: "0000:01:00.0", Parent: "0000:00:1e.0"}},
		"other bus":       {bridge, {Addr: "0000:01:00.0", Parent: "0000:00:1e.0"}},
		"behind a device": {{Addr: "0000:02:00.0", Parent: "0000:02:00.0", Class: 0x060400, Secondary: 2}},
	} {
		if err := (PCIFixture{Devices: devs}).Write(t.TempDir()); err == nil {
			t.Errorf("%s: written", name)
		}
	}
}
