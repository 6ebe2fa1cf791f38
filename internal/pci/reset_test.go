package pci_test

import (
	"errors"
	"slices"
	"sync"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pci"
	"virtxend/internal/pci/simbus"
	"virtxend/internal/virerr"
)

var (
	rootBridge = pci.Addr{Slot: 1}                      // 0000:00:01.0, bus 3 behind it
	nic        = pci.Addr{Bus: 3}                       // 0000:03:00.0
	nicFn1     = pci.Addr{Bus: 3, Function: 1}          // 0000:03:00.1
	onRoot     = pci.Addr{Slot: 3}                      // 0000:00:03.0
	otherBus   = pci.Addr{Domain: 1, Bus: 3}            // 0001:03:00.0
	vfAddr     = pci.Addr{Bus: 3, Slot: 2, Function: 1} // 0000:03:02.1
)

// rig is a simulated bus and the rules over it, with a Sleep that
// records instead of waiting.
type rig struct {
	bus   *simbus.Bus
	host  pci.Host
	mu    sync.Mutex
	slept []time.Duration
}

func newRig() *rig {
	r := &rig{bus: simbus.New()}
	r.host = pci.Host{Bus: r.bus, Sleep: func(d time.Duration) {
		r.mu.Lock()
		defer r.mu.Unlock()
		r.slept = append(r.slept, d)
	}}
	return r
}

func (r *rig) add(a pci.Addr, s simbus.Spec, driver string) *rig {
	r.bus.Add(a, simbus.Device{Config: s.Bytes(), Driver: driver, Native: driver})
	return r
}

// wantErr checks an error's libvirt form: code, domain VIR_FROM_NONE,
// and the message a client would read ("" for no error).
func wantErr(t *testing.T, err error, code libvirt.ErrorNumber, msg string) {
	t.Helper()
	if msg == "" {
		if err != nil {
			t.Fatalf("unexpected error: %v", err)
		}
		return
	}
	var e *virerr.Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T), want a libvirt error %q", err, err, msg)
	}
	if w := e.Wire(); w.Code != code || w.Domain != virerr.FromNone || w.Message != msg {
		t.Fatalf("error code %d domain %d %q\nwant code %d domain 0 %q", w.Code, w.Domain, w.Message, code, msg)
	}
}

var (
	noCaps   = simbus.NIC(nil, nil)
	withFLR  = simbus.NIC(&simbus.PCIe{FLR: true}, nil)
	withPM   = simbus.NIC(nil, &simbus.PM{})
	softPM   = simbus.NIC(&simbus.PCIe{}, &simbus.PM{NoSoftReset: true})
	ms10     = 10 * time.Millisecond
	ms200    = 200 * time.Millisecond
	internal = libvirt.ErrInternalError
)

func TestReset(t *testing.T) {
	for _, c := range []struct {
		name     string
		build    func(*rig)
		target   pci.Addr
		inactive []pci.Addr
		msg      string // the error, "" for none
		resets   map[pci.Addr]int
		slept    []time.Duration
	}{
		{name: "FLR: left to the hypervisor",
			build:  func(r *rig) { r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, withFLR, "e1000e") },
			target: nic, resets: map[pci.Addr]int{nic: 0}},
		{name: "VF with an AF capability without FLR: FLR assumed",
			build: func(r *rig) {
				r.bus.Add(vfAddr, simbus.Device{Config: simbus.Spec{AF: &simbus.AF{}, PM: &simbus.PM{}}.Bytes(), VF: true})
			},
			target: vfAddr, resets: map[pci.Addr]int{vfAddr: 0}},
		{name: "VF without AF or FLR: libvirt goes on to a PM reset",
			build: func(r *rig) {
				r.bus.Add(vfAddr, simbus.Device{Config: simbus.NIC(&simbus.PCIe{}, &simbus.PM{}).Bytes(), VF: true})
			},
			target: vfAddr, resets: map[pci.Addr]int{vfAddr: 1}, slept: []time.Duration{ms10, ms10}},
		{name: "PM reset",
			build:  func(r *rig) { r.add(onRoot, withPM, "e1000") },
			target: onRoot, resets: map[pci.Addr]int{onRoot: 1}, slept: []time.Duration{ms10, ms10}},
		{name: "secondary bus reset behind a bridge",
			build:  func(r *rig) { r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, softPM, "e1000e") },
			target: nic, resets: map[pci.Addr]int{nic: 1, rootBridge: 0}, slept: []time.Duration{ms200, ms200}},
		{name: "bus reset with the other function inactive resets both",
			build: func(r *rig) {
				r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, noCaps, "pciback").add(nicFn1, noCaps, "pciback")
			},
			target: nic, inactive: []pci.Addr{nicFn1}, resets: map[pci.Addr]int{nic: 1, nicFn1: 1},
			slept: []time.Duration{ms200, ms200}},
		{name: "bus reset refused: another function on the bus is active",
			build: func(r *rig) {
				r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, noCaps, "pciback").add(nicFn1, noCaps, "e1000e")
			},
			target: nic, resets: map[pci.Addr]int{nic: 0, nicFn1: 0},
			msg: "internal error: Unable to reset PCI device 0000:03:00.0: internal error: Active 0000:03:00.1 devices on bus with 0000:03:00.0, not doing bus reset"},
		{name: "same bus number in another domain is no conflict",
			build: func(r *rig) {
				r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, noCaps, "pciback").add(otherBus, noCaps, "e1000e")
			},
			target: nic, resets: map[pci.Addr]int{nic: 1, otherBus: 0}, slept: []time.Duration{ms200, ms200}},
		{name: "no parent bridge",
			build:  func(r *rig) { r.add(nic, noCaps, "pciback") },
			target: nic,
			msg:    "internal error: Unable to reset PCI device 0000:03:00.0: internal error: Failed to find parent device for 0000:03:00.0"},
		{name: "root bus, nothing available",
			build:  func(r *rig) { r.add(onRoot, softPM, "pciback") },
			target: onRoot,
			msg:    "internal error: Unable to reset PCI device 0000:00:03.0: no FLR, PM reset or bus reset available"},
		{name: "PM reset whose restore fails, on the root bus",
			build: func(r *rig) {
				r.add(onRoot, withPM, "pciback")
				r.bus.FailConfig(onRoot, nil, syscall.EIO)
			},
			target: onRoot, slept: []time.Duration{ms10, ms10},
			msg: "internal error: Unable to reset PCI device 0000:00:03.0: internal error: Failed to restore PCI config space for 0000:00:03.0"},
		{name: "a bridge is not reset",
			build:  func(r *rig) { r.add(rootBridge, simbus.Bridge(3, 3), "pcieport") },
			target: rootBridge,
			msg:    "internal error: Invalid attempt to reset PCI device 0000:00:01.0. Only PCI endpoint devices can be reset"},
		{name: "an unknown header type",
			build:  func(r *rig) { r.add(onRoot, simbus.Spec{Header: 3}, "") },
			target: onRoot,
			msg:    "internal error: Unknown PCI header type '3' for device '0000:00:03.0'"},
		{name: "bound to vfio-pci: vfio resets it",
			build:  func(r *rig) { r.add(onRoot, withPM, "vfio-pci") },
			target: onRoot, resets: map[pci.Addr]int{onRoot: 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := newRig()
			c.build(r)
			before, _ := r.bus.Config(c.target)
			r.bus.WriteConfig(c.target, 0x04, []byte{0x07}) // a command register to keep
			err := r.host.Reset(c.target, func(a pci.Addr) bool { return slices.Contains(c.inactive, a) })
			wantErr(t, err, internal, c.msg)
			for a, n := range c.resets {
				if got := r.bus.Resets(a); got != n {
					t.Errorf("%s reset %d times, want %d", a, got, n)
				}
			}
			if !slices.Equal(r.slept, c.slept) {
				t.Errorf("slept %v, want %v", r.slept, c.slept)
			}
			if after, _ := r.bus.Config(c.target); c.msg == "" && (after[0x04] != 0x07 || !slices.Equal(after[8:], before[8:])) {
				t.Errorf("config space not restored: % x", after[:16])
			}
			if cfg, _ := r.bus.Config(rootBridge); cfg != nil && cfg[0x3e]&0x40 != 0 {
				t.Error("bridge left with its reset bit set")
			}
		})
	}
}

func TestResetNilInactiveMeansAllActive(t *testing.T) {
	r := newRig()
	r.add(rootBridge, simbus.Bridge(3, 3), "").add(nic, noCaps, "pciback").add(nicFn1, noCaps, "pciback")
	err := r.host.Reset(nic, nil)
	wantErr(t, err, internal, "internal error: Unable to reset PCI device 0000:03:00.0: internal error: Active 0000:03:00.1 devices on bus with 0000:03:00.0, not doing bus reset")
}

func TestResetOfAVanishedDevice(t *testing.T) {
	r := newRig()
	r.add(nic, noCaps, "pciback")
	r.bus.Remove(nic)
	err := r.host.Reset(nic, nil)
	wantErr(t, err, libvirt.ErrSystemError, "Failed to open config space file '/sys/bus/pci/devices/0000:03:00.0/config': No such file or directory")
	if !errors.Is(err, pci.ErrNoDevice) {
		t.Errorf("%v does not match ErrNoDevice", err)
	}
}

func TestResetOfAnUnreadableDevice(t *testing.T) {
	r := newRig()
	r.add(nic, noCaps, "pciback")
	r.bus.FailConfig(nic, syscall.EACCES, nil)
	wantErr(t, r.host.Reset(nic, nil), libvirt.ErrSystemError,
		"Failed to open config space file '/sys/bus/pci/devices/0000:03:00.0/config': Permission denied")
}

// TestResetsInParallel: the bus is shared by goroutines resetting
// devices on different buses at once.
func TestResetsInParallel(t *testing.T) {
	r := newRig()
	var devs []pci.Addr
	for i := range 8 {
		br, dev := pci.Addr{Slot: uint8(i + 1)}, pci.Addr{Bus: uint8(i + 1)}
		r.add(br, simbus.Bridge(uint8(i+1), uint8(i+1)), "").add(dev, noCaps, "pciback")
		devs = append(devs, dev)
	}
	var wg sync.WaitGroup
	for _, d := range devs {
		wg.Go(func() {
			if err := r.host.Reset(d, nil); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	for _, d := range devs {
		if r.bus.Resets(d) != 1 {
			t.Errorf("%s reset %d times", d, r.bus.Resets(d))
		}
	}
}
