package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/fixtures"
	"virtxend/internal/virerr"
)

// Every valid document we have passes: libvirt's Xen fixtures and our own
// golden inputs. A false refusal would break define --validate.
func TestValidateSchemaAcceptsValidDocuments(t *testing.T) {
	var files []string
	if dir := fixtures.Root(); dir != "" {
		for _, sub := range []string{"xlconfigdata", "xmconfigdata", "libxlxml2domconfigdata"} {
			m, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
			files = append(files, m...)
		}
	}
	m, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	files = append(files, m...)
	if len(files) == 0 {
		t.Skip("no documents")
	}
	checked := 0
	defer func() { t.Logf("%d valid documents pass the schema check", checked) }()
	for _, f := range files {
		doc, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		if _, perr := Parse(string(doc)); perr != nil {
			continue // refused before any schema check; not a valid document
		}
		checked++
		if err := ValidateSchema(string(doc)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

// What the schema does not know is refused as libvirt refuses it: code
// VIR_ERR_XML_INVALID_SCHEMA from VIR_FROM_XML, with libxml2's wording
// for the simple cases (checked against libvirtd 9.0).
func TestValidateSchemaRefusesUnknownContent(t *testing.T) {
	const head = "<domain type='xen'><name>v</name><memory>262144</memory>"
	osXML := "<os><type>linux</type><kernel>/k</kernel></os>"
	cases := []struct{ doc, detail string }{
		{head + "<bogus/>" + osXML + "</domain>", "Element domain has extra content: bogus"},
		{"<domain type='xen' foo='1'><name>v</name><memory>262144</memory>" + osXML + "</domain>", "Invalid attribute foo for element domain"},
		{head + "<os><type>linux</type><bar/></os></domain>", "Element os has extra content: bar"},
		{head + osXML + "<devices><disk type='file' foo='bar'><target dev='xvda'/></disk></devices></domain>", "Invalid attribute foo for element disk"},
		{head + osXML + "<devices><disk type='file'><target dev='xvda'/><wibble>x</wibble></disk></devices></domain>", "Element disk has extra content: wibble"},
	}
	for _, c := range cases {
		err := ValidateSchema(c.doc)
		e := virerr.As(err)
		want := "XML document failed to validate against schema: Unable to validate doc against " +
			schemaFile + "\n" + c.detail + "\n"
		if err == nil || e.Code != libvirt.ErrXMLInvalidSchema || e.Domain != virerr.FromXML || e.Error() != want {
			t.Errorf("%s:\n got %v (code %d domain %d)\nwant %q", c.doc, err, e.Code, e.Domain, want)
		}
	}
	// Left alone: metadata, foreign namespaces, empty known elements.
	ok := "<domain type='xen' xmlns:q='urn:q'><name>v</name><memory>262144</memory><description/>" +
		"<metadata><anything xmlns='urn:x'><deep/></anything></metadata><q:extra/>" + osXML + "</domain>"
	if err := ValidateSchema(ok); err != nil {
		t.Errorf("valid document refused: %v", err)
	}
	if err := ValidateSchema("<domain"); err == nil || !strings.Contains(err.Error(), "line 1") {
		t.Errorf("syntax error not reported first: %v", err)
	}
}
