package cpumodel

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParseXML: any document parses or fails with an error, never a
// panic; a guest CPU that parses formats to a document that parses again to the same
// definition, and comparing it with a host CPU or baselining it never
// panics either.
func FuzzParseXML(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "x86_64-*.xml"))
	for _, file := range files {
		if b, err := os.ReadFile(file); err == nil && len(b) < 4096 {
			f.Add(string(b))
		}
	}
	f.Add("<cpu mode='host-model'/>")
	f.Add("<cpu><arch>x86_64</arch><model>qemu64</model><feature name='x'/></cpu>")
	host, err := ParseXML(`<cpu><arch>x86_64</arch><model>Penryn</model><vendor>Intel</vendor></cpu>`, Auto, false)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		c, err := ParseXML(doc, Auto, true)
		if err != nil {
			return
		}
		// A parsed host CPU has no mode, and libvirt then formats no
		// model: only guest CPUs go round.
		again, err := ParseXML(c.Format(), c.Type, false)
		if c.Type == Guest && c.Format() != "" && (err != nil || again.Format() != c.Format()) {
			t.Fatalf("%q formats to %q, which reads back as %v (%v)", doc, c.Format(), again, err)
		}
		Compare(host, c, true)
		if c.Type == Host {
			Baseline([]*CPU{host, c}, true)
		}
	})
}
