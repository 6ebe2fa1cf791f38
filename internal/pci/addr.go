package pci

import (
	"fmt"
	"strconv"
	"strings"
)

// Addr is a PCI device's address on the host (virPCIDeviceAddress).
type Addr struct {
	Domain   uint32
	Bus      uint8
	Slot     uint8
	Function uint8
}

// String is the address as sysfs names the device: "0000:03:00.1".
func (a Addr) String() string {
	return fmt.Sprintf("%04x:%02x:%02x.%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// NodeDevName is the node device driver's name for the device:
// "pci_0000_03_00_1".
func (a Addr) NodeDevName() string {
	return fmt.Sprintf("pci_%04x_%02x_%02x_%x", a.Domain, a.Bus, a.Slot, a.Function)
}

// ParseAddr reads the sysfs form "DDDD:BB:SS.F" (the domain may be
// longer than four digits, as on hosts with several PCI segments).
func ParseAddr(s string) (Addr, error) {
	bad := fmt.Errorf("malformed PCI address %q", s)
	dom, rest, ok := strings.Cut(s, ":")
	if !ok {
		return Addr{}, bad
	}
	bus, rest, ok := strings.Cut(rest, ":")
	if !ok {
		return Addr{}, bad
	}
	slot, fn, ok := strings.Cut(rest, ".")
	if !ok {
		return Addr{}, bad
	}
	d, err1 := strconv.ParseUint(dom, 16, 32)
	b, err2 := strconv.ParseUint(bus, 16, 8)
	sl, err3 := strconv.ParseUint(slot, 16, 5)
	f, err4 := strconv.ParseUint(fn, 16, 3)
	if err1 != nil || err2 != nil || err3 != nil || err4 != nil || dom == "" || bus == "" || slot == "" || fn == "" {
		return Addr{}, bad
	}
	return Addr{Domain: uint32(d), Bus: uint8(b), Slot: uint8(sl), Function: uint8(f)}, nil
}
