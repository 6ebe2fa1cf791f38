package driver

import (
	"testing"

	"virtxend/internal/pci"
	"virtxend/internal/virerr"
)

func TestNodeDevicePCIAddr(t *testing.T) {
	a, err := nodeDevicePCIAddr(`<device><name>pci_0000_01_00_0</name><capability type='pci'>
  <class>0x020000</class><domain>0</domain><bus>1</bus><slot>0</slot><function>0</function></capability></device>`)
	if err != nil || a != (pci.Addr{Bus: 1}) {
		t.Fatalf("%v, %v", a, err)
	}
	_, err = nodeDevicePCIAddr(`<device><name>computer</name><capability type='system'/></device>`)
	if e := virerr.As(err); e == nil || e.Wire().Message != "invalid argument: device computer is not a PCI device" {
		t.Fatalf("error %v", err)
	}
}

// FuzzNodeDevicePCIAddr: whatever the node device driver sends, reading it
// gives an address or an error, never a panic.
func FuzzNodeDevicePCIAddr(f *testing.F) {
	f.Add(`<device><name>pci_0000_01_00_0</name><capability type='pci'><domain>0</domain><bus>1</bus><slot>0</slot><function>0</function></capability></device>`)
	f.Add(`<device><capability type='pci'><bus>999</bus></capability></device>`)
	f.Fuzz(func(t *testing.T, x string) {
		_, _ = nodeDevicePCIAddr(x)
	})
}
