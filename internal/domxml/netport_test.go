package domxml

import (
	"strings"
	"testing"

	"virtxend/internal/virerr"
)

// TestParseNetworkPort: the checks and words of virNetworkPortDefParseXML.
func TestParseNetworkPort(t *testing.T) {
	const head = `<uuid>11111111-1111-4111-8111-111111111111</uuid>` +
		`<owner><name>n</name><uuid>8e3327c9-dc19-4662-a471-c8936ba9319f</uuid></owner><mac address='00:16:3e:00:00:01'/>`
	for _, c := range []struct{ doc, msg string }{
		{head + `<plug type='bridge' bridge='br0' macTableManager='libvirt'/>`, ""},
		{head + `<plug type='none'/>`, ""},
		{head + `<plug type='hostdev-pci' managed='no'><driver name='vfio'/><address domain='0' bus='1' slot='0' function='0'/></plug>`, ""},
		{head, ""},
		{`<owner><name>n</name></owner>`, "internal error: network port has no uuid"},
		{`<uuid>x</uuid>`, "internal error: Unable to parse UUID 'x'"},
		{`<uuid>11111111-1111-4111-8111-111111111111</uuid><owner><uuid>u</uuid></owner>`, "internal error: network port has no owner name"},
		{`<uuid>11111111-1111-4111-8111-111111111111</uuid><owner><name>n</name></owner>`, "internal error: network port has no owner UUID"},
		{strings.Replace(head, "<mac address='00:16:3e:00:00:01'/>", "", 1), "internal error: network port has no mac"},
		{strings.Replace(head, "00:16:3e:00:00:01", "00:16:3e", 1), "internal error: Unable to parse MAC '00:16:3e'"},
		{head + `<plug type='networ+' bridge='b'/>`, "XML error: Invalid value for attribute 'type' in element 'plug': 'networ+'."},
		{head + `<plug type='network'/>`, "XML error: Missing network port bridge name"},
		{head + `<plug type='bridge' bridge='b' macTableManager='default'/>`, "XML error: Invalid macTableManager setting 'default' in network port"},
		{head + `<plug type='direct'/>`, "XML error: Missing network port link device name"},
		{head + `<plug type='direct' dev='eth0' mode='x'/>`, "XML error: Invalid mode setting 'x' in network port"},
		{head + `<plug type='hostdev-pci' managed='default'><address/></plug>`, "XML error: Invalid value for attribute 'managed' in element 'plug': 'default'."},
		{head + `<plug type='hostdev-pci'><driver name='xen'/><address/></plug>`, "XML error: Missing network port driver name"},
		{head + `<plug type='hostdev-pci'/>`, "XML error: Missing network port PCI address"},
	} {
		p, err := ParseNetworkPort("<networkport>" + c.doc + "</networkport>")
		if c.msg == "" {
			if err != nil || p == nil {
				t.Errorf("%s: %v", c.doc, err)
			} else if strings.Contains(c.doc, "'none'") && p.Plug != nil {
				t.Errorf("%s: a plug of type none is kept", c.doc)
			}
			continue
		}
		if err == nil || err.Error() != c.msg || virerr.As(err).Domain != virerr.FromNetwork {
			t.Errorf("%s: %v, want %q from the network domain", c.doc, err, c.msg)
		}
	}
}
