package pci_test

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pci"
	"virtxend/internal/pci/simbus"
)

func TestLookup(t *testing.T) {
	b := simbus.New()
	b.Add(nic, simbus.Device{Config: noCaps.Bytes()})
	b.Add(onRoot, simbus.Device{Config: []byte{0x86, 0x80}})
	h := pci.Host{Bus: b}
	if id, err := h.Lookup(nic); err != nil || id.String() != "8086 10d3" {
		t.Errorf("Lookup: %v, %v", id, err)
	}
	_, err := h.Lookup(pci.Addr{Bus: 9})
	wantErr(t, err, libvirt.ErrSystemError,
		"Device 0000:09:00.0 not found: could not access /sys/bus/pci/devices/0000:09:00.0/config: No such file or directory")
	_, err = h.Lookup(onRoot)
	wantErr(t, err, internal, "internal error: Failed to read product/vendor ID for 0000:00:03.0")
	if !h.Exists(nic) || h.Exists(pci.Addr{Bus: 9}) {
		t.Error("Exists")
	}
	if !pci.IsStubDriver("pciback") || !pci.IsStubDriver("vfio-pci") || pci.IsStubDriver("pci-stub") {
		t.Error("IsStubDriver")
	}
}
