package driver

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// recordStarted is what libxlDomainStart writes into the live definition
// once libxl has created the guest: the name of each interface that has
// none (libxlDomainCreateIfaceNames) and the driver of each disk that has
// none, the backend libxl chose for it (libxlDomainUpdateDiskParams).
func recordStarted(def *libvirtxml.Domain, cfg *libxltypes.DomainConfig, id int32) {
	if def.Devices == nil {
		return
	}
	nameIfaces(def.Devices.Interfaces, cfg.NICs, id)
	nameDiskDrivers(def.Devices.Disks, cfg.Disks)
}

// nameIfaces names the interfaces as libxl's hotplug scripts name them,
// vifDOMID.DEVID, with "-emu" for an emulated NIC's tap. As in libvirt,
// the i-th interface goes with the i-th NIC of the configuration.
func nameIfaces(ifcs []libvirtxml.DomainInterface, nics []libxltypes.NIC, id int32) {
	for i := range ifcs {
		if i >= len(nics) {
			return
		}
		if ifcs[i].Target != nil && ifcs[i].Target.Dev != "" {
			continue
		}
		suffix := ""
		if nics[i].NICType != "vif" {
			suffix = "-emu"
		}
		ifcs[i].Target = &libvirtxml.DomainInterfaceTarget{Dev: fmt.Sprintf("vif%d.%d%s", id, nics[i].DevID, suffix)}
	}
}

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
