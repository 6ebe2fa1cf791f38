package hostdev

import (
	"fmt"
	"sort"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// USB host devices have no stub driver to move to: libxl takes them from
// the host itself. What the books keep is who uses which, so that no two
// guests get one device (virHostdevMarkUSBDevices). A device is named by
// its bus and address, as libxl receives it, whether the guest's XML gave
// those or its vendor and product.

// USB is a USB host device by bus and device number.
type USB struct {
	Bus, Dev uint
}

// String is virUSBDevice's name for it: "001:004".
func (u USB) String() string { return fmt.Sprintf("%03d:%03d", u.Bus, u.Dev) }

type usbEntry struct {
	Name   string `json:"addr"`
	Bus    uint   `json:"bus"`
	Dev    uint   `json:"dev"`
	Domain string `json:"domain"`
}

// PrepareUSB marks devs as used by domain, refusing a device another
// domain uses, as virHostdevPrepareUSBDevices does; all or none.
func (m *Manager) PrepareUSB(domain string, devs []USB) error {
	if len(devs) == 0 {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range devs {
		if owner, ok := m.usb[u]; ok && owner != domain {
			return virerr.New(virerr.FromNone, libvirt.ErrOperationInvalid, "USB device %s is in use by driver %s, domain %s", u, DriverName, owner)
		}
	}
	for _, u := range devs {
		m.usb[u] = domain
	}
	m.save()
	return nil
}

// ReleaseUSB forgets domain's use of devs (virHostdevReAttachUSBDevices):
// a device another domain uses stays that domain's.
func (m *Manager) ReleaseUSB(domain string, devs []USB) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for _, u := range devs {
		if m.usb[u] == domain {
			delete(m.usb, u)
			changed = true
		}
	}
	if changed {
		m.save()
	}
}

// ReleaseAllUSB forgets every USB device domain uses: its stop.
func (m *Manager) ReleaseAllUSB(domain string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	changed := false
	for u, owner := range m.usb {
		if owner == domain {
			delete(m.usb, u)
			changed = true
		}
	}
	if changed {
		m.save()
	}
}

// USBInUse lists the USB devices in use and their domains.
func (m *Manager) USBInUse() map[USB]string {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make(map[USB]string, len(m.usb))
	for u, d := range m.usb {
		out[u] = d
	}
	return out
}

func (m *Manager) usbEntries() []usbEntry {
	out := make([]usbEntry, 0, len(m.usb))
	for u, d := range m.usb {
		out = append(out, usbEntry{Name: u.String(), Bus: u.Bus, Dev: u.Dev, Domain: d})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}
