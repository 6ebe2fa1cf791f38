package migration

import (
	"strings"
	"testing"
)

// FuzzDecode: Decode never panics, and a cookie it accepts survives
// Encode and Decode unchanged, except that a carriage return comes back
// as a newline: libvirt writes it raw and XML's end-of-line handling
// turns it into one, as it does for libvirt's own cookies.
func FuzzDecode(f *testing.F) {
	f.Add(Cookie{Name: "g1", UUID: testUUID, Hostname: "h", StreamVersion: 2}.Encode())
	f.Add([]byte("<x><name>a&amp;b</name><uuid>4dea22b31d52d8f32e165e6b1e2d5f64</uuid><migration-stream-version>1</migration-stream-version></x>\x00"))
	f.Add([]byte("<libxl-migration>\x00"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, in []byte) {
		c, err := Decode(in)
		if err != nil || len(in) == 0 {
			return
		}
		want := c
		want.Name, want.Hostname = eol(c.Name), eol(c.Hostname)
		got, err := Decode(c.Encode())
		if err != nil || got != want {
			t.Fatalf("Decode(Encode(%+v)) = %+v, %v", c, got, err)
		}
	})
}

func eol(s string) string {
	return strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\r", "\n")
}
