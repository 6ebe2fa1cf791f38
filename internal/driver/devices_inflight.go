package driver

import (
	"context"
	"encoding/xml"
	"fmt"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
)

// A live disk hotplug is two changes a kill may separate: the guest's (the
// backend plugs or unplugs the disk) and the status file's (the live
// definition gains or loses it). Killed between them, the daemon would come
// back showing a disk the guest no longer has, or not showing one it has,
// and refuse the client's retry of the attach because the guest has the
// disk already (the kill-point harness found it). So the status file first
// records the change in flight, and a restarted daemon asks the backend
// whether the guest has the disk and makes the live definition say so.
// libvirt's libxl driver settles nothing of the kind. Disks only: the
// backend's statistics name a guest's disks, not its NICs' MACs.

// hotplugInFlight is a live disk attach or detach a kill may have
// interrupted, kept in the status file as <hotplug op='...'><disk/>.
type hotplugInFlight struct {
	XMLName xml.Name `xml:"hotplug"`
	// Op is "attach" or "detach".
	Op string `xml:"op,attr"`
	// Disk is the disk as the live definition gains it (attach) or has it
	// (detach).
	Disk *libvirtxml.DomainDisk `xml:"disk"`
}

// xml is the element the status file keeps, "" for none.
func (h *hotplugInFlight) xml() (string, error) {
	if h == nil {
		return "", nil
	}
	b, err := xml.Marshal(h)
	if err != nil {
		return "", fmt.Errorf("cannot format the hotplug in flight: %w", err)
	}
	return string(b) + "\n", nil
}

// beginHotplug records op on disk in d's status file before the backend is
// asked to act; endHotplug forgets it, and the caller's next status write
// (AttachDevice and DetachDevice save the status after every live change,
// failed ones included) drops it from the file.
func (drv *Driver) beginHotplug(d *domain, op string, disk libvirtxml.DomainDisk) error {
	d.mu.Lock()
	d.hotplug = &hotplugInFlight{Op: op, Disk: &disk}
	d.mu.Unlock()
	if err := drv.saveStatusIfActive(d); err != nil {
		drv.endHotplug(d)
		return err
	}
	return nil
}

func (drv *Driver) endHotplug(d *domain) {
	d.mu.Lock()
	d.hotplug = nil
	d.mu.Unlock()
}

// settleHotplug, when the daemon reconnects to a running guest whose status
// file has a hotplug in flight: the live definition has the disk exactly
// when the guest has it. The caller writes the status file.
func (drv *Driver) settleHotplug(ctx context.Context, d *domain) {
	d.mu.Lock()
	h, id, name := d.hotplug, d.id, d.name
	d.hotplug = nil
	d.mu.Unlock()
	if h == nil || h.Disk == nil || h.Disk.Target == nil {
		return
	}
	dst := h.Disk.Target.Dev
	has, err := drv.guestHasDisk(ctx, backend.DomID(id), dst)
	if err != nil {
		drv.log.Warn("cannot tell whether an interrupted disk hotplug happened", "domain", name, "disk", dst, "err", err)
		return
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		i := diskByTarget(def, dst)
		switch {
		case has && i < 0:
			devicesOf(def)
			domxml.InsertDisk(def, *h.Disk)
		case !has && i >= 0:
			def.Devices.Disks = append(def.Devices.Disks[:i], def.Devices.Disks[i+1:]...)
		}
	})
	drv.log.Info("settled a disk hotplug a kill interrupted", "domain", name, "op", h.Op, "disk", dst, "guest has it", has)
}

// guestHasDisk reports whether guest id has the disk vdev, as the backend
// lists its disks.
func (drv *Driver) guestHasDisk(ctx context.Context, id backend.DomID, vdev string) (bool, error) {
	st, err := drv.be.Stats(ctx, []backend.DomID{id})
	if err != nil {
		return false, err
	}
	if len(st) != 1 {
		return false, fmt.Errorf("no statistics of domain %d", id)
	}
	for _, disk := range st[0].Disks {
		if disk.Vdev == vdev {
			return true, nil
		}
	}
	return false, nil
}
