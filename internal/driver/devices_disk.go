package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxltypes"
)

// Disks: a hard disk on the Xen bus is plugged and unplugged
// (libxl_device_disk_add, _remove), a cdrom's media is changed
// (libxl_cdrom_insert); libvirt's libxl driver does nothing else with
// disks of a running guest.

// attachDiskLive is libxlDomainAttachDeviceDiskLive: attaching a cdrom
// changes its media.
func (drv *Driver) attachDiskLive(ctx context.Context, d *domain, disk *libvirtxml.DomainDisk) (string, error) {
	switch disk.Device {
	case "cdrom":
		return "", drv.changeMedia(ctx, d, disk)
	case "", "disk":
	default:
		return "", libxlErr(libvirt.ErrConfigUnsupported, "disk device type '%s' cannot be hotplugged", disk.Device)
	}
	dst := disk.Target.Dev
	if disk.Target.Bus != "xen" {
		return "", libxlErr(libvirt.ErrConfigUnsupported, "disk bus '%s' cannot be hotplugged.", disk.Target.Bus)
	}
	live := d.snap().def.parsed()
	if domxml.DiskIndexByName(live, dst, true) >= 0 {
		return "", libxlErr(libvirt.ErrOperationFailed, "target %s already exists", dst)
	}
	x, err := drv.translateDisk(ctx, live, disk)
	if err != nil {
		return "", err
	}
	if x.PdevPath == "" {
		return "", libxlErr(libvirt.ErrInternalError, "disk source path is missing")
	}
	added := *disk
	// libxlUpdateDiskDef: a disk that names no driver gets the one of
	// the backend libxl chose, as at start (nameDiskDrivers)
	if name := diskDriverOf(x); name != "" && (added.Driver == nil || added.Driver.Name == "") {
		dd := libvirtxml.DomainDiskDriver{}
		if added.Driver != nil {
			dd = *added.Driver
		}
		dd.Name = name
		added.Driver = &dd
	}
	domxml.AssignDiskAlias(&added)
	if err := drv.beginHotplug(d, "attach", added); err != nil {
		return "", err
	}
	defer drv.endHotplug(d)
	if _, err := drv.addDevice(ctx, d, backend.Device{Disk: &x}); err != nil {
		return "", libxlFailed(err, "libxenlight failed to attach disk '%s'", dst)
	}
	if err := drv.throttleNewDisk(ctx, d.ref(), &added); err != nil {
		if rerr := drv.removeDevice(ctx, d, backend.Device{Disk: &x}, ""); rerr != nil {
			drv.log.Error("cannot unplug the disk whose limits failed", "domain", d.ref().Name, "disk", dst, "err", rerr)
		}
		return "", err
	}
	drv.editLive(d, func(def *libvirtxml.Domain) { domxml.InsertDisk(def, added) })
	return added.Alias.Name, nil
}

// translateDisk is libxlMakeDisk for one disk of the running guest: a
// volume is resolved through the storage driver first, as at start.
func (drv *Driver) translateDisk(ctx context.Context, live *libvirtxml.Domain, disk *libvirtxml.DomainDisk) (libxltypes.Disk, error) {
	t := *disk
	if disk.Source != nil && disk.Source.Volume != nil {
		vs := *disk.Source.Volume
		v, err := drv.translateVolume(ctx, &vs)
		if err != nil {
			return libxltypes.Disk{}, err
		}
		t = resolvedDisk(t, v)
	}
	return libxlconf.Disk(live, &t, libxlconf.Host{SecretValue: drv.secretValue(ctx)})
}

// detachDiskLive is libxlDomainDetachDeviceDiskLive: only hard disks on
// the Xen bus are unplugged. A guest that does not let the disk go keeps
// it, in the live definition too.
func (drv *Driver) detachDiskLive(ctx context.Context, d *domain, disk *libvirtxml.DomainDisk) error {
	device := disk.Device
	if device == "" {
		device = "disk"
	}
	if device != "disk" {
		return libxlErr(libvirt.ErrConfigUnsupported, "device type '%s' cannot hot unplugged", device)
	}
	if disk.Target.Bus != "xen" {
		return libxlErr(libvirt.ErrConfigUnsupported, "disk bus '%s' cannot be hot unplugged.", disk.Target.Bus)
	}
	live := d.snap().def.parsed()
	i := domxml.DiskIndexByName(live, disk.Target.Dev, false)
	if i < 0 {
		return libxlErr(libvirt.ErrOperationFailed, "disk %s not found", disk.Target.Dev)
	}
	gone := live.Devices.Disks[i]
	dst, alias := gone.Target.Dev, aliasOf(gone.Alias)
	if err := drv.beginHotplug(d, "detach", gone); err != nil {
		return err
	}
	defer drv.endHotplug(d)
	if err := drv.removeDevice(ctx, d, backend.Device{Disk: &libxltypes.Disk{Vdev: dst}}, alias); err != nil {
		return libxlFailed(err, "libxenlight failed to detach disk '%s'", dst)
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if j := diskByTarget(def, dst); j >= 0 {
			def.Devices.Disks = append(def.Devices.Disks[:j], def.Devices.Disks[j+1:]...)
		}
	})
	drv.removed(d, alias)
	return nil
}

// changeMedia is libxlDomainChangeEjectableMedia: the cdrom with disk's
// bus and target takes disk's media; a disk without a source ejects.
func (drv *Driver) changeMedia(ctx context.Context, d *domain, disk *libvirtxml.DomainDisk) error {
	live := d.snap().def.parsed()
	i := -1
	for j, o := range live.Devices.Disks {
		if o.Target.Bus == disk.Target.Bus && o.Target.Dev == disk.Target.Dev {
			i = j
			break
		}
	}
	if i < 0 {
		return libxlErr(libvirt.ErrInternalError, "No device with bus '%s' and target '%s'", disk.Target.Bus, disk.Target.Dev)
	}
	if live.Devices.Disks[i].Device != "cdrom" {
		device := disk.Device
		if device == "" {
			device = "disk"
		}
		return libxlErr(libvirt.ErrInternalError, "Removable media not supported for %s device", device)
	}
	x, err := drv.translateDisk(ctx, live, disk)
	if err != nil {
		return err
	}
	hp, err := drv.hotplug()
	if err == nil {
		err = hp.InsertMedia(ctx, backend.DomID(d.ref().ID), x)
	}
	if err != nil {
		drv.log.Error("media change failed", "domain", d.ref().Name, "disk", disk.Target.Dev, "err", err)
		return libxlFailed(err, "libxenlight failed to change media for disk '%s'", disk.Target.Dev)
	}
	dst := disk.Target.Dev
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if j := diskByTarget(def, dst); j >= 0 {
			setMedia(&def.Devices.Disks[j], disk)
		}
	})
	return nil
}

func aliasOf(a *libvirtxml.DomainAlias) string {
	if a == nil {
		return ""
	}
	return a.Name
}
