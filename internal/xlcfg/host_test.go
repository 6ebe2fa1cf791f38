package xlcfg

import (
	"strings"
	"testing"
)

// TestNestedHVMDisablesTheHostsFeature: nestedhvm = 0 disables the guest
// CPU's vmx on an Intel host and svm on an AMD one (xenParseXLOS checks
// the host CPU), as libvirt did on test/xen's AMD-like TCG host.
func TestNestedHVMDisablesTheHostsFeature(t *testing.T) {
	cfg := []byte("name = \"a\"\nbuilder = \"hvm\"\nmemory = 256\nnestedhvm = 0\n")
	for _, c := range []struct{ hw, want string }{{"svm", "svm"}, {"vmx", "vmx"}, {"", "vmx"}} {
		r, err := ToXML(cfg, XL, Options{HWVirt: c.hw})
		if err != nil {
			t.Fatal(err)
		}
		if w := "<feature policy='disable' name='" + c.want + "'/>"; !strings.Contains(r.XML, w) {
			t.Errorf("host %q: no %s in\n%s", c.hw, w, r.XML)
		}
	}
}
