package simbus

import (
	"io"
	"slices"

	"virtxend/internal/pci"
)

// Config space registers whose writes have effects (see pci/config.go).
const (
	pmCtrl         = 4
	pmStateMask    = 0x3
	pmStateD3hot   = 0x3
	pmStateD0      = 0x0
	regSecondary   = 0x19
	regSubordinate = 0x1a
	regBridgeCtl   = 0x3e
	bridgeCtlReset = 0x40
)

// WriteConfig writes to the device's config space and keeps the bytes. As
// on hardware, a D3hot→D0 transition of a device whose NO_SOFT_RESET is
// clear resets it, and setting a bridge's secondary bus reset bit resets
// every device behind it: their config space goes back to how it was when
// added, which is why libvirt saves and restores it. Bytes past the end of
// config space are dropped and the write is short, as sysfs's is.
func (b *Bus) WriteConfig(a pci.Addr, off int, data []byte) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	d, err := b.dev(a)
	if err != nil {
		return err
	}
	if d.writeErr != nil {
		return d.writeErr
	}
	if off < 0 || off >= len(d.cfg) {
		return io.ErrShortWrite
	}
	old := slices.Clone(d.cfg)
	n := copy(d.cfg[off:], data)
	covers := func(reg int) bool { return reg >= off && reg < off+n }
	if d.pmCap != 0 && covers(d.pmCap+pmCtrl) && !d.pmNoSoftReset &&
		old[d.pmCap+pmCtrl]&pmStateMask == pmStateD3hot && d.cfg[d.pmCap+pmCtrl]&pmStateMask == pmStateD0 {
		d.reset()
	}
	if d.bridgeHeader && covers(regBridgeCtl) &&
		old[regBridgeCtl]&bridgeCtlReset == 0 && d.cfg[regBridgeCtl]&bridgeCtlReset != 0 {
		b.resetBehind(a.Domain, d.cfg[regSecondary], d.cfg[regSubordinate])
	}
	if n < len(data) {
		return io.ErrShortWrite
	}
	return nil
}

// reset puts the device's config space back to its power-on state.
func (d *device) reset() {
	d.cfg = slices.Clone(d.powerOn)
	d.resets++
}

// resetBehind resets the devices on buses secondary..subordinate of a
// domain. b.mu is held.
func (b *Bus) resetBehind(domain uint32, secondary, subordinate uint8) {
	for a, d := range b.devices {
		if a.Domain == domain && a.Bus >= secondary && a.Bus <= subordinate {
			d.reset()
		}
	}
}

// Resets counts the resets the device went through (PM or bus).
func (b *Bus) Resets(a pci.Addr) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.devices[a]; ok {
		return d.resets
	}
	return 0
}

// Override is the device's driver_override, "" for none.
func (b *Bus) Override(a pci.Addr) string {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.devices[a]; ok {
		return d.override
	}
	return ""
}

// Remove makes the device vanish (hot-unplug): every operation on it fails
// with pci.ErrNoDevice from now on.
func (b *Bus) Remove(a pci.Addr) {
	b.mu.Lock()
	defer b.mu.Unlock()
	delete(b.devices, a)
}

// RefuseUnbind makes unbinding any device from driver fail with err (the
// errno a write to its unbind file would give); nil lets it unbind again.
func (b *Bus) RefuseUnbind(driver string, err error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.refuse[driver] = err
}

// FailConfig makes reads and writes of the device's config space fail
// with these errors (nil for success), as an unreadable or read-only file
// would.
func (b *Bus) FailConfig(a pci.Addr, read, write error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if d, ok := b.devices[a]; ok {
		d.readErr, d.writeErr = read, write
	}
}
