package domxml

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzParse: Parse never panics; what it accepts formats, and the
// formatted XML parses again.
func FuzzParse(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(okPV)
	f.Add(`<domain type='xen'><name>g</name><memory unit='G'>1</memory><os><type>hvm</type></os>` +
		`<devices><console/><serial/><video/><graphics type='vnc' socket='/s'/></devices></domain>`)
	f.Add(`<domain type='xen'><name>g</name><metadata><a:b xmlns:a="u"/><c/></metadata></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := ParseWith(doc, Options{Rand: fixedRand()})
		if err != nil {
			return
		}
		out, err := FormatFlags(d, FormatInactive|FormatSecure)
		if err != nil {
			t.Fatalf("Format of a parsed definition failed: %v", err)
		}
		if _, err := ParseWith(out, Options{Rand: fixedRand()}); err != nil {
			t.Fatalf("formatted XML does not parse: %v\n%s", err, out)
		}
	})
}

// FuzzValidateSchema: the schema check never panics, and what we format
// ourselves always passes it.
func FuzzValidateSchema(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(`<domain type='xen'><name>g</name><bogus a='1'/><os><type>linux</type></os></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		ValidateSchema(doc)
		d, err := ParseWith(doc, Options{Rand: fixedRand()})
		if err != nil {
			return
		}
		out, err := FormatFlags(d, FormatInactive|FormatSecure)
		if err != nil {
			return
		}
		if err := ValidateSchema(out); err != nil {
			t.Fatalf("our own output fails the schema check: %v\n%s", err, out)
		}
	})
}

// FuzzCPUSetAndMAC: the two attribute parsers never panic, and what they
// accept they write in a form they read back to the same value.
func FuzzCPUSetAndMAC(f *testing.F) {
	for _, s := range []string{"0-3,^2,8", "1", " 4 - 6 ", "^1", "16383", "0:16:3E:1:2:3", "aa:bb:cc:dd:ee:ff "} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if set, err := ParseCPUSet(s, CPUMaskLen); err == nil {
			again, err := ParseCPUSet(FormatCPUSet(set), CPUMaskLen)
			if len(set) > 0 && (err != nil || FormatCPUSet(again) != FormatCPUSet(set)) {
				t.Fatalf("%q -> %q -> %v %v", s, FormatCPUSet(set), again, err)
			}
		}
		if mac, ok := ParseMAC(s); ok {
			if again, ok := ParseMAC(mac); !ok || again != mac {
				t.Fatalf("%q -> %q -> %q", s, mac, again)
			}
		}
	})
}

// FuzzParseDevice: ParseDevice never panics, and a device it accepts
// formats into XML that it accepts again.
func FuzzParseDevice(f *testing.F) {
	for _, s := range []string{
		`<disk type='file' device='disk'><source file='/n.img'/><target dev='xvdc'/></disk>`,
		`<disk type='file' device='cdrom'><target dev='hdd'/><alias name='ua-cd'/></disk>`,
		`<disk type='network' device='disk'><source protocol='rbd' name='p/i'><host name='m'/></source><target dev='xvdz'/></disk>`,
		`<interface type='network'><source network='default'/><target dev='vif1.0'/></interface>`,
		`<interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='br0'/><model type='e1000'/></interface>`,
		`<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>`,
		`<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0' bus='3' slot='0' function='1'/></source></hostdev>`,
		`<controller type='usb' index='1' model='qusb2' ports='4'/>`,
		`<serial type='pty'/>`, `<video/>`, `<none/>`,
	} {
		f.Add(s)
	}
	def, err := ParseWith(hvmWithDevices, Options{Rand: fixedRand()})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, doc string) {
		dev, err := ParseDevice(doc, def, DeviceOptions{Rand: fixedRand()})
		if err != nil {
			return
		}
		var part any
		switch {
		case dev.Disk != nil:
			part = dev.Disk
		case dev.Interface != nil:
			part = dev.Interface
		case dev.Controller != nil:
			part = dev.Controller
		case dev.Hostdev != nil:
			part = dev.Hostdev
		default:
			return
		}
		out := marshalPart(part)
		if out == "" {
			t.Fatalf("a parsed %s does not format", dev.Kind)
		}
		if _, err := ParseDevice(out, def, DeviceOptions{Rand: fixedRand()}); err != nil {
			t.Fatalf("formatted %s does not parse: %v\n%s", dev.Kind, err, out)
		}
	})
}
