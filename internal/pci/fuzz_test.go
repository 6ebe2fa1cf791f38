package pci

import (
	"strings"
	"testing"
)

func FuzzParseAddr(f *testing.F) {
	for _, s := range []string{"0000:03:00.1", "10000:ff:1f.7", "0:0:0.0", "0000:03:20.0", "0000:03:00.8",
		"0000:03:00", ":03:00.1", "0000:03:00.1:", "+000:03:00.1", "0000:0x3:00.1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		a, err := ParseAddr(s)
		if err != nil {
			return
		}
		if a.Slot > 0x1f || a.Function > 7 {
			t.Fatalf("%q parsed out of range: %+v", s, a)
		}
		// What parses, prints as sysfs would name it and parses back.
		b, err := ParseAddr(a.String())
		if err != nil || b != a {
			t.Fatalf("%q → %v → %v, %v", s, a, b, err)
		}
		if strings.Count(s, ":") != 2 || strings.Count(s, ".") != 1 {
			t.Fatalf("%q parsed without its two colons and one dot", s)
		}
	})
}

// FuzzConfig walks capabilities over arbitrary config bytes: no panic, no
// endless walk, and every offset found points at its capability.
func FuzzConfig(f *testing.F) {
	f.Add([]byte(newCfg(256).caps([2]int{CapPM, 0x40}, [2]int{CapExp, 0x60}).b), false)
	f.Add([]byte(newCfg(4096).caps([2]int{CapExp, 0x40}).put(0x100, ExtCapACS|0x100<<20, 4).b), true)
	f.Add([]byte(newCfg(256).caps([2]int{CapAF, 0xfe}).b), true)
	f.Add([]byte{}, false)
	f.Fuzz(func(t *testing.T, b []byte, vf bool) {
		cfg := Config(b)
		for _, id := range []uint8{CapPM, CapExp, CapAF, 0xff} {
			if pos, found := cfg.CapOffset(id); found && (pos < confHeaderLen || pos >= len(cfg) || cfg[pos] != id) {
				t.Fatalf("cap %#x at %#x", id, pos)
			}
		}
		if pos := cfg.ExtCapOffset(ExtCapACS); pos != 0 && (pos < extCapBase || pos >= extCapLimit) {
			t.Fatalf("ACS at %#x", pos)
		}
		k := cfg.Caps(vf)
		cfg.lacksACS(k)
		cfg.bridgeBuses()
		if k.PMReset && k.PMCap == 0 || k.PCIeCap != 0 && !k.PCIe {
			t.Fatalf("inconsistent caps %+v", k)
		}
		_ = cfg.HeaderType().String()
	})
}
