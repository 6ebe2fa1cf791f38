package backend

import "testing"

func TestUUIDRoundTrip(t *testing.T) {
	for _, s := range []string{"4dea22b3-1d52-d8f3-2516-782e98ab3fa0", "4dea22b31d52d8f32516782e98ab3fa0", "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0"} {
		u, err := ParseUUID(s)
		if err != nil {
			t.Fatalf("%s: %v", s, err)
		}
		if u.String() != "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" {
			t.Fatalf("%s -> %s", s, u)
		}
	}
	for _, s := range []string{"", "4dea22b3", "4dea22b3-1d52-d8f3-2516-782e98ab3fa0aa", "zz", "4dea22b3-1d52-d8f3-2516-782e98ab3fa"} {
		if _, err := ParseUUID(s); err == nil {
			t.Fatalf("%q accepted", s)
		}
	}
}

func FuzzParseUUID(f *testing.F) {
	f.Add("4dea22b3-1d52-d8f3-2516-782e98ab3fa0")
	f.Add("00000000000000000000000000000000")
	f.Add("- - -")
	f.Fuzz(func(t *testing.T, s string) {
		u, err := ParseUUID(s)
		if err != nil {
			return
		}
		if v, err := ParseUUID(u.String()); err != nil || v != u {
			t.Fatalf("round trip of %q: %v %v", s, v, err)
		}
	})
}
