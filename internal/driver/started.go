package driver

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// nameDiskDrivers gives each disk without a driver name the one of the
// backend libxl chose (libxlUpdateDiskDef), found by its target.
func nameDiskDrivers(disks []libvirtxml.DomainDisk, xs []libxltypes.Disk) {
	for _, x := range xs {
		for i := range disks {
			d := &disks[i]
			if d.Target == nil || d.Target.Dev != x.Vdev {
				continue
			}
			if d.Driver == nil {
				d.Driver = &libvirtxml.DomainDiskDriver{}
			}
			if d.Driver.Name == "" {
				d.Driver.Name = diskDriverOf(x)
			}
		}
	}
}

// diskDriverOf is the driver name libvirt gives libxl's backend for x.
// A disk that left the choice to libxl (libxl__device_disk_set_backend)
// got phy when raw, as a file or block device that backend takes, and
// qdisk otherwise.
func diskDriverOf(x libxltypes.Disk) string {
	b := x.Backend
	if b == "" || b == "unknown" {
		b = "qdisk"
		if x.Format == "raw" {
			b = "phy"
		}
	}
	switch b {
	case "qdisk":
		return "qemu"
	case "tap", "phy":
		return b
	}
	return ""
}
