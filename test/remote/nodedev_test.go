package remote

import (
	"encoding/xml"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// nodedevXML is what the tests read of a node device's XML.
type nodedevXML struct {
	Name   string `xml:"name"`
	Path   string `xml:"path"`
	Parent string `xml:"parent"`
	Driver string `xml:"driver>name"`
	Cap    struct {
		Type     string `xml:"type,attr"`
		Class    string `xml:"class"`
		Domain   uint   `xml:"domain"`
		Bus      uint   `xml:"bus"`
		Slot     uint   `xml:"slot"`
		Function uint   `xml:"function"`
		Product  struct {
			ID string `xml:"id,attr"`
		} `xml:"product"`
		Vendor struct {
			ID string `xml:"id,attr"`
		} `xml:"vendor"`
		Express *struct{} `xml:"pci-express"`
		Subcaps []struct {
			Type string `xml:"type,attr"`
		} `xml:"capability"`
	} `xml:"capability"`
}

// pciIDNames are the vendor and product names libvirt looks up in the
// host's pci.ids, whose version (or absence) is the host's.
var pciIDNames = regexp.MustCompile(`(<(?:vendor|product) id='0x[0-9a-f]+')(?:>[^<]*</(?:vendor|product)>|/>)`)

// nicXML is libvirtd's XML of the fixture's PCIe NIC, without pci.ids's
// names.
const nicXML = `<device>
  <name>pci_0000_00_03_0</name>
  <path>/sys/devices/pci0000:00/0000:00:03.0</path>
  <parent>computer</parent>
  <driver>
    <name>e1000e</name>
  </driver>
  <capability type='pci'>
    <class>0x020000</class>
    <domain>0</domain>
    <bus>0</bus>
    <slot>3</slot>
    <function>0</function>
    <product id='0x10d3'/>
    <vendor id='0x8086'/>
    <pci-express>
      <link validity='cap' port='0' speed='2.5' width='1'/>
      <link validity='sta' speed='2.5' width='1'/>
    </pci-express>
  </capability>
</device>`

// TestNodeDevPCIFixture: libvirtd beside the daemon, given the fixture PCI
// tree, lists its devices and nothing of the host's, describes each as
// the fixture made it, and the daemon forwards both calls unchanged.
func TestNodeDevPCIFixture(t *testing.T) {
	root := daemontest.NewRoot(t)
	l := daemontest.StartLibvirtdWithPCI(t, root, daemontest.NewPCIFixture(t, root))
	f := daemontest.DefaultPCIFixture()

	r := l.Virsh("nodedev", "nodedev-list", "--cap", "pci")
	if got, want := strings.Fields(r.Stdout), f.NodeDevNames(); r.Code != 0 || strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("nodedev-list --cap pci (exit %d): %q, want %q\n%s", r.Code, got, want, r.Stderr)
	}
	r = l.Virsh("nodedev", "nodedev-dumpxml", daemontest.PCINodeDevName(daemontest.PCINIC))
	if got := pciIDNames.ReplaceAllString(strings.TrimSpace(r.Stdout), "$1/>"); got != nicXML {
		t.Errorf("nodedev-dumpxml pci_0000_00_03_0 (exit %d):\n%s\nwant\n%s\n%s", r.Code, got, nicXML, r.Stderr)
	}
	for _, d := range f.Devices {
		checkNodeDev(t, l, f, d)
	}

	v := daemontest.Start(t, root)
	same(t, v, l, "nodedev", "nodedev-list", "--cap", "pci")
	same(t, v, l, "nodedev", "nodedev-dumpxml", daemontest.PCINodeDevName(daemontest.PCILegacyNIC))
}

// checkNodeDev compares libvirtd's XML of one fixture device with the
// fixture.
func checkNodeDev(t *testing.T, l *daemontest.Libvirtd, f daemontest.PCIFixture, d daemontest.PCIDevice) {
	t.Helper()
	r := l.Virsh("nodedev", "nodedev-dumpxml", d.NodeDevName())
	var x nodedevXML
	if err := xml.Unmarshal([]byte(r.Stdout), &x); r.Code != 0 || err != nil {
		t.Errorf("nodedev-dumpxml %s (exit %d): %v\n%s", d.NodeDevName(), r.Code, err, r.Stderr)
		return
	}
	parent := "computer"
	if d.Parent != "" {
		p, _ := f.Device(d.Parent)
		parent = p.NodeDevName()
	}
	var subcaps []string
	for _, c := range x.Cap.Subcaps {
		subcaps = append(subcaps, c.Type)
	}
	var bridge []string
	if d.IsBridge() {
		bridge = []string{"pci-bridge"}
	}
	c := x.Cap
	got := fmt.Sprintf("%s parent=%s driver=%q %s class=%s %04x:%02x:%02x.%x ids=%s:%s pcie=%t caps=%q",
		x.Name, x.Parent, x.Driver, c.Type, c.Class, c.Domain, c.Bus, c.Slot, c.Function,
		c.Vendor.ID, c.Product.ID, c.Express != nil, subcaps)
	want := fmt.Sprintf("%s parent=%s driver=%q pci class=0x%06x %s ids=0x%04x:0x%04x pcie=%t caps=%q",
		d.NodeDevName(), parent, d.Driver, d.Class, d.Addr, d.Vendor, d.Device, d.PCIe, bridge)
	if got != want {
		t.Errorf("nodedev-dumpxml %s:\n got %s\nwant %s", d.NodeDevName(), got, want)
	}
}

// TestNodeDevPCIFixtureResets: libvirt's own reset code (libvirtd's QEMU
// driver's nodedev-reset, which only reads and writes config files, here
// the fixture's) resets each fixture device as the fixture says; a
// secondary bus reset is refused while the bridge has another device
// behind it, and done once it has none.
func TestNodeDevPCIFixtureResets(t *testing.T) {
	// The errors of the resets that fail ("" for those that succeed).
	msgs := map[daemontest.PCIReset]string{
		daemontest.ResetNone:        "no FLR, PM reset or bus reset available",
		daemontest.ResetNotEndpoint: "Only PCI endpoint devices can be reset",
		daemontest.ResetBus:         "devices on bus with",
	}
	f := daemontest.DefaultPCIFixture()
	root := daemontest.NewRoot(t)
	l := daemontest.StartLibvirtdWithPCI(t, root, daemontest.NewPCIFixture(t, root))
	for _, d := range f.Devices {
		r := l.Virsh("qemu", "nodedev-reset", d.NodeDevName())
		msg := msgs[d.Reset]
		if (r.Code == 0) != (msg == "") || !strings.Contains(r.Stderr, msg) {
			t.Errorf("nodedev-reset %s (%s, expected %s): exit %d\n%s%s", d.NodeDevName(), d.Addr, d.Reset, r.Code, r.Stdout, r.Stderr)
		}
	}

	// Alone behind the bridge, the legacy NIC gets its bus reset.
	alone := daemontest.PCIFixture{}
	for _, d := range f.Devices {
		if d.Addr != daemontest.PCISerial {
			alone.Devices = append(alone.Devices, d)
		}
	}
	root = daemontest.NewRoot(t)
	fix := root + "/pci"
	if err := alone.Write(fix); err != nil {
		t.Fatal(err)
	}
	l = daemontest.StartLibvirtdWithPCI(t, root, fix)
	nic := daemontest.PCINodeDevName(daemontest.PCILegacyNIC)
	if r := l.Virsh("qemu", "nodedev-reset", nic); r.Code != 0 {
		t.Errorf("nodedev-reset %s alone behind its bridge: exit %d\n%s", nic, r.Code, r.Stderr)
	}
}
