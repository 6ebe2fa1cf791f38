package migration

import (
	"errors"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/virerr"
)

var testUUID = backend.UUID{0x4d, 0xea, 0x22, 0xb3, 0x1d, 0x52, 0xd8, 0xf3, 0x2e, 0x16, 0x5e, 0x6b, 0x1e, 0x2d, 0x5f, 0x64}

// TestEncode checks the bytes against what libxlMigrationBakeCookie writes.
func TestEncode(t *testing.T) {
	c := Cookie{Name: "g<1>&'\"\x01", UUID: testUUID, Hostname: "xen1.example.org", StreamVersion: StreamVersion}
	want := "<libxl-migration>\n" +
		"  <name>g&lt;1&gt;&amp;&apos;&quot;</name>\n" +
		"  <uuid>4dea22b3-1d52-d8f3-2e16-5e6b1e2d5f64</uuid>\n" +
		"  <hostname>xen1.example.org</hostname>\n" +
		"  <migration-stream-version>2</migration-stream-version>\n" +
		"</libxl-migration>\n\x00"
	if got := string(c.Encode()); got != want {
		t.Errorf("Encode:\n%q\nwant\n%q", got, want)
	}
}

func TestDecode(t *testing.T) {
	const u = "4dea22b3-1d52-d8f3-2e16-5e6b1e2d5f64"
	doc := func(inner string) []byte { return []byte("<libxl-migration>" + inner + "</libxl-migration>\n\x00") }
	good := "<name>g1</name><uuid>" + u + "</uuid>"
	tests := []struct {
		name string
		in   []byte
		want Cookie
		err  string // the client's text; "" for success
	}{
		{"none is the legacy stream", nil, Cookie{StreamVersion: 1}, ""},
		{"full", doc(good + "<hostname>h</hostname><migration-stream-version>2</migration-stream-version>"),
			Cookie{Name: "g1", UUID: testUUID, Hostname: "h", StreamVersion: 2}, ""},
		{"no hostname, any root, blanks around numbers", []byte("<x><name>g1</name><uuid> 4dea22b31d52d8f3 2e165e6b1e2d5f64 </uuid><migration-stream-version> +7</migration-stream-version></x>\x00"),
			Cookie{Name: "g1", UUID: testUUID, StreamVersion: 7}, ""},
		{"first of each, descendants' text", doc("<name>a<b>c</b></name><name>z</name><uuid>" + u + "</uuid><migration-stream-version>1</migration-stream-version>"),
			Cookie{Name: "ac", UUID: testUUID, StreamVersion: 1}, ""},
		{"not terminated", []byte("<libxl-migration/>"), Cookie{}, "internal error: Migration cookie was not NULL terminated"},
		{"no name", doc("<uuid>" + u + "</uuid>"), Cookie{}, "internal error: missing name element in migration data"},
		{"empty name", doc("<name></name><uuid>" + u + "</uuid>"), Cookie{}, "internal error: missing name element in migration data"},
		{"nested name does not count", doc("<a><name>g</name></a>"), Cookie{}, "internal error: missing name element in migration data"},
		{"no uuid", doc("<name>g1</name>"), Cookie{}, "internal error: missing uuid element in migration data"},
		{"bad uuid", doc("<name>g1</name><uuid>4dea22b3</uuid>"), Cookie{}, "internal error: malformed uuid element"},
		{"no version", doc(good), Cookie{}, "internal error: missing Xen migration stream version"},
		{"negative version", doc(good + "<migration-stream-version>-1</migration-stream-version>"), Cookie{}, "internal error: missing Xen migration stream version"},
		{"version too big", doc(good + "<migration-stream-version>4294967296</migration-stream-version>"), Cookie{}, "internal error: missing Xen migration stream version"},
		{"version trailing text", doc(good + "<migration-stream-version>2 </migration-stream-version>"), Cookie{}, "internal error: missing Xen migration stream version"},
		{"ends at the first NUL", []byte("<libxl-migration><name>g1</name></libxl-migration>\x00<uuid>" + u + "</uuid>\x00"), Cookie{}, "internal error: missing uuid element in migration data"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Decode(tt.in)
			if tt.err != "" {
				if err == nil || err.Error() != tt.err {
					t.Fatalf("Decode error %v, want %q", err, tt.err)
				}
				var ve *virerr.Error
				if !errors.As(err, &ve) || ve.Domain != virerr.FromLibxl || ve.Code != libvirt.ErrInternalError {
					t.Errorf("error %#v, want libxl's internal error", err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("Decode = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

// TestDecodeMalformed: a cookie that is not XML is libvirt's XML error,
// in the libxl driver's domain.
func TestDecodeMalformed(t *testing.T) {
	_, err := Decode([]byte("<libxl-migration><name>\x00"))
	var ve *virerr.Error
	if !errors.As(err, &ve) || ve.Domain != virerr.FromLibxl || ve.Code != libvirt.ErrXMLDetail || !strings.HasPrefix(err.Error(), "at line 1: Premature end of data") {
		t.Fatalf("Decode error %v, want an XML error from libxl", err)
	}
}

func TestRoundTrip(t *testing.T) {
	c := Cookie{Name: "guest é\t'x'", UUID: testUUID, Hostname: "h<&>", StreamVersion: 4294967295}
	got, err := Decode(c.Encode())
	if err != nil || got != c {
		t.Fatalf("Decode(Encode(%+v)) = %+v, %v", c, got, err)
	}
}
