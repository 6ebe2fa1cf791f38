package domxml

import (
	"os"
	"strings"
	"testing"
)

// TestRepeatsIgnored: of an element libvirt takes once, a definition or a
// device is read with the first, as libvirtd 9.0 reads it (checked with
// its test driver: the first target, source, serial and description are
// kept, the others dropped), and the later ones are neither checked nor
// kept: a second <target> with a bus libvirt does not know once came back
// as the disk's bus, in a definition that no longer read (FuzzParse,
// 2be9bd9c2090b407).
func TestRepeatsIgnored(t *testing.T) {
	const disks = `<disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='xvda' bus='xen'/><target dev='hdc' bus='idD'/></disk>` +
		`<disk type='file' device='disk'><source file='/tmp/b.img'/><source file='/tmp/c.img'/><target dev='xvdb'/><serial>one</serial><serial>two</serial></disk>`
	def, err := Parse(`<domain type='xen'><name>two</name><memory>131072</memory>` +
		`<os><type arch='x86_64'>xen</type><kernel>/boot/vmlinuz</kernel></os>` +
		`<devices>` + disks + `</devices><description>first</description><description>second</description></domain>`)
	if err != nil {
		t.Fatal(err)
	}
	out, err := Format(def)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"<description>first</description>", "<source file='/tmp/a.img'/>", "<target dev='xvda' bus='xen'/>",
		"<source file='/tmp/b.img'/>", "<serial>one</serial>"} {
		if !strings.Contains(out, want) {
			t.Errorf("%s missing:\n%s", want, out)
		}
	}
	for _, gone := range []string{"second", "hdc", "idD", "c.img", "two</serial>"} {
		if strings.Contains(out, gone) {
			t.Errorf("%s kept:\n%s", gone, out)
		}
	}
	if _, err := Parse(out); err != nil {
		t.Errorf("formatted definition does not read: %v", err)
	}
	dev, err := ParseDevice(`<disk type='file'><source file='/tmp/a.img'/><target dev='xvdc'/><target dev='hdc' bus='idD'/></disk>`, def, DeviceOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if tg := dev.Disk.Target; tg.Dev != "xvdc" || tg.Bus == "idD" {
		t.Errorf("device's target %+v, want the first's", *tg)
	}
}

// BenchmarkParse is the parse of a full definition (testdata/in), which
// the cut of repeats walks once more.
func BenchmarkParse(b *testing.B) {
	raw, err := os.ReadFile("testdata/in/hvm-full.xml")
	if err != nil {
		b.Fatal(err)
	}
	doc := string(raw)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse(doc); err != nil {
			b.Fatal(err)
		}
	}
}
