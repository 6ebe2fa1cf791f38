package pci_test

import (
	"errors"
	"syscall"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pci"
	"virtxend/internal/pci/simbus"
)

func TestProbeStub(t *testing.T) {
	for _, c := range []struct {
		name  string
		build func(*simbus.Bus)
		stub  string
		msg   string
	}{
		{"registered already", func(b *simbus.Bus) { b.AddDriver("pciback") }, pci.StubXen, ""},
		// The module is xen-pciback, whatever libvirt 9.0 asks modprobe.
		{"loaded from xen-pciback", func(b *simbus.Bus) { b.AddModule("xen-pciback", "pciback", nil) }, pci.StubXen, ""},
		{"vfio-pci loaded", func(b *simbus.Bus) { b.AddModule("vfio_pci", "vfio-pci", nil) }, pci.StubVFIO, ""},
		{"no module", func(*simbus.Bus) {}, pci.StubXen, "internal error: Failed to load PCI stub module pciback"},
		{"module fails", func(b *simbus.Bus) { b.AddModule("xen-pciback", "pciback", syscall.ENODEV) }, pci.StubXen,
			"internal error: Failed to load PCI stub module pciback"},
		{"module blacklisted", func(b *simbus.Bus) {
			b.AddModule("xen-pciback", "pciback", pci.ErrModuleProhibited)
		}, pci.StubXen, "internal error: Failed to load PCI stub module pciback: administratively prohibited"},
		{"module loads but registers no such driver", func(b *simbus.Bus) { b.AddModule("xen-pciback", "xen-pciback", nil) },
			pci.StubXen, "internal error: Failed to load PCI stub module pciback"},
		{"not a stub libvirt knows", func(b *simbus.Bus) { b.AddDriver("pci-stub") }, "pci-stub",
			"internal error: Attempting to use unknown stub driver"},
	} {
		t.Run(c.name, func(t *testing.T) {
			b := simbus.New()
			c.build(b)
			err := pci.Host{Bus: b}.ProbeStub(c.stub)
			wantErr(t, err, internal, c.msg)
			if err == nil && !b.HasDriver(c.stub) {
				t.Error("probed, but the driver is not registered")
			}
		})
	}
}

// TestStubRoundTrip: detach to pciback and back gives the device to its
// native driver, with driver_override cleared.
func TestStubRoundTrip(t *testing.T) {
	b := simbus.New()
	b.Add(nic, simbus.Device{Config: noCaps.Bytes(), Driver: "e1000e", Native: "e1000e"})
	b.AddModule("xen-pciback", "pciback", nil)
	h := pci.Host{Bus: b}
	if err := h.ProbeStub(pci.StubXen); err != nil {
		t.Fatal(err)
	}
	bound, err := h.BindToStub(nic, pci.StubXen)
	if err != nil || !bound {
		t.Fatalf("BindToStub: %v, %v", bound, err)
	}
	if drv, _ := h.Driver(nic); drv != "pciback" || b.Override(nic) != "pciback" {
		t.Fatalf("after BindToStub: driver %q, override %q", drv, b.Override(nic))
	}
	// Bound already: nothing to do, and not ours to unbind later.
	if bound, err := h.BindToStub(nic, pci.StubXen); err != nil || bound {
		t.Fatalf("second BindToStub: %v, %v", bound, err)
	}
	if err := h.UnbindFromStub(nic); err != nil {
		t.Fatal(err)
	}
	if drv, _ := h.Driver(nic); drv != "e1000e" || b.Override(nic) != "" {
		t.Fatalf("after UnbindFromStub: driver %q, override %q", drv, b.Override(nic))
	}
}

func TestBindToStubOfADeviceOnTheStubAlready(t *testing.T) {
	b := simbus.New()
	b.Add(nic, simbus.Device{Config: noCaps.Bytes(), Driver: "pciback", Native: "e1000e"})
	if bound, err := (pci.Host{Bus: b}).BindToStub(nic, pci.StubXen); err != nil || bound || b.Override(nic) != "" {
		t.Fatalf("%v, %v, override %q", bound, err, b.Override(nic))
	}
}

func TestUnbindOfAnUnboundDevice(t *testing.T) {
	b := simbus.New()
	b.Add(nic, simbus.Device{Config: noCaps.Bytes()})
	b.AddDriver("pciback")
	h := pci.Host{Bus: b}
	if err := h.Unbind(nic); err != nil {
		t.Fatal(err)
	}
	if bound, err := h.BindToStub(nic, pci.StubXen); err != nil || !bound {
		t.Fatalf("BindToStub of an unbound device: %v, %v", bound, err)
	}
	if drv, _ := h.Driver(nic); drv != "pciback" {
		t.Fatalf("driver %q", drv)
	}
}

func TestStubFaults(t *testing.T) {
	setup := func() (*simbus.Bus, pci.Host) {
		b := simbus.New()
		b.Add(nic, simbus.Device{Config: noCaps.Bytes(), Driver: "e1000e", Native: "e1000e"})
		b.AddDriver("pciback")
		return b, pci.Host{Bus: b}
	}
	t.Run("driver refuses to unbind", func(t *testing.T) {
		b, h := setup()
		b.RefuseUnbind("e1000e", syscall.EBUSY)
		bound, err := h.BindToStub(nic, pci.StubXen)
		wantErr(t, err, libvirt.ErrSystemError, "Failed to unbind PCI device '0000:03:00.0' from e1000e: Device or resource busy")
		// As libvirt leaves it: still on its driver, the override set.
		if drv, _ := h.Driver(nic); bound || drv != "e1000e" || b.Override(nic) != "pciback" {
			t.Errorf("bound %v, driver %q, override %q", bound, drv, b.Override(nic))
		}
	})
	t.Run("stub refuses to let go", func(t *testing.T) {
		b, h := setup()
		if _, err := h.BindToStub(nic, pci.StubXen); err != nil {
			t.Fatal(err)
		}
		b.RefuseUnbind("pciback", syscall.EBUSY)
		wantErr(t, h.UnbindFromStub(nic), libvirt.ErrSystemError,
			"Failed to unbind PCI device '0000:03:00.0' from pciback: Device or resource busy")
	})
	t.Run("device vanished", func(t *testing.T) {
		b, h := setup()
		b.Remove(nic)
		_, err := h.BindToStub(nic, pci.StubXen)
		wantErr(t, err, libvirt.ErrSystemError,
			"Failed to add driver 'pciback' to driver_override  interface of PCI device '0000:03:00.0': No such file or directory")
		if !errors.Is(err, pci.ErrNoDevice) {
			t.Errorf("%v does not match ErrNoDevice", err)
		}
		wantErr(t, h.UnbindFromStub(nic), libvirt.ErrSystemError,
			"Failed to add driver '\n' to driver_override  interface of PCI device '0000:03:00.0': No such file or directory")
	})
	t.Run("no stub or an unknown one", func(t *testing.T) {
		_, h := setup()
		_, err := h.BindToStub(nic, "")
		wantErr(t, err, internal, "internal error: No stub driver configured for PCI device 0000:03:00.0")
		_, err = h.BindToStub(nic, "pci-stub")
		wantErr(t, err, internal, "internal error: Unknown stub driver configured for PCI device 0000:03:00.0")
	})
}
