package hostdev

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/pci"
	"virtxend/internal/virerr"
)

// Prepare takes a domain's devices from the host for it, as
// virHostdevPreparePCIDevices does: every device is checked first, then
// the managed ones are bound to the stub (an unmanaged one must be on a
// stub already), then all are reset, and only then marked active. On
// failure the devices it moved go back to the host. A device the host
// does not have is skipped, as libvirt skips it: libxl reports it.
func (m *Manager) Prepare(domain string, devs []Device) error {
	devs = m.present(devs)
	if len(devs) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if err := m.checkAssignable(devs); err != nil {
		return err
	}
	for _, d := range devs {
		if err := m.takeFromHost(d); err != nil {
			m.returnAll(devs)
			return err
		}
	}
	if err := m.resetAll(devs); err != nil {
		m.returnAll(devs)
		return err
	}
	for _, d := range devs {
		e := m.inactive[d.Addr]
		delete(m.inactive, d.Addr)
		e.Domain = domain
		m.active[d.Addr] = e
	}
	m.save()
	return nil
}

// present drops the devices the host does not have.
func (m *Manager) present(devs []Device) []Device {
	var out []Device
	for _, d := range devs {
		if m.host.Exists(d.Addr) {
			out = append(out, d)
		}
	}
	return out
}

// checkAssignable is Prepare's first step: endpoints only, none in use.
func (m *Manager) checkAssignable(devs []Device) error {
	for _, d := range devs {
		h, err := m.host.HeaderType(d.Addr)
		if err != nil {
			return err
		}
		if h != pci.HeaderEndpoint {
			return internalErr("Non-endpoint PCI devices cannot be assigned to guests")
		}
		// libxl's driver asks for no strict ACS check: only a topology
		// that cannot be read makes a device unassignable.
		if ok, err := m.host.Assignable(d.Addr, false); !ok {
			m.log.Info("PCI device is not assignable", "addr", d.Addr.String(), "err", err)
			return virerr.New(virerr.FromNone, libvirt.ErrOperationInvalid, "PCI device %s is not assignable", d.Addr)
		}
		if err := m.usedErr(d.Addr); err != nil {
			return err
		}
	}
	return nil
}

// takeFromHost puts d in the inactive list: a managed device is bound to
// the stub, an unmanaged one must be on a stub already (the admin detached
// it, before this daemon started or since).
func (m *Manager) takeFromHost(d Device) error {
	if d.Managed {
		return m.detach(d.Addr, true)
	}
	if m.inactive[d.Addr] != nil {
		return nil
	}
	drv, err := m.host.Driver(d.Addr)
	if err != nil {
		return err
	}
	if !pci.IsStubDriver(drv) {
		return virerr.New(virerr.FromNone, libvirt.ErrOperationInvalid, "Unmanaged PCI device %s must be manually detached from the host", d.Addr)
	}
	m.inactive[d.Addr] = &entry{Addr: d.Addr}
	return nil
}

// detach is virPCIDeviceDetach: bind a to the stub and add it to the
// inactive list unless it is there already (an earlier entry keeps its
// own flags: a device the admin detached stays detached after a guest).
func (m *Manager) detach(a pci.Addr, managed bool) error {
	if err := m.host.ProbeStub(Stub); err != nil {
		return err
	}
	if m.active[a] != nil {
		return internalErr("Not detaching active device %s", a)
	}
	bound, err := m.host.BindToStub(a, Stub)
	if err != nil {
		// A bind that failed half way may have left the override set or
		// the device unbound: libvirt leaves it so; giving the device
		// back to its driver is kinder to the host.
		if uerr := m.host.UnbindFromStub(a); uerr != nil {
			m.log.Warn("cannot return a PCI device after a failed detach", "addr", a.String(), "err", uerr)
		}
		return err
	}
	if m.inactive[a] == nil {
		m.inactive[a] = &entry{Addr: a, Managed: managed, UnbindFromStub: bound}
	}
	return nil
}

// resetAll is virHostdevResetAllPCIDevices: every device is tried, the
// first failure reported.
func (m *Manager) resetAll(devs []Device) error {
	var first error
	for _, d := range devs {
		if err := m.reset(d.Addr); err != nil {
			m.log.Error("Failed to reset PCI device", "addr", d.Addr.String(), "err", err)
			if first == nil {
				first = err
			}
		}
	}
	return first
}

// reset is virPCIDeviceReset with the manager's lists.
func (m *Manager) reset(a pci.Addr) error {
	if m.active[a] != nil {
		return internalErr("Not resetting active device %s", a)
	}
	return m.host.Reset(a, func(o pci.Addr) bool { return m.inactive[o] != nil })
}

// returnAll is virHostdevReattachAllPCIDevices: the managed devices of
// devs that are inactive go back to their host drivers.
func (m *Manager) returnAll(devs []Device) {
	for _, d := range devs {
		e := m.inactive[d.Addr]
		if e == nil || !e.Managed {
			continue
		}
		if err := m.reattach(e); err != nil {
			m.log.Error("Failed to re-attach PCI device", "addr", d.Addr.String(), "err", err)
		}
	}
}

// reattach is virPCIDeviceReattach for an inactive entry.
func (m *Manager) reattach(e *entry) error {
	if m.active[e.Addr] != nil {
		return internalErr("Not reattaching active device %s", e.Addr)
	}
	if e.UnbindFromStub {
		if err := m.host.UnbindFromStub(e.Addr); err != nil {
			return err
		}
	}
	delete(m.inactive, e.Addr)
	return nil
}

// Release gives a stopped domain's devices back, as
// virHostdevReAttachPCIDevices does: those active for this domain become
// inactive, are reset, and the managed ones go back to their host drivers;
// a device that vanished from the host leaves both lists. Errors are
// logged: the domain has stopped either way.
func (m *Manager) Release(domain string, devs []Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var mine []Device
	for _, d := range devs {
		if e := m.active[d.Addr]; e != nil && e.Domain == domain {
			mine = append(mine, d)
		}
	}
	if len(mine) > 0 {
		m.deactivate(mine)
	}
	for _, d := range devs {
		if !m.host.Exists(d.Addr) {
			delete(m.active, d.Addr)
			delete(m.inactive, d.Addr)
		}
	}
	m.save()
}

// deactivate moves devs from the active list to the inactive one, resets
// them and returns the managed ones; the caller holds m.mu.
func (m *Manager) deactivate(devs []Device) {
	for _, d := range devs {
		e := m.active[d.Addr]
		delete(m.active, d.Addr)
		e.Domain = ""
		m.inactive[d.Addr] = e
	}
	var present []Device
	for _, d := range devs {
		if m.host.Exists(d.Addr) {
			present = append(present, d)
		}
	}
	_ = m.resetAll(present)
	m.returnAll(present)
}

// Adopt records a running domain's devices as active for it, as
// virHostdevUpdateActivePCIDevices does when the daemon reconnects to a
// guest. What the state file knew of each device (whether it goes back to
// a host driver) is kept; a device it did not know goes back when managed.
// A device the file gave the domain that its definition no longer has (a
// hotplug the daemon was killed in) goes back to the host.
func (m *Manager) Adopt(domain string, devs []Device) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := m.dropOthers(domain, devs)
	for _, d := range devs {
		if !m.host.Exists(d.Addr) {
			continue
		}
		e := m.active[d.Addr]
		if e == nil {
			e = m.inactive[d.Addr]
		}
		if e == nil {
			e = &entry{Addr: d.Addr, UnbindFromStub: d.Managed}
		}
		if e.Domain != domain || e.Managed != d.Managed || m.active[d.Addr] == nil {
			changed = true
		}
		e.Domain, e.Managed = domain, d.Managed
		delete(m.inactive, d.Addr)
		m.active[d.Addr] = e
	}
	if changed {
		m.save()
	}
}

// ReleaseOrphans gives back the devices of domains that no longer run:
// a guest that stopped while the daemon was down, or a start the daemon
// was killed in before the guest ran. The recovery calls it once every
// running domain has been adopted.
func (m *Manager) ReleaseOrphans(running func(domain string) bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for u, owner := range m.usb {
		if !running(owner) {
			delete(m.usb, u)
			changed = true
		}
	}
	var gone []Device
	for a, e := range m.active {
		if !running(e.Domain) {
			m.log.Info("returning the device of a domain that stopped", "addr", a.String(), "domain", e.Domain)
			gone = append(gone, Device{Addr: a, Managed: e.Managed})
		}
	}
	if len(gone) > 0 {
		m.deactivate(gone)
		changed = true
	}
	if changed {
		m.save()
	}
}

// dropOthers gives back the devices active for domain that devs does not
// name; the caller holds m.mu.
func (m *Manager) dropOthers(domain string, devs []Device) bool {
	keep := map[pci.Addr]bool{}
	for _, d := range devs {
		keep[d.Addr] = true
	}
	var gone []Device
	for a, e := range m.active {
		if e.Domain == domain && !keep[a] {
			gone = append(gone, Device{Addr: a, Managed: e.Managed})
		}
	}
	if len(gone) > 0 {
		m.deactivate(gone)
	}
	return len(gone) > 0
}
