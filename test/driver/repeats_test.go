package drivertests

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestRepeatedElementsAndMetadataNames: through virsh, a definition that
// repeats an element libvirt takes once keeps the first, as libvirtd 9.0
// keeps it, and survives a restart; metadata whose element has a prefix of
// no namespace is refused, and nothing of it is stored.
func TestRepeatedElementsAndMetadataNames(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	define(t, d, "rep", guestXML("rep", `<devices>
  <disk type='file' device='disk'><source file='/tmp/a.img'/><target dev='xvda' bus='xen'/><target dev='hdc' bus='idD'/></disk>
</devices>`))
	check := func(when string) {
		x := d.MustVirsh("dumpxml", "rep")
		if !strings.Contains(x, "<target dev='xvda' bus='xen'/>") || strings.Contains(x, "idD") || strings.Contains(x, "hdc") {
			t.Errorf("%s:\n%s", when, x)
		}
	}
	check("dumpxml")
	d.Stop()
	d = daemontest.Start(t, root)
	check("dumpxml after a restart")
	r := d.Virsh("metadata", "rep", "urn:x", "--key", "k", "--set", "<r><q:x/></r>")
	if r.Code == 0 || !strings.Contains(r.Stderr, "XML error: (metadata_xml): Namespace prefix q on x is not defined") {
		t.Errorf("metadata with an undeclared prefix: %d %q", r.Code, r.Stderr)
	}
	if x := d.MustVirsh("dumpxml", "--inactive", "rep"); strings.Contains(x, "urn:x") {
		t.Errorf("refused metadata stored:\n%s", x)
	}
}
