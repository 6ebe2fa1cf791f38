package hostdev

import (
	"syscall"

	"virtxend/internal/pci"
	"virtxend/internal/virerr"
)

// The node device procedures (virsh nodedev-detach, nodedev-reattach,
// nodedev-reset), as virHostdevPCINodeDevice* do them.

// exists is virPCIDeviceNew's check that the device is there.
func (m *Manager) exists(a pci.Addr) error {
	if m.host.Exists(a) {
		return nil
	}
	return virerr.System(virerr.FromNone, syscall.ENOENT, "Device %s not found: could not access /sys/bus/pci/devices/%s/config", a, a)
}

// NodeDetach binds a device to the stub for later use by guests (an
// unmanaged hostdev); it stays there, inactive, until NodeReattach.
func (m *Manager) NodeDetach(a pci.Addr) error {
	return m.onUnused(a, func() error { return m.detach(a, false) })
}

// NodeReattach returns a device that no guest uses to its host driver,
// whoever bound it to the stub.
func (m *Manager) NodeReattach(a pci.Addr) error {
	return m.onUnused(a, func() error { return m.reattach(&entry{Addr: a, UnbindFromStub: true}) })
}

// onUnused runs op on a device the host has and no guest uses, holding
// the lock, and saves the books after it.
func (m *Manager) onUnused(a pci.Addr, op func() error) error {
	if err := m.exists(a); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.usedErr(a); err != nil {
		return err
	}
	if err := op(); err != nil {
		return err
	}
	m.save()
	return nil
}

// NodeReset resets a device that no guest uses.
func (m *Manager) NodeReset(a pci.Addr) error {
	if err := m.exists(a); err != nil {
		return err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.reset(a)
}
