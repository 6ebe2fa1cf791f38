package snapshot

import (
	"os"
	"path/filepath"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Valid documents pass: our metadata file and every file of libvirt's
// snapshot tests, all of which libvirt's virschematest validates.
func TestValidateAcceptsValid(t *testing.T) {
	files := []string{"testdata/xen-metadata.xml"}
	for _, dir := range []string{os.Getenv(libvirtTestsEnv), "/tmp/libvirt11/libvirt-11.3.0/tests"} {
		for _, sub := range []string{"qemudomainsnapshotxml2xmlin", "qemudomainsnapshotxml2xmlout"} {
			m, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
			files = append(files, m...)
		}
	}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		root, err := readDocument(string(raw))
		if err != nil {
			t.Fatal(err)
		}
		if err := validateSchema(root); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
}

func TestValidateRefuses(t *testing.T) {
	for _, c := range []struct{ doc, msg string }{
		{"<domainsnapshot><bogus/></domainsnapshot>", "Element domainsnapshot has extra content: bogus"},
		{"<domainsnapshot><name>a</name><name>b</name></domainsnapshot>", "Element domainsnapshot has extra content: name"},
		{"<domainsnapshot x='1'/>", "Invalid attribute x for element domainsnapshot"},
		{"<domainsnapshot><state>nostate</state></domainsnapshot>", "Element state failed to validate content"},
		{"<domainsnapshot><memory snapshot='internal' file='/m'/></domainsnapshot>", "Element memory failed to validate content"},
		{"<domainsnapshot><disks><disk name='a' snapshot='no' type='file'/></disks></domainsnapshot>", "Element disk failed to validate content"},
		{"<domainsnapshot><disks><disk name='a'><target/></disk></disks></domainsnapshot>", "Element disk has extra content: target"},
		{"<domainsnapshot><domain type='xen'><name>v</name><bogus/></domain></domainsnapshot>", "Element domain has extra content: bogus"},
	} {
		_, err := Parse(c.doc, ParseValidate)
		e := virerr.As(err)
		want := "XML document failed to validate against schema: Unable to validate doc against " +
			"/usr/share/libvirt/schemas/domainsnapshot.rng\n" + c.msg + "\n"
		if c.msg == "Element domain has extra content: bogus" {
			want = "XML document failed to validate against schema: Unable to validate doc against " +
				"/usr/share/libvirt/schemas/domain.rng\n" + c.msg + "\n"
		}
		if e.Code != libvirt.ErrXMLInvalidSchema || e.Domain != virerr.FromXML || e.Error() != want {
			t.Errorf("%s: %q", c.doc, e.Error())
		}
	}
}
