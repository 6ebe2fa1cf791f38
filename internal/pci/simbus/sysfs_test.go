package simbus

import (
	"os"
	"path/filepath"
	"testing"

	"virtxend/internal/pci"
)

// fixture lays out a sysfs tree: a NIC bound to e1000e with a full
// config file, a VF bound to pciback described only by its id files, and
// a stray entry that is no device.
func fixture(t *testing.T) string {
	root := t.TempDir()
	write := func(rel, data string) {
		t.Helper()
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	link := func(target, rel string) {
		t.Helper()
		if err := os.Symlink(target, filepath.Join(root, rel)); err != nil {
			t.Fatal(err)
		}
	}
	for _, d := range []string{"drivers/e1000e", "drivers/pciback", "drivers/igbvf"} {
		os.MkdirAll(filepath.Join(root, d), 0o755)
	}
	write("devices/0000:03:00.0/config", string(NIC(&PCIe{FLR: true}, nil).Bytes()))
	write("devices/0000:03:00.0/driver_override", "(null)\n")
	link("../../drivers/e1000e", "devices/0000:03:00.0/driver")
	write("devices/0000:03:10.1/vendor", "0x8086\n")
	write("devices/0000:03:10.1/device", "0x10ca\n")
	write("devices/0000:03:10.1/class", "0x020000\n")
	write("devices/0000:03:10.1/driver_override", "pciback\n")
	link("../../drivers/pciback", "devices/0000:03:10.1/driver")
	link("../0000:03:00.0", "devices/0000:03:10.1/physfn")
	write("devices/README/config", "")
	return root
}

func TestFromSysfsFixture(t *testing.T) {
	b, err := FromSysfs(fixture(t))
	if err != nil {
		t.Fatal(err)
	}
	nic, vf := pci.Addr{Bus: 3}, pci.Addr{Bus: 3, Slot: 0x10, Function: 1}
	if devs, _ := b.Devices(); len(devs) != 2 || devs[0] != nic || devs[1] != vf {
		t.Fatalf("devices %v", devs)
	}
	mustDriver(t, b, nic, "e1000e")
	mustDriver(t, b, vf, "pciback")
	if b.Override(nic) != "" || b.Override(vf) != "pciback" || b.IsVirtualFunction(nic) || !b.IsVirtualFunction(vf) {
		t.Errorf("overrides %q %q, VF %v %v", b.Override(nic), b.Override(vf), b.IsVirtualFunction(nic), b.IsVirtualFunction(vf))
	}
	for _, d := range []string{"e1000e", "pciback", "igbvf"} {
		if !b.HasDriver(d) {
			t.Errorf("driver %s not registered", d)
		}
	}
	cfg, _ := b.Config(nic)
	if k := pci.Config(cfg).Caps(false); len(cfg) != 4096 || !k.FLR {
		t.Errorf("NIC config: %d bytes, %+v", len(cfg), k)
	}
	cfg, _ = b.Config(vf)
	if len(cfg) != 256 || cfg[0] != 0x86 || cfg[1] != 0x80 || cfg[2] != 0xca || cfg[3] != 0x10 || cfg[0x0b] != 0x02 {
		t.Errorf("VF config from id files: % x", cfg[:12])
	}
	// Bound to a stub, the VF has no known native driver: released, it
	// stays unbound.
	b.SetDriverOverride(vf, "\n")
	b.Unbind(vf)
	b.Probe(vf)
	mustDriver(t, b, vf, "")
}

func TestFromSysfsMissingTree(t *testing.T) {
	if _, err := FromSysfs(filepath.Join(t.TempDir(), "nothing")); err == nil {
		t.Error("a tree without devices/ read")
	}
}

// TestFromSysfsThisHost reads this machine's /sys/bus/pci, read-only.
func TestFromSysfsThisHost(t *testing.T) {
	const root = "/sys/bus/pci"
	entries, err := os.ReadDir(filepath.Join(root, "devices"))
	if err != nil {
		t.Skip("no PCI bus in sysfs here:", err)
	}
	b, err := FromSysfs(root)
	if err != nil {
		t.Fatal(err)
	}
	devs, _ := b.Devices()
	if len(devs) != len(entries) {
		t.Errorf("%d devices read, %d in sysfs", len(devs), len(entries))
	}
	for _, a := range devs {
		cfg, _ := b.Config(a)
		drv, _ := b.Driver(a)
		want := ""
		if link, err := os.Readlink(filepath.Join(root, "devices", a.String(), "driver")); err == nil {
			want = filepath.Base(link)
		}
		if len(cfg) < 256 || drv != want {
			t.Errorf("%s: %d bytes of config, driver %q, want %q", a, len(cfg), drv, want)
		}
	}
}
