package simbus

import (
	"errors"
	"io"
	"slices"
	"sync"
	"syscall"
	"testing"

	"virtxend/internal/pci"
)

var (
	nicAddr = pci.Addr{Bus: 3}
	bridge  = pci.Addr{Slot: 1}
)

func mustDriver(t *testing.T, b *Bus, a pci.Addr, want string) {
	t.Helper()
	if got, err := b.Driver(a); err != nil || got != want {
		t.Fatalf("driver of %s: %q, %v; want %q", a, got, err, want)
	}
}

func TestBindingFollowsTheKernel(t *testing.T) {
	b := New()
	b.Add(nicAddr, Device{Config: NIC(nil, nil).Bytes(), Driver: "e1000e", Native: "e1000e"})
	b.AddModule("xen-pciback", "pciback", nil)

	// Unbound, reprobed without an override: the native driver again.
	if err := b.Unbind(nicAddr); err != nil {
		t.Fatal(err)
	}
	mustDriver(t, b, nicAddr, "")
	if err := b.Probe(nicAddr); err != nil {
		t.Fatal(err)
	}
	mustDriver(t, b, nicAddr, "e1000e")

	// An override for a driver not registered yet: probing binds nothing.
	if err := b.SetDriverOverride(nicAddr, "pciback"); err != nil {
		t.Fatal(err)
	}
	if err := b.Probe(nicAddr); err != nil {
		t.Fatal(err)
	}
	mustDriver(t, b, nicAddr, "e1000e") // a bound device stays bound
	b.Unbind(nicAddr)
	b.Probe(nicAddr)
	mustDriver(t, b, nicAddr, "")

	// Loading the module registers the driver, which takes the device.
	if b.HasDriver("pciback") {
		t.Fatal("pciback registered before its module is loaded")
	}
	if err := b.LoadModule("xen_pciback"); err != nil {
		t.Fatal(err)
	}
	mustDriver(t, b, nicAddr, "pciback")

	// Clearing the override ("\n", as libvirt writes it) and reprobing
	// gives the device back to its native driver.
	b.SetDriverOverride(nicAddr, "\n")
	if b.Override(nicAddr) != "" {
		t.Fatalf("override %q after writing a newline", b.Override(nicAddr))
	}
	b.Unbind(nicAddr)
	b.Probe(nicAddr)
	mustDriver(t, b, nicAddr, "e1000e")
}

func TestFaults(t *testing.T) {
	b := New()
	b.Add(nicAddr, Device{Config: NIC(nil, nil).Bytes(), Driver: "e1000e", Native: "e1000e"})
	b.AddModule("broken", "broken", syscall.ENOEXEC)

	b.RefuseUnbind("e1000e", syscall.EBUSY)
	if err := b.Unbind(nicAddr); !errors.Is(err, syscall.EBUSY) {
		t.Errorf("refused unbind: %v", err)
	}
	mustDriver(t, b, nicAddr, "e1000e")
	b.RefuseUnbind("e1000e", nil)
	if err := b.Unbind(nicAddr); err != nil {
		t.Errorf("unbind after the fault cleared: %v", err)
	}

	if err := b.LoadModule("broken"); !errors.Is(err, syscall.ENOEXEC) || b.HasDriver("broken") {
		t.Errorf("failing module: %v, registered %v", err, b.HasDriver("broken"))
	}
	if err := b.LoadModule("nosuch"); err == nil {
		t.Error("an unknown module loaded")
	}

	b.FailConfig(nicAddr, syscall.EACCES, syscall.EROFS)
	if _, err := b.Config(nicAddr); !errors.Is(err, syscall.EACCES) {
		t.Errorf("config read: %v", err)
	}
	if err := b.WriteConfig(nicAddr, 4, []byte{1}); !errors.Is(err, syscall.EROFS) {
		t.Errorf("config write: %v", err)
	}

	b.Remove(nicAddr)
	for name, err := range map[string]error{
		"Driver":            func() error { _, err := b.Driver(nicAddr); return err }(),
		"Config":            func() error { _, err := b.Config(nicAddr); return err }(),
		"WriteConfig":       b.WriteConfig(nicAddr, 0, []byte{0}),
		"SetDriverOverride": b.SetDriverOverride(nicAddr, "pciback"),
		"Unbind":            b.Unbind(nicAddr),
		"Probe":             b.Probe(nicAddr),
	} {
		if !errors.Is(err, pci.ErrNoDevice) {
			t.Errorf("%s on a vanished device: %v", name, err)
		}
	}
	if devs, _ := b.Devices(); len(devs) != 0 || b.IsVirtualFunction(nicAddr) {
		t.Errorf("vanished device still listed: %v", devs)
	}
}

func TestWritesAreKeptAndShortPastTheEnd(t *testing.T) {
	b := New()
	b.Add(nicAddr, Device{Config: NIC(nil, nil).Bytes()})
	if err := b.WriteConfig(nicAddr, 0x04, []byte{0x07, 0x01}); err != nil {
		t.Fatal(err)
	}
	if err := b.WriteConfig(nicAddr, 0xff, []byte{1, 2}); err != io.ErrShortWrite {
		t.Errorf("write past the end: %v", err)
	}
	cfg, _ := b.Config(nicAddr)
	if cfg[0x04] != 0x07 || cfg[0x05] != 0x01 || cfg[0xff] != 1 || len(cfg) != 256 {
		t.Errorf("config after writes: % x", cfg[:8])
	}
}

// TestResetsHappen: D3hot→D0 resets a device whose NO_SOFT_RESET is clear,
// and a bridge's reset bit resets every device behind it, not its peers.
func TestResetsHappen(t *testing.T) {
	b := New()
	behind := pci.Addr{Bus: 3, Function: 1}
	other := pci.Addr{Bus: 4}
	b.Add(bridge, Device{Config: Bridge(3, 3).Bytes()})
	b.Add(nicAddr, Device{Config: NIC(nil, &PM{}).Bytes()})
	b.Add(behind, Device{Config: NIC(nil, &PM{NoSoftReset: true}).Bytes()})
	b.Add(other, Device{Config: NIC(nil, nil).Bytes()})
	b.WriteConfig(nicAddr, 0x04, []byte{0x07})

	b.WriteConfig(nicAddr, pmAt+pmCtrl, []byte{3, 0, 0, 0})
	b.WriteConfig(behind, pmAt+pmCtrl, []byte{0xb, 0, 0, 0})
	if b.Resets(nicAddr) != 0 {
		t.Fatal("reset on entering D3hot")
	}
	b.WriteConfig(nicAddr, pmAt+pmCtrl, []byte{0, 0, 0, 0})
	b.WriteConfig(behind, pmAt+pmCtrl, []byte{0x8, 0, 0, 0})
	if cfg, _ := b.Config(nicAddr); b.Resets(nicAddr) != 1 || cfg[0x04] != 0 {
		t.Errorf("PM reset: %d resets, command %#x", b.Resets(nicAddr), cfg[0x04])
	}
	if b.Resets(behind) != 0 {
		t.Error("a device with NO_SOFT_RESET reset by D3hot→D0")
	}

	b.WriteConfig(bridge, regBridgeCtl, []byte{bridgeCtlReset, 0})
	b.WriteConfig(bridge, regBridgeCtl, []byte{0, 0})
	if b.Resets(nicAddr) != 2 || b.Resets(behind) != 1 || b.Resets(other) != 0 || b.Resets(bridge) != 0 {
		t.Errorf("bus reset: %d %d %d %d", b.Resets(nicAddr), b.Resets(behind), b.Resets(other), b.Resets(bridge))
	}
}

func TestSpecGivesTheCapsAsked(t *testing.T) {
	acs := uint16(0x1d)
	for _, c := range []struct {
		spec Spec
		want pci.Caps
	}{
		{NIC(&PCIe{FLR: true}, nil), pci.Caps{PCIeCap: pcieAt, PCIe: true, FLR: true}},
		{NIC(&PCIe{}, &PM{}), pci.Caps{PCIeCap: pcieAt, PMCap: pmAt, PCIe: true, PMReset: true}},
		{NIC(nil, &PM{NoSoftReset: true}), pci.Caps{PMCap: pmAt}},
		{Spec{AF: &AF{FLR: true}}, pci.Caps{FLR: true}},
		{Spec{PCIe: &PCIe{Type: 6, ACS: &acs}}, pci.Caps{PCIeCap: pcieAt, PCIe: true}},
	} {
		cfg := pci.Config(c.spec.Bytes())
		if got := cfg.Caps(false); got != c.want {
			t.Errorf("%+v: %+v, want %+v", c.spec, got, c.want)
		}
	}
	br := pci.Config(Bridge(5, 9).Bytes())
	if br.HeaderType() != pci.HeaderPCIBridge || br[regSecondary] != 5 || br[regSubordinate] != 9 || br[0x0a] != 0x04 || br[0x0b] != 0x06 {
		t.Errorf("bridge config % x", br[:0x20])
	}
	if pos := pci.Config(Spec{PCIe: &PCIe{ACS: &acs}}.Bytes()).ExtCapOffset(pci.ExtCapACS); pos != acsAt {
		t.Errorf("ACS at %#x", pos)
	}
}

func TestDevicesInAddressOrder(t *testing.T) {
	b := New()
	addrs := []pci.Addr{{Domain: 0x10000}, {Bus: 0x10}, {Bus: 2, Slot: 3}, {Bus: 2, Slot: 1, Function: 7}}
	for _, a := range addrs {
		b.Add(a, Device{Config: NIC(nil, nil).Bytes()})
	}
	got, _ := b.Devices()
	want := []pci.Addr{{Bus: 2, Slot: 1, Function: 7}, {Bus: 2, Slot: 3}, {Bus: 0x10}, {Domain: 0x10000}}
	if !slices.Equal(got, want) {
		t.Errorf("%v, want %v", got, want)
	}
}

// TestConcurrentUse runs every operation from many goroutines (for -race).
func TestConcurrentUse(t *testing.T) {
	b := New()
	b.AddModule("xen-pciback", "pciback", nil)
	for i := range 8 {
		b.Add(pci.Addr{Bus: 1, Slot: uint8(i)}, Device{Config: NIC(&PCIe{}, &PM{}).Bytes(), Driver: "e1000e", Native: "e1000e"})
	}
	var wg sync.WaitGroup
	for i := range 8 {
		a := pci.Addr{Bus: 1, Slot: uint8(i)}
		wg.Add(1)
		go func() {
			defer wg.Done()
			for j := range 50 {
				b.LoadModule("xen-pciback")
				b.SetDriverOverride(a, []string{"pciback", "\n"}[j%2])
				b.Unbind(a)
				b.Probe(a)
				b.WriteConfig(a, pmAt+pmCtrl, []byte{byte(3 * (j % 2)), 0, 0, 0})
				b.Config(a)
				b.Devices()
				b.HasDriver("pciback")
				b.IsVirtualFunction(a)
				b.Driver(a)
			}
		}()
	}
	wg.Wait()
	for i := range 8 {
		a := pci.Addr{Bus: 1, Slot: uint8(i)}
		mustDriver(t, b, a, "e1000e")
		if n := b.Resets(a); n != 24 { // every D3hot→D0 of the loop
			t.Errorf("%s: %d resets, want 24", a, n)
		}
	}
}
