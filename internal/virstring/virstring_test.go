package virstring

import (
	"fmt"
	"strconv"
	"strings"
	"testing"
)

func TestToUIntP(t *testing.T) {
	for _, c := range []struct {
		in   string
		want uint32
		ok   bool
	}{
		{"0", 0, true},
		{"2", 2, true},
		{"+7", 7, true},
		{" \t\n\v\f\r42", 42, true},
		{"4294967295", 4294967295, true},
		{"4294967296", 0, false},
		{"99999999999999999999999", 0, false},
		{"", 0, false},
		{"+", 0, false},
		{"  ", 0, false},
		{"-1", 0, false},
		{"-0", 0, false},
		{"1 ", 0, false},
		{"1x", 0, false},
		{"+ 1", 0, false},
		{"0x10", 0, false},
	} {
		got, ok := ToUIntP(c.in)
		if got != c.want || ok != c.ok {
			t.Errorf("ToUIntP(%q) = %d, %v; want %d, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// FuzzToUIntP checks the parser against strconv on the same input with
// the blanks and '+' that virStrToLong_uip allows taken off first.
func FuzzToUIntP(f *testing.F) {
	for _, s := range []string{"1", " +4", "-1", "4294967296", "\v9", "1e3"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, ok := ToUIntP(s)
		rest := strings.TrimPrefix(strings.TrimLeft(s, " \t\n\v\f\r"), "+")
		want, err := strconv.ParseUint(rest, 10, 32)
		digits := rest != "" && strings.Trim(rest, "0123456789") == ""
		wantOK := err == nil && digits
		if ok != wantOK || (ok && uint64(got) != want) {
			t.Fatalf("ToUIntP(%q) = %d, %v; strconv gives %d, %v", s, got, ok, want, err)
		}
	})
}

// FuzzToLL checks ToLL, ToInt and ToULLP against strconv, the way
// FuzzToUIntP checks ToUIntP.
func FuzzToLL(f *testing.F) {
	for _, s := range []string{"1", " -4", "+4", "-9223372036854775808", "9223372036854775808",
		"18446744073709551615", "18446744073709551616", "2147483648", "-2147483649", "\v9", "1e3", "-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		rest := strings.TrimLeft(s, " \t\n\v\f\r")
		unsigned := strings.TrimPrefix(rest, "+")
		signed := unsigned
		if strings.HasPrefix(rest, "-") {
			signed = rest
		}
		// one sign at most, and only before the digits
		digits := func(r string) bool {
			if r == rest && strings.HasPrefix(r, "-") {
				r = r[1:]
			}
			return r != "" && strings.Trim(r, "0123456789") == ""
		}
		ll, ok := ToLL(s)
		want, err := strconv.ParseInt(signed, 10, 64)
		if wantOK := err == nil && digits(signed); ok != wantOK || (ok && ll != want) {
			t.Fatalf("ToLL(%q) = %d, %v; strconv gives %d, %v", s, ll, ok, want, err)
		}
		i, ok := ToInt(s)
		want, err = strconv.ParseInt(signed, 10, 32)
		if wantOK := err == nil && digits(signed); ok != wantOK || (ok && int64(i) != want) {
			t.Fatalf("ToInt(%q) = %d, %v; strconv gives %d, %v", s, i, ok, want, err)
		}
		u, ok := ToULLP(s)
		wantU, err := strconv.ParseUint(unsigned, 10, 64)
		if wantOK := err == nil && digits(unsigned) && !strings.HasPrefix(unsigned, "-"); ok != wantOK || (ok && u != wantU) {
			t.Fatalf("ToULLP(%q) = %d, %v; strconv gives %d, %v", s, u, ok, wantU, err)
		}
	})
}

func TestEscapeString(t *testing.T) {
	for in, want := range map[string]string{
		"plain":              "plain",
		`a<b>&'c"`:           "a&lt;b&gt;&amp;&apos;c&quot;",
		"tab\tnl\ncr\r":      "tab\tnl\ncr\r",
		"x\x01\x08\x0b\x19y": "xy",
		"x\x1a\x1fy":         "xy",
		"héllo":              "héllo",
	} {
		if got := EscapeString(in); got != want {
			t.Errorf("EscapeString(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestParseUUID(t *testing.T) {
	const want = "4dea22b31d52d8f32516782e98ab3fa0"
	for _, s := range []string{
		"4dea22b3-1d52-d8f3-2516-782e98ab3fa0",
		"4DEA22B31D52D8F32516782E98AB3FA0",
		" \t4dea22b3 1d52 d8f3 2516 782e98ab3fa0\n",
		"4d-ea-22-b3-1d-52-d8-f3-25-16-78-2e-98-ab-3f-a0",
		"--4dea22b31d52d8f32516782e98ab3fa0",
	} {
		u, ok := ParseUUID(s)
		if !ok || fmt.Sprintf("%x", u) != want {
			t.Errorf("ParseUUID(%q) = %x, %v", s, u, ok)
		}
	}
	for _, s := range []string{
		"", "4dea22b3", "4dea22b3-1d52-d8f3-2516-782e98ab3fa",
		"4dea22b3-1d52-d8f3-2516-782e98ab3fa0aa",
		"4-dea22b31d52d8f32516782e98ab3fa0",      // a dash inside a pair
		"4dea22b31d52d8f32516782e98ab3fa0-",      // nothing but blanks after
		"\u00a04dea22b31d52d8f32516782e98ab3fa0", // not an ASCII blank
		"zz",
	} {
		if _, ok := ParseUUID(s); ok {
			t.Errorf("ParseUUID(%q) accepted", s)
		}
	}
}

func TestToUIntPAnyBase(t *testing.T) {
	for s, want := range map[string]int64{
		"0": 0, "17": 17, "0x1f": 31, "0X1F": 31, "010": 8, " +0x10": 16, "4294967295": 4294967295,
		"": -1, "0x": -1, "08": -1, "-1": -1, "1 ": -1, "0o7": -1, "0b1": -1, "1_0": -1, "4294967296": -1, "0x100000000": -1,
	} {
		v, ok := ToUIntPAnyBase(s)
		if want < 0 && ok || want >= 0 && (!ok || int64(v) != want) {
			t.Errorf("%q: %d, %v; want %d", s, v, ok, want)
		}
	}
}
