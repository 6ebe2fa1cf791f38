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

// FuzzParseIncoming: a URI the destination accepts names a host, and the
// URI it reports for it reads back as the same endpoint.
func FuzzParseIncoming(f *testing.F) {
	for _, s := range []string{"tcp://h.example:49200", "h", "[::1]:5", "tcp://:1", "tcp://h:99999", "%zz"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, uri string) {
		e, err := ParseIncoming(uri)
		if err != nil {
			return
		}
		if e.Host == "" {
			t.Fatalf("%q: no host", uri)
		}
		if e.Port == 0 {
			e.Port = PortMin
		}
		back, err := ParseOutgoing(e.URI())
		if err != nil || back != e {
			t.Fatalf("%q: %+v reported as %q, read back as %+v, %v", uri, e, e.URI(), back, err)
		}
	})
}
