package libxl

import (
	"strings"
	"testing"
)

// FuzzParseNetDev: any text parses without panicking; every interface
// kept has its 16 counters, each a number or -1, and a name with no
// colon or surrounding blanks.
func FuzzParseNetDev(f *testing.F) {
	f.Add(netDev)
	f.Add("x: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n")
	f.Add("a:b: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n:\n\n")
	f.Add("vif1.0: 99999999999999999999 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16")
	f.Fuzz(func(t *testing.T, text string) {
		for name, c := range parseNetDev(strings.NewReader(text)) {
			if strings.Contains(name, ":") || strings.TrimSpace(name) != name {
				t.Fatalf("interface %q", name)
			}
			for _, v := range c {
				if v < -1 {
					t.Fatalf("%s: counter %d", name, v)
				}
			}
		}
	})
}

// FuzzBackendDevice: a xen-backend device name splits into a kind with no
// dash, a domid and a device number that is not negative, or is refused.
func FuzzBackendDevice(f *testing.F) {
	for _, s := range []string{"vbd-5-51712", "vif-5-0", "console-5-0", "vbd-5-bad", "vbd--1-2", "vif-4294967296-0", "a-b-c-d"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		kind, domid, n, ok := backendDevice(name)
		if !ok {
			return
		}
		if n < 0 || strings.Contains(kind, "-") {
			t.Fatalf("%q: %q %d %d", name, kind, domid, n)
		}
		vdevName(n) // any device number is named or refused without a panic
	})
}
