package domxml

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts formats, and the
// formatted XML parses again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(okPV)
	f.Add(`<domain type='xen'><name>g</name><memory unit='G'>1</memory><os><type>hvm</type></os>` +
		`<devices><console/><serial/><video/><graphics type='vnc' socket='/s'/></devices></domain>`)
	f.Add(`<domain type='xen'><name>g</name><metadata><a:b xmlns:a="u"/><c/></metadata></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParseWith(doc, Options{Rand: fixedRand()})
		if err != nil {
			return
		}
		out, err := FormatFlags(d, FormatInactive|FormatSecure)
		if err != nil {
			t.Fatalf("Format of a parsed definition failed: %v", err)
		}
		if _, err := ParseWith(out, Options{Rand: fixedRand()}); err != nil {
			t.Fatalf("formatted XML does not parse: %v\n%s", err, out)
		}
	})
}

// FuzzValidateSchema: the schema check never panics, and what we format
// ourselves always passes it.
func FuzzValidateSchema(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`<domain type='xen'><name>g</name><bogus a='1'/><os><type>linux</type></os></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		ValidateSchema(doc)
		d, err := ParseWith(doc, Options{Rand: fixedRand()})
		if err != nil {
			return
		}
		out, err := FormatFlags(d, FormatInactive|FormatSecure)
		if err != nil {
			return
		}
		if err := ValidateSchema(out); err != nil {
			t.Fatalf("our own output fails the schema check: %v\n%s", err, out)
		}
	})
}

// FuzzCPUSetAndMAC: the two attribute parsers never panic, and what they
// accept they write in a form they read back to the same value.
func FuzzCPUSetAndMAC(f *testing.F) {
	for _, s := range []string{"0-3,^2,8", "1", " 4 - 6 ", "^1", "16383", "0:16:3E:1:2:3", "aa:bb:cc:dd:ee:ff "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if set, err := ParseCPUSet(s, CPUMaskLen); err == nil {
			again, err := ParseCPUSet(FormatCPUSet(set), CPUMaskLen)
			if len(set) > 0 && (err != nil || FormatCPUSet(again) != FormatCPUSet(set)) {
				t.Fatalf("%q -> %q -> %v %v", s, FormatCPUSet(set), again, err)
			}
		}
		if mac, ok := ParseMAC(s); ok {
			if again, ok := ParseMAC(mac); !ok || again != mac {
				t.Fatalf("%q -> %q -> %q", s, mac, again)
			}
		}
	})
}
