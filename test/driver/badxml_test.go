package drivertests

import (
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestFuzzFindingsRefusedByVirsh: what this project's fuzzing found the
// XML readers accepting, stock virsh now gets refused with libvirt's
// words, and the definition keeps nothing of it.
func TestFuzzFindingsRefusedByVirsh(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "bx", guestXML("bx", ""))
	wantFail(t, d.Virsh("metadata", "bx", "urn:q", "--key", "q", "--set", "<r><q:/></r>", "--config"),
		"Failed to parse QName 'q:'")
	hostdev := daemontest.WriteFile(t, t.TempDir(), "hostdev.xml",
		`<hostdev mode='bogus' type='usb'><source><address bus='1' device='2'/></source></hostdev>`)
	wantFail(t, d.Virsh("attach-device", "bx", hostdev, "--config"),
		"Invalid value for attribute 'mode' in element 'hostdev': 'bogus'.")
	if x := d.MustVirsh("dumpxml", "--inactive", "bx"); strings.Contains(x, "urn:q") || strings.Contains(x, "<hostdev") {
		t.Errorf("a refused change was kept:\n%s", x)
	}
}
