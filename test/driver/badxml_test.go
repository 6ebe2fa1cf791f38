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
	// A disk of a device libvirt does not know (FuzzParseDevice): refused
	// by attach-device and by define, with virXMLPropEnum's code and
	// domain (VIR_ERR_XML_ERROR 27, VIR_FROM_XML 5), as libvirtd 9.0.
	disk := daemontest.WriteFile(t, t.TempDir(), "disk.xml",
		`<disk type='file' device='[isk'><source file='/n.img'/><target dev='xvdz'/></disk>`)
	wantFail(t, d.Virsh("attach-device", "bx", disk, "--config"),
		"Invalid value for attribute 'device' in element 'disk': '[isk'.")
	py := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
try:
    conn.defineXML(sys.argv[2])
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e.get_error_message())
`, guestXML("by", "<devices><disk type='file' device='[isk'><source file='/n.img'/><target dev='xvdz'/></disk></devices>"))
	if want := "27 5 XML error: Invalid value for attribute 'device' in element 'disk': '[isk'.\n"; py.Code != 0 || py.Stdout != want {
		t.Errorf("python define: %+v, want %q", py, want)
	}
	if x := d.MustVirsh("dumpxml", "--inactive", "bx"); strings.Contains(x, "urn:q") || strings.Contains(x, "<hostdev") || strings.Contains(x, "xvdz") {
		t.Errorf("a refused change was kept:\n%s", x)
	}
	if r := d.Virsh("domstate", "by"); r.Code == 0 {
		t.Errorf("the refused define left a domain 'by'")
	}
}
