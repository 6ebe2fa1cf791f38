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

// TestVnumaMemoryIsTheNodes: domxml-from-native of vnodes larger in sum
// than memory makes the memory their sum, as libvirt's post-parse with
// ABI update does (test/xen's oracle, test-fullvirt-vnuma-autocomplete).
func TestVnumaMemoryIsTheNodes(t *testing.T) {
	cfg := "name = \"a\"\nbuilder = \"hvm\"\nmemory = 1024\nmaxmem = 1024\nvcpus = 2\n" +
		"vnuma = [ [ \"pnode=0\", \"size=1024\", \"vcpus=0\", \"vdistances=10,20\" ], [ \"pnode=1\", \"size=1024\", \"vcpus=1\", \"vdistances=20,10\" ] ]\n"
	r, err := ToXML([]byte(cfg), XL, Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{"<memory unit='KiB'>2097152</memory>", "<currentMemory unit='KiB'>1048576</currentMemory>"} {
		if !strings.Contains(r.XML, w) {
			t.Errorf("no %s in\n%s", w, r.XML)
		}
	}
}
