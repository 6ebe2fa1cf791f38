package domxml

import (
	"strings"
	"testing"
)

// A domain inside a snapshot is the domain's own document one level in,
// under the name it is given; text spanning lines keeps its own line
// starts, as virBuffer indents only the lines it begins.
func TestFormatNested(t *testing.T) {
	d, err := Parse("<domain type='xen'><name>v</name><description>one\ntwo</description>" +
		"<memory>262144</memory><os><type>linux</type><kernel>/k</kernel></os></domain>")
	if err != nil {
		t.Fatal(err)
	}
	flat, err := FormatFlags(d, FormatInactive)
	if err != nil {
		t.Fatal(err)
	}
	nested, err := FormatNested(d, FormatInactive, "inactiveDomain", 1)
	if err != nil {
		t.Fatal(err)
	}
	var want strings.Builder
	for i, line := range strings.SplitAfter(flat, "\n") {
		if line == "" {
			continue
		}
		if line != "two</description>\n" {
			line = "  " + line
		}
		if i == 0 {
			line = strings.Replace(line, "<domain", "<inactiveDomain", 1)
		}
		want.WriteString(line)
	}
	w := strings.Replace(want.String(), "  </domain>\n", "  </inactiveDomain>\n", 1)
	if nested != w {
		t.Errorf("nested:\n%s\nwant:\n%s", nested, w)
	}
}

// SkipValidate parses what only the validation refuses: here a guest
// type the host does not offer.
func TestParseSkipValidate(t *testing.T) {
	doc := "<domain type='kvm'><name>v</name><memory>262144</memory><os><type arch='x86_64'>hvm</type></os></domain>"
	if _, err := Parse(doc); err == nil {
		t.Fatal("a kvm guest passed validation")
	}
	if _, err := ParseWith(doc, Options{SkipValidate: true}); err != nil {
		t.Fatal(err)
	}
}

// virCPUDefFormatBuf writes mode, match, check; libvirtxml writes match
// first.
func TestCPUAttributeOrder(t *testing.T) {
	d, err := Parse("<domain type='xen'><name>v</name><memory>262144</memory>" +
		"<os><type arch='x86_64'>hvm</type></os><cpu match='exact' mode='custom' check='none'>" +
		"<model fallback='forbid'>qemu64</model></cpu></domain>")
	if err != nil {
		t.Fatal(err)
	}
	out, err := FormatFlags(d, FormatInactive)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out, "<cpu mode='custom' match='exact' check='none'>") {
		t.Errorf("cpu attributes out of libvirt's order:\n%s", out)
	}
}
