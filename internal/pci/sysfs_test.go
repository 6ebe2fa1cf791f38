package pci

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// sysTree is a temp tree laid out as /sys/bus/pci: a NIC bound to e1000e,
// an unbound VF, a stray entry, e1000e and pciback registered. Writes
// land in plain files the test reads back.
type sysTree struct {
	t    *testing.T
	root string
}

var (
	treeNIC = Addr{Bus: 3}
	treeVF  = Addr{Bus: 3, Slot: 0x10, Function: 1}
	treeGon = Addr{Bus: 9}
)

func newSysTree(t *testing.T) *sysTree {
	s := &sysTree{t, t.TempDir()}
	nicCfg := newCfg(256).put(0, 0x10d38086, 4).b
	s.write("devices/0000:03:00.0/config", string(nicCfg))
	s.write("devices/0000:03:00.0/driver_override", "(null)\n")
	s.write("drivers/e1000e/unbind", "")
	s.write("drivers/e1000e/bind", "")
	s.write("drivers/pciback/unbind", "")
	s.write("drivers_probe", "")
	s.link("../../drivers/e1000e", "devices/0000:03:00.0/driver")
	s.write("devices/0000:03:10.1/config", string(newCfg(256).b))
	s.write("devices/0000:03:10.1/driver_override", "")
	s.link("../0000:03:00.0", "devices/0000:03:10.1/physfn")
	s.write("devices/stray/config", "")
	return s
}

func (s *sysTree) write(rel, data string) {
	s.t.Helper()
	p := filepath.Join(s.root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		s.t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(data), 0o644); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysTree) link(target, rel string) {
	s.t.Helper()
	if err := os.Symlink(target, filepath.Join(s.root, rel)); err != nil {
		s.t.Fatal(err)
	}
}

func (s *sysTree) read(rel string) string {
	s.t.Helper()
	b, err := os.ReadFile(filepath.Join(s.root, rel))
	if err != nil {
		s.t.Fatal(err)
	}
	return string(b)
}

func TestSysfsReads(t *testing.T) {
	tree := newSysTree(t)
	s := Sysfs{Root: tree.root}
	devs, err := s.Devices()
	if err != nil || len(devs) != 2 || devs[0] != treeNIC || devs[1] != treeVF {
		t.Fatalf("devices %v, %v", devs, err)
	}
	if cfg, err := s.Config(treeNIC); err != nil || len(cfg) != 256 || cfg[0] != 0x86 {
		t.Errorf("config: %d bytes, %v", len(cfg), err)
	}
	if drv, err := s.Driver(treeNIC); drv != "e1000e" || err != nil {
		t.Errorf("driver %q, %v", drv, err)
	}
	if drv, err := s.Driver(treeVF); drv != "" || err != nil {
		t.Errorf("unbound device: driver %q, %v", drv, err)
	}
	if !s.IsVirtualFunction(treeVF) || s.IsVirtualFunction(treeNIC) {
		t.Error("IsVirtualFunction")
	}
	if !s.HasDriver("pciback") || s.HasDriver("vfio-pci") {
		t.Error("HasDriver")
	}
	tree.write("devices/0000:03:10.1/driver", "not a link")
	if _, err := s.Driver(treeVF); err == nil || errors.Is(err, ErrNoDevice) {
		t.Errorf("a driver file that is no link: %v", err)
	}
}

func TestSysfsMissingDevice(t *testing.T) {
	s := Sysfs{Root: newSysTree(t).root}
	_, cerr := s.Config(treeGon)
	_, derr := s.Driver(treeGon)
	for name, err := range map[string]error{
		"Config": cerr, "Driver": derr,
		"WriteConfig":       s.WriteConfig(treeGon, 0, []byte{1}),
		"SetDriverOverride": s.SetDriverOverride(treeGon, "pciback"),
		"Unbind":            s.Unbind(treeGon),
	} {
		if !errors.Is(err, ErrNoDevice) || !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestSysfsWritesGoWhereTheKernelWantsThem(t *testing.T) {
	tree := newSysTree(t)
	s := Sysfs{Root: tree.root}
	if err := s.WriteConfig(treeNIC, 4, []byte{7, 1}); err != nil {
		t.Fatal(err)
	}
	if cfg := tree.read("devices/0000:03:00.0/config"); len(cfg) != 256 || cfg[4] != 7 || cfg[5] != 1 || cfg[0] != 0x86 {
		t.Errorf("config after write: % x", cfg[:8])
	}
	if err := s.SetDriverOverride(treeNIC, "pciback"); err != nil {
		t.Fatal(err)
	}
	if got := tree.read("devices/0000:03:00.0/driver_override"); got != "pciback" {
		t.Errorf("driver_override %q", got)
	}
	if err := s.Unbind(treeNIC); err != nil {
		t.Fatal(err)
	}
	if got := tree.read("drivers/e1000e/unbind"); got != "0000:03:00.0" {
		t.Errorf("unbind got %q", got)
	}
	if err := s.Unbind(treeVF); err != nil {
		t.Errorf("unbind of an unbound device: %v", err)
	}
	if err := s.Probe(treeNIC); err != nil {
		t.Fatal(err)
	}
	if got := tree.read("drivers_probe"); got != "0000:03:00.0" {
		t.Errorf("drivers_probe got %q", got)
	}
}

// TestSysfsUnderTheRules: BindToStub over the real Bus writes what
// libvirt writes, in its order (the tree does not rebind by itself).
func TestSysfsUnderTheRules(t *testing.T) {
	tree := newSysTree(t)
	bound, err := Host{Bus: Sysfs{Root: tree.root}}.BindToStub(treeNIC, StubXen)
	if err != nil || !bound {
		t.Fatalf("%v, %v", bound, err)
	}
	if tree.read("devices/0000:03:00.0/driver_override") != "pciback" ||
		tree.read("drivers/e1000e/unbind") != "0000:03:00.0" || tree.read("drivers_probe") != "0000:03:00.0" {
		t.Error("BindToStub's writes")
	}
}

func TestSysfsLoadModule(t *testing.T) {
	dir := t.TempDir()
	fake := func(script string) Sysfs {
		p := filepath.Join(dir, "modprobe")
		if err := os.WriteFile(p, []byte("#!/bin/sh\necho \"$@\" >> "+dir+"/calls\n"+script), 0o755); err != nil {
			t.Fatal(err)
		}
		os.Remove(filepath.Join(dir, "calls"))
		return Sysfs{Root: dir, Modprobe: p}
	}
	calls := func() string { b, _ := os.ReadFile(filepath.Join(dir, "calls")); return string(b) }

	if err := fake("exit 0").LoadModule("xen-pciback"); err != nil || calls() != "-b xen-pciback\n" {
		t.Errorf("load: %v, calls %q", err, calls())
	}
	err := fake(`[ "$1" = -c ] && { echo "blacklist xen_pciback"; exit 0; }; echo nope >&2; exit 1`).LoadModule("xen-pciback")
	if !errors.Is(err, ErrModuleProhibited) || calls() != "-b xen-pciback\n-c\n" {
		t.Errorf("blacklisted: %v, calls %q", err, calls())
	}
	err = fake(`[ "$1" = -c ] && { echo "blacklist other"; exit 0; }; echo "FATAL: Module x not found" >&2; exit 1`).LoadModule("xen-pciback")
	if err == nil || errors.Is(err, ErrModuleProhibited) {
		t.Errorf("failed load: %v", err)
	}
}

// TestSysfsThisHost reads this machine's bus (read-only).
func TestSysfsThisHost(t *testing.T) {
	s := Sysfs{}
	devs, err := s.Devices()
	if err != nil {
		t.Skip("no PCI bus in sysfs here:", err)
	}
	for _, a := range devs {
		if _, err := s.Config(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
		if _, err := s.Driver(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
		if _, err := (Host{Bus: s}).HeaderType(a); err != nil {
			t.Errorf("%s: %v", a, err)
		}
	}
}
