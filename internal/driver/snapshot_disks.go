package driver

import (
	"context"
	"errors"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/qemuimg"
	dsnap "virtxend/internal/snapshot"
)

// The disk side of snapshots, as libvirt's QEMU driver does it with
// qemu-img for a domain that is not running (qemuSnapshotCreateQcow2Files,
// qemuSnapshotDomainDefUpdateDisk, qemuSnapshotForEachQcow2) and with the
// backend's DiskSnapshotter for one that is. After AlignDisks a snapshot
// has one disk entry per domain disk, in the domain's order.

const (
	locInternal = dsnap.LocationInternal
	locExternal = dsnap.LocationExternal
	locNo       = dsnap.LocationNo
	locManual   = dsnap.LocationManual
)

// snapDiskFormat is the format of a snapshot disk's new image: qcow2
// unless it says otherwise.
func snapDiskFormat(sd *dsnap.Disk) string {
	if sd.Format != "" {
		return sd.Format
	}
	return "qcow2"
}

// createOverlays makes the qcow2 overlay of each external disk of snap
// over the disk's image in def (unless reuse: the caller made them), and
// returns the files it created, removed again if it fails.
func (drv *Driver) createOverlays(ctx context.Context, def *libvirtxml.Domain, disks []dsnap.Disk, reuse bool) ([]string, error) {
	var created []string
	for i := range disks {
		sd := &disks[i]
		if sd.Snapshot != locExternal || reuse {
			continue
		}
		dd := &def.Devices.Disks[i]
		path := sd.Path()
		_, statErr := os.Stat(path)
		if err := drv.qemuImg.CreateOverlay(ctx, path, diskSource(dd), diskFormat(dd)); err != nil {
			removeFiles(created)
			return nil, qemuImgErr(err)
		}
		if os.IsNotExist(statErr) {
			created = append(created, path)
		}
	}
	return created, nil
}

// pointDisks makes def's disks read the overlays of snap's external disks
// (qemuSnapshotDomainDefUpdateDisk).
func pointDisks(def *libvirtxml.Domain, disks []dsnap.Disk) {
	for i := range disks {
		if disks[i].Snapshot == locExternal && i < len(def.Devices.Disks) {
			pointDisk(&def.Devices.Disks[i], &disks[i])
		}
	}
}

// pointDisk makes dd read sd's new image.
func pointDisk(dd *libvirtxml.DomainDisk, sd *dsnap.Disk) {
	src := &libvirtxml.DomainDiskSource{}
	if sd.Type == "block" {
		src.Block = &libvirtxml.DomainDiskSourceBlock{Dev: sd.Path()}
	} else {
		src.File = &libvirtxml.DomainDiskSourceFile{File: sd.Path()}
	}
	dd.Source = src
	if dd.Driver == nil {
		dd.Driver = &libvirtxml.DomainDiskDriver{}
	}
	dd.Driver.Type = snapDiskFormat(sd)
}

// internalDisks is the paths of def's disks that snap snapshots
// internally, checked for the op ("-c" refuses a disk that is not qcow2;
// the others skip it, as qemuSnapshotForEachQcow2).
func internalDisks(def *libvirtxml.Domain, disks []dsnap.Disk, create bool) ([]string, error) {
	var paths []string
	for i := range def.Devices.Disks {
		dd := &def.Devices.Disks[i]
		if dd.Device != "" && dd.Device != "disk" || i >= len(disks) || disks[i].Snapshot != locInternal {
			continue
		}
		if dd.Source == nil || (dd.Source.File == nil && dd.Source.Block == nil) {
			return nil, libxlErr(libvirt.ErrOperationInvalid, "can't manipulate inactive snapshots of disk '%s'", diskTarget(dd))
		}
		if diskFormat(dd) != "qcow2" {
			if create {
				return nil, libxlErr(libvirt.ErrOperationInvalid, "Disk device '%s' does not support snapshotting", diskTarget(dd))
			}
			continue
		}
		paths = append(paths, diskSource(dd))
	}
	return paths, nil
}

func diskTarget(dd *libvirtxml.DomainDisk) string {
	if dd.Target == nil {
		return ""
	}
	return dd.Target.Dev
}

// snapshotQcow2 runs qemu-img snapshot op ("-c", "-a", "-d") for snapshot
// name on the internal disks of def. A failed create is undone; the
// other ops go on over failures and report the first.
func (drv *Driver) snapshotQcow2(ctx context.Context, def *libvirtxml.Domain, disks []dsnap.Disk, name, op string) error {
	paths, err := internalDisks(def, disks, op == "-c")
	if err != nil {
		return err
	}
	var first error
	for i, p := range paths {
		var err error
		switch op {
		case "-c":
			err = drv.qemuImg.SnapshotCreate(ctx, p, name)
		case "-a":
			err = drv.qemuImg.SnapshotApply(ctx, p, name)
		case "-d":
			err = drv.qemuImg.SnapshotDelete(ctx, p, name)
		}
		if err == nil {
			continue
		}
		if op == "-c" {
			for _, done := range paths[:i] {
				drv.qemuImg.SnapshotDelete(context.WithoutCancel(ctx), done, name)
			}
			return qemuImgErr(err)
		}
		drv.log.Warn("qemu-img snapshot failed", "op", op, "image", p, "err", err)
		if first == nil {
			first = qemuImgErr(err)
		}
	}
	return first
}

// liveOverlays is what the backend needs to switch a running guest's
// external disks to their overlays.
func liveOverlays(def *libvirtxml.Domain, disks []dsnap.Disk) []backend.DiskOverlay {
	var out []backend.DiskOverlay
	for i := range disks {
		if disks[i].Snapshot != locExternal || i >= len(def.Devices.Disks) {
			continue
		}
		out = append(out, backend.DiskOverlay{
			Vdev: diskTarget(&def.Devices.Disks[i]), Path: disks[i].Path(), Format: snapDiskFormat(&disks[i]),
		})
	}
	return out
}

// liveInternal is the vdevs of a running guest's internal disks.
func liveInternal(def *libvirtxml.Domain, disks []dsnap.Disk) []string {
	var out []string
	for i := range disks {
		if disks[i].Snapshot == locInternal && i < len(def.Devices.Disks) {
			out = append(out, diskTarget(&def.Devices.Disks[i]))
		}
	}
	return out
}

// removeFiles removes files a failed step created.
func removeFiles(paths []string) {
	for _, p := range paths {
		os.Remove(p)
	}
}

// qemuImgErr is a qemu-img failure as libvirt's virCommandRun reports
// it: an internal error with the tool's own words.
func qemuImgErr(err error) error {
	var qe *qemuimg.Error
	if errors.As(err, &qe) {
		return libxlErr(libvirt.ErrInternalError, "%s", qe.Error())
	}
	return libxlErr(libvirt.ErrInternalError, "%v", err)
}
