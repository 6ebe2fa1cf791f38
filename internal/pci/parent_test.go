package pci_test

import (
	"errors"
	"testing"

	"virtxend/internal/pci"
	"virtxend/internal/pci/simbus"
)

func TestParent(t *testing.T) {
	b := simbus.New()
	wide, narrow, direct := pci.Addr{Slot: 1}, pci.Addr{Slot: 2}, pci.Addr{Slot: 3}
	b.Add(wide, simbus.Device{Config: simbus.Bridge(2, 9).Bytes()})
	b.Add(narrow, simbus.Device{Config: simbus.Bridge(4, 6).Bytes()})
	b.Add(direct, simbus.Device{Config: simbus.Bridge(8, 8).Bytes()})
	b.Add(pci.Addr{Domain: 1, Slot: 1}, simbus.Device{Config: simbus.Bridge(5, 5).Bytes()})
	// A bridge-classed device with a cardbus header is not a parent.
	cb := simbus.Bridge(5, 5)
	cb.Header = pci.HeaderCardbusBridge
	b.Add(pci.Addr{Slot: 4}, simbus.Device{Config: cb.Bytes()})
	unreadable := pci.Addr{Slot: 5}
	b.Add(unreadable, simbus.Device{Config: simbus.Bridge(5, 5).Bytes()})
	b.FailConfig(unreadable, errUnreadable, nil)

	h := pci.Host{Bus: b}
	for _, c := range []struct {
		dev    pci.Addr
		parent pci.Addr
		found  bool
	}{
		{pci.Addr{Bus: 8}, direct, true},
		{pci.Addr{Bus: 5}, narrow, true}, // the narrowest range holding it
		{pci.Addr{Bus: 3}, wide, true},
		{pci.Addr{Bus: 10}, pci.Addr{}, false},
		{pci.Addr{Domain: 1, Bus: 5}, pci.Addr{Domain: 1, Slot: 1}, true},
	} {
		p, found, err := h.Parent(c.dev)
		if err != nil || p != c.parent || found != c.found {
			t.Errorf("parent of %s: %s %v %v, want %s %v", c.dev, p, found, err, c.parent, c.found)
		}
	}
}

var errUnreadable = errors.New("unreadable")

// switchTopology is a root port, a switch's upstream port and its
// downstream port (with ACS control acs, or none), and a NIC behind.
func switchTopology(acs *uint16) *simbus.Bus {
	b := simbus.New()
	port := func(typ, bus, sec uint8, acs *uint16) []byte {
		s := simbus.Bridge(sec, 3)
		s.Primary = bus
		s.PCIe = &simbus.PCIe{Type: typ, ACS: acs}
		return s.Bytes()
	}
	b.Add(pci.Addr{Slot: 1}, simbus.Device{Config: port(4, 0, 1, nil)})
	b.Add(pci.Addr{Bus: 1}, simbus.Device{Config: port(5, 1, 2, nil)})
	b.Add(pci.Addr{Bus: 2, Slot: 1}, simbus.Device{Config: port(6, 2, 3, acs)})
	b.Add(nic, simbus.Device{Config: withFLR.Bytes(), Driver: "e1000e", Native: "e1000e"})
	return b
}

func TestAssignable(t *testing.T) {
	on, partial := uint16(0x1d), uint16(0x0d)
	for _, c := range []struct {
		name   string
		bus    *simbus.Bus
		dev    pci.Addr
		strict bool
		ok     bool
		msg    string
	}{
		{"behind a switch lacking ACS, strict", switchTopology(nil), nic, true, false,
			"internal error: Device 0000:03:00.0 is behind a switch lacking ACS and cannot be assigned"},
		{"behind a switch lacking ACS, not strict", switchTopology(nil), nic, false, true, ""},
		{"ACS partly enabled", switchTopology(&partial), nic, true, false,
			"internal error: Device 0000:03:00.0 is behind a switch lacking ACS and cannot be assigned"},
		{"ACS enabled", switchTopology(&on), nic, true, true, ""},
		{"root bus", switchTopology(nil), pci.Addr{Slot: 7}, true, true, ""},
		{"no parent off the root bus", switchTopology(nil), pci.Addr{Bus: 7}, true, false,
			"internal error: Failed to find parent device for 0000:07:00.0"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ok, err := pci.Host{Bus: c.bus}.Assignable(c.dev, c.strict)
			if ok != c.ok {
				t.Errorf("assignable %v, want %v", ok, c.ok)
			}
			wantErr(t, err, internal, c.msg)
		})
	}
}

// TestAssignableEndsOnACycle: a bridge claiming its own bus as secondary
// is its own parent; the walk up ends anyway.
func TestAssignableEndsOnACycle(t *testing.T) {
	b := simbus.New()
	self := simbus.Bridge(1, 1)
	self.PCIe = &simbus.PCIe{Type: 4}
	b.Add(pci.Addr{Bus: 1}, simbus.Device{Config: self.Bytes()})
	b.Add(pci.Addr{Bus: 1, Slot: 2}, simbus.Device{Config: noCaps.Bytes()})
	if ok, err := (pci.Host{Bus: b}).Assignable(pci.Addr{Bus: 1, Slot: 2}, true); !ok || err != nil {
		t.Errorf("%v, %v", ok, err)
	}
}
