package domxml

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

func parsedDomain(t *testing.T, doc string) *libvirtxml.Domain {
	t.Helper()
	d, err := ParseWith(doc, Options{Rand: fixedRand()})
	if err != nil {
		t.Fatal(err)
	}
	return d
}

const hvmWithDevices = `<domain type='xen'><name>h</name><memory>1024</memory><os><type>hvm</type></os><devices>
<disk type='file' device='disk'><source file='/a.img'/><target dev='hda'/></disk>
<disk type='file' device='cdrom'><source file='/c.iso'/><target dev='hdc'/></disk>
<disk type='file' device='disk'><source file='/x.img'/><target dev='xvdb'/></disk>
<disk type='file' device='disk'><source file='/y.img'/><target dev='xvdd'/></disk>
<interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='br0'/></interface>
<interface type='bridge'><mac address='00:16:3e:00:00:02'/><source bridge='br0'/><address type='pci' domain='0' bus='0' slot='5' function='0'/></interface>
<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>
<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='3' slot='0' function='1'/></source></hostdev>
<controller type='usb' index='0' model='qusb2'/>
</devices></domain>`

// TestParseDeviceDefaults: a device gets what it would get in a domain.
func TestParseDeviceDefaults(t *testing.T) {
	def := parsedDomain(t, hvmWithDevices)
	opts := DeviceOptions{Rand: fixedRand()}
	dev, err := ParseDevice(`<disk type='file' device='disk'><source file='/n.img'/><target dev='xvdc'/><alias name='xen-disk2'/></disk>`, def, opts)
	if err != nil {
		t.Fatal(err)
	}
	if dev.Kind != "disk" || dev.Disk.Target.Bus != "xen" || dev.Disk.Driver.Type != "raw" || dev.Disk.Address != nil || dev.Disk.Alias != nil {
		t.Fatalf("disk %+v %+v", dev.Disk.Target, dev.Disk)
	}
	if dev, err = ParseDevice(`<disk type='file'><source file='/n.img'/><target dev='xvdc'/></disk>`, def, opts); err != nil || dev.Disk.Device != "disk" {
		t.Fatalf("a disk without a device (virsh attach-disk's): %+v, %v", dev, err)
	}
	dev, err = ParseDevice(`<disk type='file' device='cdrom'><target dev='hdd'/></disk>`, def, opts)
	if err != nil {
		t.Fatal(err)
	}
	dr := dev.Disk.Address.Drive
	if dev.Disk.ReadOnly == nil || dev.Disk.Target.Bus != "ide" || *dr.Controller != 0 || *dr.Bus != 1 || *dr.Unit != 1 {
		t.Fatalf("cdrom %+v at %+v", dev.Disk, dr)
	}
	dev, err = ParseDevice(`<interface type='bridge'><source bridge='br0'/><target dev='vif3.1'/><alias name='ua-mine'/></interface>`, def, opts)
	if err != nil {
		t.Fatal(err)
	}
	if !dev.MACGenerated || !strings.HasPrefix(dev.Interface.MAC.Address, "00:16:3e:") || dev.Interface.Target != nil ||
		dev.Interface.Alias == nil || dev.Interface.Alias.Name != "ua-mine" {
		t.Fatalf("interface %+v mac %+v", dev.Interface, dev.Interface.MAC)
	}
	dev, err = ParseDevice(`<interface type='bridge'><mac address='00:16:3E:0A:0b:0C'/><source bridge='br0'/><target dev='mytap'/></interface>`, def, opts)
	if err != nil || dev.MACGenerated || dev.Interface.MAC.Address != "00:16:3e:0a:0b:0c" || dev.Interface.Target.Dev != "mytap" {
		t.Fatalf("interface %+v, %v", dev, err)
	}
	dev, err = ParseDevice(`<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/></source></hostdev>`, def, opts)
	if err != nil || dev.Hostdev.Managed != "no" {
		t.Fatalf("hostdev %+v, %v", dev, err)
	}
	// libvirt's defaults where the attribute is left out: a subsystem
	// host device, a user interface.
	dev, err = ParseDevice(`<hostdev type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/></source></hostdev>`, def, opts)
	if err != nil || dev.Hostdev.SubsysUSB == nil {
		t.Fatalf("hostdev without a mode: %+v, %v", dev, err)
	}
	dev, err = ParseDevice(`<interface/>`, def, opts)
	if err != nil || dev.Interface.Source == nil || dev.Interface.Source.User == nil {
		t.Fatalf("interface without a type: %+v, %v", dev, err)
	}
	for doc, kind := range map[string]string{
		`<serial type='pty'/>`: "chr", `<console type='pty'/>`: "chr", `<video><model type='vga'/></video>`: "video",
		`<controller type='usb' model='qusb1'/>`: "controller", `<input type='tablet' bus='usb'/>`: "input",
		`<filesystem type='mount'><source dir='/a'/><target dir='b'/></filesystem>`: "filesystem",
	} {
		dev, err := ParseDevice(doc, def, opts)
		if err != nil || dev.Kind != kind {
			t.Errorf("%s: %+v, %v", doc, dev, err)
		}
	}
}

func TestParseDeviceErrors(t *testing.T) {
	def := parsedDomain(t, hvmWithDevices)
	cases := []struct {
		name, xml string
		skip      bool
		dom       virerr.Domain
		code      libvirt.ErrorNumber
		msg       string
	}{
		{"malformed", `<disk><target dev='xvdb'></disk>`, false, virerr.FromDomain, libvirt.ErrXMLDetail,
			"at line 1: Opening and ending tag mismatch: target line 1 and disk\n<disk><target dev='xvdb'></disk>\n--------------------------------^"},
		{"unknown", `<gadget/>`, false, virerr.FromDomain, libvirt.ErrConfigUnsupported, "unsupported configuration: unknown device type 'gadget'"},
		{"no target", `<disk type='file'><source file='/n.img'/></disk>`, false, virerr.FromDomain, libvirt.ErrNoTarget,
			"missing target information for device /n.img"},
		{"unknown device", `<disk type='network' device='[isk'><target dev='xvdz'/></disk>`, false, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'device' in element 'disk': '[isk'."},
		{"unknown disk type", `<disk type='bogus'><source file='/a'/><target dev='xvdz'/></disk>`, false, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'type' in element 'disk': 'bogus'."},
		{"no protocol", `<disk type='network'><source name='x'/><target dev='xvdb'/></disk>`, false, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Missing required attribute 'protocol' in element 'source'"},
		{"bad name", `<disk type='file' device='disk'><source file='/n'/><target dev='fda' bus='xen'/></disk>`, false, virerr.FromDomain, libvirt.ErrInternalError,
			"internal error: Invalid harddisk device name: fda"},
		{"unknown name", `<disk type='file' device='disk'><source file='/n'/><target dev='foo' bus='xen'/></disk>`, false, virerr.FromDomain, libvirt.ErrXMLError,
			"XML error: Unknown disk name 'foo' and no address specified"},
		{"no source", `<disk type='file' device='disk'><target dev='xvdb'/></disk>`, false, virerr.FromDomain, libvirt.ErrNoSource,
			"missing source information for device xvdb"},
		{"bad mac", `<interface type='bridge'><mac address='00:16:3e:00:00'/><source bridge='br0'/></interface>`, false, virerr.FromDomain, libvirt.ErrXMLError,
			"XML error: unable to parse mac address '00:16:3e:00:00'"},
		{"multicast", `<interface type='bridge'><mac address='01:16:3e:00:00:01'/><source bridge='br0'/></interface>`, false, virerr.FromDomain, libvirt.ErrXMLError,
			"XML error: expected unicast mac address, found multicast '01:16:3e:00:00:01'"},
		// As libvirtd 9.0 answers (test/driver's TestDefineAnswersAsLibvirtd).
		{"bridge without source", `<interface type='bridge'><mac address='00:16:3e:00:00:01'/></interface>`, false, virerr.FromDomain, libvirt.ErrXMLError,
			"XML error: interface type='bridge' requires a 'source' element"},
		{"disk bus", `<disk type='file' device='disk'><source file='/a'/><target dev='xvdb' bus='warp'/></disk>`, false, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'bus' in element 'target': 'warp'."},
		{"boot order", `<disk type='file' device='disk'><source file='/a'/><target dev='xvdb'/><boot order='x'/></disk>`, false, virerr.FromXML, libvirt.ErrXMLError,
			"XML error: Invalid value for attribute 'order' in element 'boot': 'x'. Expected non-negative integer value"},
		{"address type", `<disk type='file' device='disk'><source file='/a'/><target dev='xvdb'/><address type='warp'/></disk>`, false, virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"unsupported configuration: unknown address type 'warp'"},
		{"filterref", `<interface type='bridge'><source bridge='b'/><filterref filter='clean-traffic'/></interface>`, false, virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"unsupported configuration: filterref is not supported in xen"},
		{"caps hostdev", `<hostdev mode='capabilities' type='storage'><source><block>/dev/sdb</block></source></hostdev>`, false, virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"unsupported configuration: hostdev mode 'capabilities' is not supported in xen"},
		{"vfio", `<hostdev mode='subsystem' type='pci'><driver name='vfio'/><source><address domain='0' bus='3' slot='0' function='1'/></source></hostdev>`, false, virerr.FromDomain, libvirt.ErrConfigUnsupported,
			"unsupported configuration: XEN does not support device assignment mode 'vfio'"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ParseDevice(c.xml, def, DeviceOptions{SkipValidate: c.skip, Rand: fixedRand()})
			e := virerr.As(err)
			if err == nil || e.Domain != c.dom || e.Code != c.code || e.Error() != c.msg {
				t.Fatalf("got %v (domain %d code %d), want %q (domain %d code %d)", err, e.Domain, e.Code, c.msg, c.dom, c.code)
			}
		})
	}
	// A detach names a device by what identifies it: validation is skipped.
	if _, err := ParseDevice(`<disk type='file' device='disk'><target dev='xvdb'/></disk>`, def, DeviceOptions{SkipValidate: true}); err != nil {
		t.Errorf("detach of a disk by target: %v", err)
	}
}

func TestDeviceLookups(t *testing.T) {
	def := parsedDomain(t, hvmWithDevices)
	if i := DiskIndexByName(def, "xvdd", false); i != 3 {
		t.Errorf("xvdd at %d", i)
	}
	if i := DiskIndexByName(def, "/x.img", false); i != 2 {
		t.Errorf("/x.img at %d", i)
	}
	if i := DiskIndexByName(def, "xvdz", true); i != -1 {
		t.Errorf("xvdz at %d", i)
	}
	InsertDisk(def, libvirtxml.DomainDisk{Target: &libvirtxml.DomainDiskTarget{Dev: "xvdc", Bus: "xen"}})
	InsertDisk(def, libvirtxml.DomainDisk{Target: &libvirtxml.DomainDiskTarget{Dev: "xvde", Bus: "xen"}})
	InsertDisk(def, libvirtxml.DomainDisk{Target: &libvirtxml.DomainDiskTarget{Dev: "sda", Bus: "scsi"}})
	var order []string
	for _, d := range def.Devices.Disks {
		order = append(order, d.Target.Dev)
	}
	if got := strings.Join(order, " "); got != "hda hdc xvdb xvdc xvdd xvde sda" {
		t.Errorf("disks in order %s", got)
	}

	mac := func(m string) *libvirtxml.DomainInterface {
		return &libvirtxml.DomainInterface{MAC: &libvirtxml.DomainInterfaceMAC{Address: m}}
	}
	if !HasNet(def, mac("00:16:3E:00:00:01")) || HasNet(def, mac("00:16:3e:00:00:09")) {
		t.Error("HasNet")
	}
	if i, err := FindNet(def, mac("00:16:3e:00:00:02"), false); i != 1 || err != nil {
		t.Errorf("FindNet: %d, %v", i, err)
	}
	_, err := FindNet(def, mac("00:16:3e:00:00:09"), false)
	if e := virerr.As(err); e.Code != libvirt.ErrDeviceMissing || e.Error() !=
		"device not found: no device found at address '(<null>)' matching MAC address '00:16:3e:00:00:09' and alias '(<null>)'" {
		t.Errorf("FindNet of a missing MAC: %v", err)
	}
	_, err = FindNet(def, mac("00:16:3e:00:00:09"), true)
	if e := virerr.As(err); e.Code != libvirt.ErrOperationFailed || e.Error() != "operation failed: multiple matching devices found" {
		t.Errorf("FindNet of a generated MAC: %v", err)
	}
	usb := &libvirtxml.DomainHostdev{SubsysUSB: &libvirtxml.DomainHostdevSubsysUSB{Source: &libvirtxml.DomainHostdevSubsysUSBSource{
		Address: &libvirtxml.DomainAddressUSB{Bus: new(uint(1)), Device: new(uint(2))}}}}
	if i := FindHostdev(def, usb); i != 0 {
		t.Errorf("usb 1.2 at %d", i)
	}
	if i := FindHostdev(def, &def.Devices.Hostdevs[1]); i != 1 || PCIAddress(&def.Devices.Hostdevs[1]) != "0000:03:00.1" {
		t.Errorf("pci at %d: %s", i, PCIAddress(&def.Devices.Hostdevs[1]))
	}
	if FindController(def, "usb", 0) < 0 || UnusedControllerIndex(def, "usb") != 1 || UnusedControllerIndex(def, "scsi") != 0 {
		t.Error("controllers")
	}
}

func TestAliases(t *testing.T) {
	def := parsedDomain(t, hvmWithDevices)
	AssignAliases(def)
	var got []string
	for _, d := range def.Devices.Disks {
		got = append(got, d.Alias.Name)
	}
	for _, n := range def.Devices.Interfaces {
		got = append(got, n.Alias.Name)
	}
	for _, h := range def.Devices.Hostdevs {
		got = append(got, h.Alias.Name)
	}
	if s := strings.Join(got, " "); s != "ide0-0-0 ide0-1-0 xen-disk1 xen-disk3 net0 net1 hostdev0 hostdev1" {
		t.Errorf("aliases %s", s)
	}
	if i := FindController(def, "usb", 0); def.Devices.Controllers[i].Alias.Name != "usb" {
		t.Errorf("usb controller alias %+v", def.Devices.Controllers[i].Alias)
	}
	n := libvirtxml.DomainInterface{}
	AssignInterfaceAlias(def, &n)
	if n.Alias.Name != "net2" {
		t.Errorf("next interface alias %s", n.Alias.Name)
	}
	// The live view shows them, the inactive one only user aliases.
	def.Devices.Disks[0].Alias.Name = "ua-boot"
	live, _ := FormatFlags(withID(def), 0)
	inactive, _ := FormatFlags(def, FormatInactive)
	if !strings.Contains(live, "<alias name='xen-disk1'/>") || !strings.Contains(live, "<alias name='ua-boot'/>") ||
		strings.Contains(inactive, "xen-disk1") || !strings.Contains(inactive, "<alias name='ua-boot'/>") {
		t.Errorf("live:\n%s\ninactive:\n%s", live, inactive)
	}
	// What a client defines keeps only user aliases.
	again := parsedDomain(t, live)
	if again.Devices.Disks[0].Alias == nil || again.Devices.Disks[2].Alias != nil {
		t.Errorf("define kept %+v and %+v", again.Devices.Disks[0].Alias, again.Devices.Disks[2].Alias)
	}
}

func withID(d *libvirtxml.Domain) *libvirtxml.Domain {
	c := Copy(d)
	id := 5
	c.ID = &id
	return c
}
