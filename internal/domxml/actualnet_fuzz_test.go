package domxml

import (
	"testing"

	"libvirt.org/go/libvirtxml"
)

// FuzzNetworkPort: a network port as libvirt's network driver describes
// it (NetworkPortGetXMLDesc, or the status file's copy) reads or is
// refused, and never makes the live view fail: whatever a port that reads
// holds, a running domain with it on
// each of its network interfaces formats, the live XML reads back as a
// domain with the interfaces ActualInterface gives, and the inactive view
// is the one without ports.
func FuzzNetworkPort(f *testing.F) {
	for _, plug := range []string{
		`<plug type='network' bridge='virbr0'/>`,
		`<vlan trunk='yes'><tag id='42' nativeMode='untagged'/><tag id='7'/></vlan><plug type='bridge' bridge='xenbr0' macTableManager='libvirt'/>`,
		`<plug type='direct' dev='eth0' mode='bridge'/><virtualport type='802.1Qbh'><parameters profileid='p'/></virtualport>`,
		`<plug type='hostdev-pci' managed='yes'><driver name='xen'/><address domain='0x0000' bus='0x03' slot='0x00' function='0x1'/></plug>`,
		`<bandwidth><inbound average='1000' peak='5000' burst='1024'/><outbound average='128'/></bandwidth><port isolated='yes'/>` +
			`<virtualport type='openvswitch'><parameters interfaceid='09b11c53-8b5c-4eeb-8f00-d84eaa0aaa4f'/></virtualport>`,
		`<rxfilters trustGuest='yes'/><plug type='bridge'/>`,
	} {
		f.Add(`<networkport><uuid>11111111-1111-4111-8111-111111111111</uuid>` +
			`<owner><name>n</name><uuid>8e3327c9-dc19-4662-a471-c8936ba9319f</uuid></owner>` +
			`<mac address='00:16:3e:00:00:01'/>` + plug + `</networkport>`)
	}
	def, err := Parse(netsXML)
	if err != nil {
		f.Fatal(err)
	}
	ids := []string{"11111111-1111-4111-8111-111111111111", "22222222-2222-4222-8222-222222222222", "33333333-3333-4333-8333-333333333333"}
	for i, id := range ids {
		def.Devices.Interfaces[i].Source.Network.PortID = id
	}
	domid := 3
	def.ID = &domid
	inactive, err := FormatWithPorts(def, FormatInactive, nil)
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		port, err := ParseNetworkPort(doc)
		if err != nil {
			return
		}
		ports := Ports{}
		for _, id := range ids {
			ports[id] = port
		}
		live, err := FormatWithPorts(def, 0, ports)
		if err != nil {
			t.Fatalf("live view with port %q: %v", doc, err)
		}
		back := &libvirtxml.Domain{}
		if err := back.Unmarshal(live); err != nil {
			t.Fatalf("live view does not read back: %v\n%s", err, live)
		}
		if len(back.Devices.Interfaces) != len(def.Devices.Interfaces) {
			t.Fatalf("live view has %d interfaces:\n%s", len(back.Devices.Interfaces), live)
		}
		for i := range ids {
			want := ActualInterface(def.Devices.Interfaces[i], port)
			if got := back.Devices.Interfaces[i]; !sameInterfaceSource(got, want) {
				t.Fatalf("interface %d reads back as %+v, want %+v\n%s", i, got.Source, want.Source, live)
			}
		}
		if again, err := FormatWithPorts(def, FormatInactive, ports); err != nil || again != inactive {
			t.Fatalf("the port changed the inactive view (%v):\n%s", err, again)
		}
	})
}

// sameInterfaceSource compares what the plug decides: the device kind
// and its name.
func sameInterfaceSource(a, b libvirtxml.DomainInterface) bool {
	as, bs := a.Source, b.Source
	switch {
	case as == nil || bs == nil:
		return as == bs
	case bs.Network != nil:
		return as.Network != nil && as.Network.Bridge == bs.Network.Bridge
	case bs.Bridge != nil:
		return as.Bridge != nil && as.Bridge.Bridge == bs.Bridge.Bridge
	case bs.Direct != nil:
		return as.Direct != nil && as.Direct.Dev == bs.Direct.Dev && as.Direct.Mode == bs.Direct.Mode
	case bs.Hostdev != nil:
		return as.Hostdev != nil
	}
	return true
}
