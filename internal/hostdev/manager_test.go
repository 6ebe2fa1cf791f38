package hostdev

import (
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/pci"
	"virtxend/internal/virerr"
)

// fakeHost is a host whose devices' drivers the test sets and reads; it
// records resets. The pci package's own tests check the rules behind
// each operation; these check the books kept around them.
type fakeHost struct {
	driver   map[pci.Addr]string // "" unbound
	native   map[pci.Addr]string // the driver a probe without override binds
	bridge   map[pci.Addr]bool
	resets   []pci.Addr
	resetErr error
	stubErr  error
}

func newFakeHost(addrs ...pci.Addr) *fakeHost {
	h := &fakeHost{driver: map[pci.Addr]string{}, native: map[pci.Addr]string{}, bridge: map[pci.Addr]bool{}}
	for _, a := range addrs {
		h.driver[a], h.native[a] = "e1000e", "e1000e"
	}
	return h
}

func (h *fakeHost) Exists(a pci.Addr) bool { _, ok := h.driver[a]; return ok }
func (h *fakeHost) HeaderType(a pci.Addr) (pci.Header, error) {
	if !h.Exists(a) {
		return 0, pci.ErrNoDevice
	}
	if h.bridge[a] {
		return pci.HeaderPCIBridge, nil
	}
	return pci.HeaderEndpoint, nil
}
func (h *fakeHost) Assignable(pci.Addr, bool) (bool, error) { return true, nil }
func (h *fakeHost) Driver(a pci.Addr) (string, error)       { return h.driver[a], nil }
func (h *fakeHost) ProbeStub(string) error                  { return h.stubErr }
func (h *fakeHost) BindToStub(a pci.Addr, stub string) (bool, error) {
	if h.driver[a] == stub {
		return false, nil
	}
	h.driver[a] = stub
	return true, nil
}
func (h *fakeHost) UnbindFromStub(a pci.Addr) error { h.driver[a] = h.native[a]; return nil }
func (h *fakeHost) Reset(a pci.Addr, _ func(pci.Addr) bool) error {
	h.resets = append(h.resets, a)
	return h.resetErr
}

var (
	nic  = pci.Addr{Bus: 1, Slot: 0}
	nic2 = pci.Addr{Bus: 2, Slot: 0}
)

func newManager(t *testing.T, h Host) (*Manager, string) {
	path := filepath.Join(t.TempDir(), "hostdevs.json")
	return New(h, path, slog.New(slog.DiscardHandler)), path
}

func wantErr(t *testing.T, err error, text string) {
	t.Helper()
	if err == nil || !strings.Contains(virerr.As(err).Wire().Message, text) {
		t.Fatalf("error %v, want one saying %q", err, text)
	}
}

func TestManagedDeviceGoesToGuestAndBack(t *testing.T) {
	h := newFakeHost(nic)
	m, _ := newManager(t, h)
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	if h.driver[nic] != Stub || m.InUse()[nic] != "vm1" || len(h.resets) != 1 {
		t.Fatalf("after prepare: driver %q, in use %v, resets %v", h.driver[nic], m.InUse(), h.resets)
	}
	m.Release("vm1", []Device{{Addr: nic, Managed: true}})
	if h.driver[nic] != "e1000e" || len(m.InUse()) != 0 || len(h.resets) != 2 {
		t.Fatalf("after release: driver %q, in use %v, resets %v", h.driver[nic], m.InUse(), h.resets)
	}
}

func TestDeviceOfAnotherGuestRefused(t *testing.T) {
	h := newFakeHost(nic)
	m, _ := newManager(t, h)
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	err := m.Prepare("vm2", []Device{{Addr: nic, Managed: true}})
	wantErr(t, err, "Requested operation is not valid: PCI device 0000:01:00.0 is in use by driver xenlight, domain vm1")
	// vm2's stop must not take vm1's device.
	m.Release("vm2", []Device{{Addr: nic, Managed: true}})
	if m.InUse()[nic] != "vm1" || h.driver[nic] != Stub {
		t.Fatalf("vm2's release took vm1's device: %v %q", m.InUse(), h.driver[nic])
	}
	wantErr(t, m.NodeReattach(nic), "is in use by driver xenlight, domain vm1")
	wantErr(t, m.NodeDetach(nic), "is in use by driver xenlight, domain vm1")
	wantErr(t, m.NodeReset(nic), "Not resetting active device 0000:01:00.0")
}

func TestUnmanagedDeviceMustBeDetached(t *testing.T) {
	h := newFakeHost(nic)
	m, _ := newManager(t, h)
	err := m.Prepare("vm1", []Device{{Addr: nic}})
	wantErr(t, err, "Unmanaged PCI device 0000:01:00.0 must be manually detached from the host")
	if err := m.NodeDetach(nic); err != nil {
		t.Fatal(err)
	}
	if err := m.Prepare("vm1", []Device{{Addr: nic}}); err != nil {
		t.Fatal(err)
	}
	m.Release("vm1", []Device{{Addr: nic}})
	if h.driver[nic] != Stub {
		t.Fatalf("an unmanaged device went back to %q at the guest's stop", h.driver[nic])
	}
	if err := m.NodeReattach(nic); err != nil {
		t.Fatal(err)
	}
	if h.driver[nic] != "e1000e" {
		t.Fatalf("reattach left the device on %q", h.driver[nic])
	}
}

// A managed device that an admin detached before the guest started stays
// detached after it: the earlier inactive entry keeps its flags.
func TestNodeDetachedDeviceStaysDetachedAfterManagedUse(t *testing.T) {
	h := newFakeHost(nic)
	m, _ := newManager(t, h)
	if err := m.NodeDetach(nic); err != nil {
		t.Fatal(err)
	}
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	m.Release("vm1", []Device{{Addr: nic, Managed: true}})
	if h.driver[nic] != Stub {
		t.Fatalf("device went back to %q", h.driver[nic])
	}
}

func TestFailedPrepareReturnsEveryDevice(t *testing.T) {
	h := newFakeHost(nic, nic2)
	m, _ := newManager(t, h)
	h.resetErr = errors.New("reset refused")
	err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}, {Addr: nic2, Managed: true}})
	if err == nil {
		t.Fatal("prepare succeeded with resets failing")
	}
	if h.driver[nic] != "e1000e" || h.driver[nic2] != "e1000e" || len(m.InUse()) != 0 {
		t.Fatalf("devices left behind: %v, in use %v", h.driver, m.InUse())
	}
}

func TestNonEndpointRefused(t *testing.T) {
	h := newFakeHost(nic)
	h.bridge[nic] = true
	m, _ := newManager(t, h)
	wantErr(t, m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}), "Non-endpoint PCI devices cannot be assigned to guests")
}

func TestMissingDeviceSkippedAndNodeOpsRefused(t *testing.T) {
	h := newFakeHost()
	m, _ := newManager(t, h)
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}); err != nil {
		t.Fatalf("a device the host lacks is libxl's to report: %v", err)
	}
	wantErr(t, m.NodeDetach(nic), "Device 0000:01:00.0 not found: could not access /sys/bus/pci/devices/0000:01:00.0/config: No such file or directory")
}

// The books survive a restart: a guest that stopped while the daemon was
// down gets its devices returned; a running one keeps them.
func TestRestartKeepsWhoHoldsWhat(t *testing.T) {
	h := newFakeHost(nic, nic2)
	m, path := newManager(t, h)
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	if err := m.Prepare("vm2", []Device{{Addr: nic2, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	m2 := New(h, path, slog.New(slog.DiscardHandler))
	m2.Adopt("vm1", []Device{{Addr: nic, Managed: true}})
	m2.ReleaseOrphans(func(name string) bool { return name == "vm1" })
	if got := m2.InUse(); len(got) != 1 || got[nic] != "vm1" {
		t.Fatalf("in use after restart: %v", got)
	}
	if h.driver[nic2] != "e1000e" {
		t.Fatalf("the stopped guest's device stayed on %q", h.driver[nic2])
	}
	wantErr(t, m2.Prepare("vm3", []Device{{Addr: nic, Managed: true}}), "in use by driver xenlight, domain vm1")
}

// A device the state file gives a running domain whose definition lacks
// it (a hotplug the daemon was killed in) goes back to the host.
func TestAdoptDropsDevicesTheDefinitionLacks(t *testing.T) {
	h := newFakeHost(nic, nic2)
	m, path := newManager(t, h)
	if err := m.Prepare("vm1", []Device{{Addr: nic, Managed: true}, {Addr: nic2, Managed: true}}); err != nil {
		t.Fatal(err)
	}
	m2 := New(h, path, slog.New(slog.DiscardHandler))
	m2.Adopt("vm1", []Device{{Addr: nic, Managed: true}})
	if got := m2.InUse(); len(got) != 1 || h.driver[nic2] != "e1000e" {
		t.Fatalf("in use %v, nic2 on %q", got, h.driver[nic2])
	}
}

func TestUnreadableStateStartsEmpty(t *testing.T) {
	h := newFakeHost(nic)
	dir := t.TempDir()
	path := filepath.Join(dir, "hostdevs.json")
	if err := writeFile(path, "{not json"); err != nil {
		t.Fatal(err)
	}
	m := New(h, path, slog.New(slog.DiscardHandler))
	if len(m.InUse()) != 0 {
		t.Fatal("in use from a broken file")
	}
}

func writeFile(path, s string) error { return os.WriteFile(path, []byte(s), 0o600) }

func TestUSBDeviceOfOneGuestAtATime(t *testing.T) {
	m, path := newManager(t, newFakeHost())
	u := USB{Bus: 1, Dev: 4}
	if err := m.PrepareUSB("vm1", []USB{u}); err != nil {
		t.Fatal(err)
	}
	wantErr(t, m.PrepareUSB("vm2", []USB{{Bus: 2, Dev: 1}, u}), "Requested operation is not valid: USB device 001:004 is in use by driver xenlight, domain vm1")
	if got := m.USBInUse(); len(got) != 1 {
		t.Fatalf("a refused prepare marked devices: %v", got)
	}
	m.ReleaseUSB("vm2", []USB{u})
	if m.USBInUse()[u] != "vm1" {
		t.Fatal("another guest's release took vm1's device")
	}
	m2 := New(newFakeHost(), path, slog.New(slog.DiscardHandler))
	wantErr(t, m2.PrepareUSB("vm2", []USB{u}), "in use by driver xenlight, domain vm1")
	m2.ReleaseOrphans(func(string) bool { return false })
	if err := m2.PrepareUSB("vm2", []USB{u}); err != nil {
		t.Fatal(err)
	}
	m2.ReleaseAllUSB("vm2")
	if len(m2.USBInUse()) != 0 {
		t.Fatal("stop kept a USB device")
	}
}
