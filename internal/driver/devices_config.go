package driver

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// The persistent side of device hotplug, on a copy of the persistent
// definition (libxlDomainAttachDeviceConfig, libxlDomainDetachDeviceConfig,
// libxlDomainUpdateDeviceConfig): nothing here touches the guest.

// attachConfig adds dev to def.
func attachConfig(def *libvirtxml.Domain, dev *domxml.Device) error {
	devs := devicesOf(def)
	switch dev.Kind {
	case "disk":
		if domxml.DiskIndexByName(def, dev.Disk.Target.Dev, true) >= 0 {
			return libxlErr(libvirt.ErrInvalidArg, "target %s already exists.", dev.Disk.Target.Dev)
		}
		domxml.InsertDisk(def, *dev.Disk)
	case "controller":
		c := *dev.Controller
		if c.Index != nil && domxml.FindController(def, c.Type, *c.Index) >= 0 {
			return libxlErr(libvirt.ErrOperationInvalid, "Target already exists")
		}
		if c.Index == nil {
			// libvirt would save the index as -1, which no parse reads
			// back; the next free one is what the next start gives it.
			idx := domxml.UnusedControllerIndex(def, c.Type)
			c.Index = &idx
		}
		domxml.InsertController(def, c)
	case "interface":
		if domxml.HasNet(def, dev.Interface) {
			return errMACExists(dev.Interface)
		}
		devs.Interfaces = append(devs.Interfaces, *dev.Interface)
	case "hostdev":
		// libvirt's libxl driver keeps no USB (nor SCSI) host device in a
		// persistent definition; it fails without saying why, and this
		// says it with its words for what it does not attach.
		if dev.Hostdev.SubsysPCI == nil {
			return errPersistent("attach")
		}
		if domxml.FindHostdev(def, dev.Hostdev) >= 0 {
			return libxlErr(libvirt.ErrOperationInvalid, "device is already in the domain configuration")
		}
		devs.Hostdevs = append(devs.Hostdevs, *dev.Hostdev)
	default:
		return errPersistent("attach")
	}
	return nil
}

// detachConfig removes the device dev names from def.
func detachConfig(def *libvirtxml.Domain, dev *domxml.Device) error {
	devs := devicesOf(def)
	switch dev.Kind {
	case "disk":
		i := domxml.DiskIndexByName(def, dev.Disk.Target.Dev, false)
		if i < 0 {
			return libxlErr(libvirt.ErrInvalidArg, "no target device %s", dev.Disk.Target.Dev)
		}
		devs.Disks = append(devs.Disks[:i], devs.Disks[i+1:]...)
	case "controller":
		i := -1
		if c := dev.Controller; c.Index != nil {
			i = domxml.FindController(def, c.Type, *c.Index)
		}
		if i < 0 {
			return libxlErr(libvirt.ErrInvalidArg, "device not present in domain configuration")
		}
		devs.Controllers = append(devs.Controllers[:i], devs.Controllers[i+1:]...)
	case "interface":
		i, err := domxml.FindNet(def, dev.Interface, dev.MACGenerated)
		if err != nil {
			return err
		}
		devs.Interfaces = append(devs.Interfaces[:i], devs.Interfaces[i+1:]...)
	case "hostdev":
		i := domxml.FindHostdev(def, dev.Hostdev)
		if i < 0 {
			return libxlErr(libvirt.ErrInvalidArg, "device not present in domain configuration")
		}
		devs.Hostdevs = append(devs.Hostdevs[:i], devs.Hostdevs[i+1:]...)
	default:
		return errPersistent("detach")
	}
	return nil
}

// updateConfig gives def's cdrom the media dev names: its source, format
// and driver.
func updateConfig(def *libvirtxml.Domain, dev *domxml.Device) error {
	if dev.Kind != "disk" {
		return errPersistent("update")
	}
	disk := dev.Disk
	i := diskByTarget(def, disk.Target.Dev)
	if i < 0 {
		return libxlErr(libvirt.ErrInvalidArg, "target %s doesn't exist.", disk.Target.Dev)
	}
	orig := &def.Devices.Disks[i]
	if orig.Device != "cdrom" {
		return libxlErr(libvirt.ErrInvalidArg, "this disk doesn't support update")
	}
	setMedia(orig, disk)
	setDriver(orig, disk)
	return nil
}

// diskByTarget is virDomainDiskByTarget: the disk whose target is dst.
func diskByTarget(def *libvirtxml.Domain, dst string) int {
	for i, disk := range devicesOf(def).Disks {
		if disk.Target != nil && disk.Target.Dev == dst {
			return i
		}
	}
	return -1
}

// setMedia gives orig the source (and so the type) of disk, as
// virDomainDiskSetSource and virDomainDiskSetType do.
func setMedia(orig, disk *libvirtxml.DomainDisk) {
	if disk.Source == nil {
		orig.Source = nil
		return
	}
	src := *disk.Source
	if orig.Source != nil {
		// What is not the media itself stays (startupPolicy, ...).
		src.StartupPolicy = orig.Source.StartupPolicy
	}
	orig.Source = &src
}

// setDriver is virDomainDiskSetFormat and virDomainDiskSetDriver: the new
// media's format and driver name.
func setDriver(orig, disk *libvirtxml.DomainDisk) {
	var name, typ string
	if disk.Driver != nil {
		name, typ = disk.Driver.Name, disk.Driver.Type
	}
	if orig.Driver == nil {
		orig.Driver = &libvirtxml.DomainDiskDriver{}
	}
	orig.Driver.Name, orig.Driver.Type = name, typ
}

func devicesOf(def *libvirtxml.Domain) *libvirtxml.DomainDeviceList {
	if def.Devices == nil {
		def.Devices = &libvirtxml.DomainDeviceList{}
	}
	return def.Devices
}

// errPersistent is libvirt's refusal of a persistent change to a device
// kind it does not keep: verb is attach, detach or update.
func errPersistent(verb string) error {
	return libxlErr(libvirt.ErrConfigUnsupported, "persistent %s of device is not supported", verb)
}

// errMACExists is virDomainHasNet's refusal, with the MAC libvirt prints.
func errMACExists(ifc *libvirtxml.DomainInterface) error {
	return libxlErr(libvirt.ErrInvalidArg, "network device with mac %s already exists", ifc.MAC.Address)
}
