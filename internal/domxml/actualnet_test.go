package domxml

import (
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"
)

const netsXML = `<domain type='xen'><name>n</name><memory>131072</memory>
<os><type>linux</type><kernel>/k</kernel></os><devices>
<interface type='network'><mac address='00:16:3e:00:00:01'/><source network='default'/></interface>
<interface type='network'><mac address='00:16:3e:00:00:02'/><source network='lan' portgroup='web'/><vlan><tag id='7'/></vlan></interface>
<interface type='network'><mac address='00:16:3e:00:00:03'/><source network='macvtap'/></interface>
<interface type='bridge'><mac address='00:16:3e:00:00:04'/><source bridge='br1'/></interface>
</devices></domain>`

func port(uuid, plug string) *libvirtxml.NetworkPort {
	p := &libvirtxml.NetworkPort{}
	if err := p.Unmarshal(`<networkport><uuid>` + uuid + `</uuid><mac address='00:16:3e:00:00:01'/>` + plug + `</networkport>`); err != nil {
		panic(err)
	}
	return p
}

// TestFormatWithPorts: the live view shows each interface with a port as
// virDomainNetDefFormat shows an actual device (publicActual): the plug's
// type and device, the network, port group and port id beside it, the
// port's VLAN in place of the interface's. The inactive view shows the
// configuration without the port id.
func TestFormatWithPorts(t *testing.T) {
	d, err := Parse(netsXML)
	if err != nil {
		t.Fatal(err)
	}
	ids := []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"}
	for i, id := range ids {
		d.Devices.Interfaces[i].Source.Network.PortID = id
	}
	ports := Ports{
		ids[0]: port(ids[0], `<plug type='network' bridge='virbr0'/>`),
		ids[1]: port(ids[1], `<vlan><tag id='42'/></vlan><plug type='bridge' bridge='xenbr0' macTableManager='libvirt'/>`),
		ids[2]: port(ids[2], `<plug type='direct' dev='eth0' mode='bridge'/>`),
	}
	id := 3
	d.ID = &id
	live, err := FormatWithPorts(d, 0, ports)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`    <interface type='network'>
      <mac address='00:16:3e:00:00:01'/>
      <source network='default' portid='11111111-1111-4111-8111-111111111111' bridge='virbr0'/>
    </interface>`,
		`    <interface type='bridge'>
      <mac address='00:16:3e:00:00:02'/>
      <source network='lan' portgroup='web' portid='22222222-2222-4222-8222-222222222222' bridge='xenbr0' macTableManager='libvirt'/>
      <vlan>
        <tag id='42'/>
      </vlan>
    </interface>`,
		`    <interface type='direct'>
      <mac address='00:16:3e:00:00:03'/>
      <source network='macvtap' portid='33333333-3333-4333-8333-333333333333' dev='eth0' mode='bridge'/>
    </interface>`,
		`    <interface type='bridge'>
      <mac address='00:16:3e:00:00:04'/>
      <source bridge='br1'/>
    </interface>`,
	} {
		if !strings.Contains(live, want) {
			t.Errorf("live view lacks\n%s\nin\n%s", want, live)
		}
	}
	inactive, err := FormatWithPorts(d, FormatInactive, ports)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(inactive, `<source network='lan' portgroup='web'/>
      <vlan>
        <tag id='7'/>`) || strings.Contains(inactive, "portid") {
		t.Errorf("inactive view:\n%s", inactive)
	}
	// The status view (live, no ports given) keeps the port id beside the
	// configuration.
	status, _ := FormatWithPorts(d, 0, nil)
	if !strings.Contains(status, `<source network='default' portid='11111111-1111-4111-8111-111111111111'/>`) {
		t.Errorf("status view:\n%s", status)
	}
}

// TestActualInterfaceHostdev: a hostdev network's port makes the interface
// a PCI passthrough one, as libxl then passes it through.
func TestActualInterfaceHostdev(t *testing.T) {
	p := port("44444444-4444-4444-8444-444444444444",
		`<plug type='hostdev-pci' managed='yes'><address domain='0x0000' bus='0x03' slot='0x10' function='0x1'/></plug>`)
	ifc := libvirtxml.DomainInterface{Source: &libvirtxml.DomainInterfaceSource{Network: &libvirtxml.DomainInterfaceSourceNetwork{Network: "sriov"}}}
	got := ActualInterface(ifc, p)
	if got.Managed != "yes" || got.Source.Hostdev == nil || *got.Source.Hostdev.PCI.Address.Bus != 3 || *got.Source.Hostdev.PCI.Address.Function != 1 {
		t.Fatalf("%+v", got.Source)
	}
	if ifc.Source.Network == nil || ifc.Managed != "" {
		t.Fatal("the interface itself changed")
	}
}
