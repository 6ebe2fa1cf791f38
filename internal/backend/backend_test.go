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

func TestScaleToKiB(t *testing.T) {
	cases := []struct {
		v    uint64
		unit string
		want uint64
	}{
		{512, "", 512}, {1, "MiB", 1024}, {2, "G", 2 << 20}, {1000, "KB", 977}, {1, "b", 1}, {1, "MB", 977},
	}
	for _, c := range cases {
		got, err := ScaleToKiB(c.v, c.unit)
		if err != nil || got != c.want {
			t.Errorf("%d %s: %d %v", c.v, c.unit, got, err)
		}
	}
	if _, err := ScaleToKiB(1, "furlong"); err == nil {
		t.Error("unknown unit accepted")
	}
	if _, err := ScaleToKiB(1<<60, "EiB"); err == nil {
		t.Error("overflow accepted")
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
