package domxml

import (
	"slices"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// checkDiskTargets is what virDomainDiskDefParseXML refuses in each disk
// in turn (checkDiskNode).
func checkDiskTargets(root *node) error {
	dev := root.child("devices")
	if dev == nil {
		return nil
	}
	for _, k := range dev.elems() {
		if k.name != "disk" {
			continue
		}
		if err := checkDiskNode(k); err != nil {
			return err
		}
	}
	return nil
}

// checkDiskNode is what virDomainDiskDefParseXML refuses in one disk: a
// type or device libvirt does not know (virXMLPropEnumDefault: present, it
// must be one, even empty), a network source without a protocol, then no
// target (the error names the disk's source path, if any).
func checkDiskNode(k *node) error {
	for _, e := range []struct {
		attr  string
		known []string
	}{
		{"type", diskTypes},
		{"device", diskDevices},
	} {
		if v, ok := k.attr(e.attr); ok && !slices.Contains(e.known, v) {
			return enumErr(e.attr, "disk", v)
		}
	}
	if typ, _ := k.attr("type"); typ == "network" {
		if src := k.child("source"); src != nil {
			if p, ok := src.attr("protocol"); !ok || p == "" {
				return virerr.New(virerr.FromXML, libvirt.ErrXMLError,
					"Missing required attribute '%s' in element '%s'", "protocol", "source")
			}
		}
	}
	if t := k.child("target"); t != nil {
		if d, ok := t.attr("dev"); ok && d != "" {
			return nil
		} else if ok && k.child("address") == nil {
			// An empty name is a name to libvirt's parser; the address
			// its post-parse then derives from it is what fails.
			return xmlErr("Unknown disk name '' and no address specified")
		}
	}
	path := rawDiskPath(k)
	if path == "" {
		return virerr.New(virerr.FromDomain, libvirt.ErrNoTarget, "")
	}
	return virerr.New(virerr.FromDomain, libvirt.ErrNoTarget, "%s", path)
}

// diskTypes and diskDevices are libvirt 11.3's virStorageType (but its
// "none", which the parser refuses) and virDomainDiskDevice.
var (
	diskTypes   = []string{"file", "block", "dir", "network", "volume", "nvme", "vhostuser", "vhostvdpa"}
	diskDevices = []string{"disk", "cdrom", "floppy", "lun"}
)

// rawDiskPath is the disk's source path as libvirt stores it for its type.
func rawDiskPath(disk *node) string {
	src := disk.child("source")
	if src == nil {
		return ""
	}
	typ, _ := disk.attr("type")
	attr := map[string]string{"file": "file", "block": "dev", "dir": "dir", "network": "name", "": "file"}[typ]
	if attr == "" {
		return ""
	}
	p, _ := src.attr(attr)
	return p
}

// checkDisks is virDomainDiskDefValidate's device-name and source checks
// on every disk (checkDisk).
func checkDisks(d *libvirtxml.Domain, _ *Options) error {
	for _, disk := range d.Devices.Disks {
		if err := checkDisk(disk); err != nil {
			return err
		}
	}
	return nil
}

// checkDisk: hard disks need a known name prefix, floppies an "fd" one,
// and only removable media may be empty.
func checkDisk(disk libvirtxml.DomainDisk) error {
	dst := disk.Target.Dev
	device := disk.Device
	if device == "" {
		device = "disk"
	}
	if device == "disk" || device == "lun" {
		known := false
		for _, p := range []string{"hd", "sd", "vd", "xvd", "ubd"} {
			known = known || strings.HasPrefix(dst, p)
		}
		if !known {
			return internalErr("Invalid harddisk device name: %s", dst)
		}
	}
	if device == "floppy" && !strings.HasPrefix(dst, "fd") {
		return internalErr("Invalid floppy device name: %s", dst)
	}
	if device == "disk" && diskSourceEmpty(disk) {
		return virerr.New(virerr.FromDomain, libvirt.ErrNoSource, "%s", dst)
	}
	return nil
}

// diskSourceEmpty is virStorageSourceIsEmpty: local storage without a
// path, or network storage without a protocol.
func diskSourceEmpty(disk libvirtxml.DomainDisk) bool {
	s := disk.Source
	switch {
	case s == nil:
		return true
	case s.File != nil:
		return s.File.File == ""
	case s.Block != nil:
		return s.Block.Dev == ""
	case s.Dir != nil:
		return s.Dir.Dir == ""
	case s.Network != nil:
		return s.Network.Protocol == ""
	case s.Volume != nil, s.NVME != nil, s.VHostUser != nil, s.VHostVDPA != nil:
		return false
	}
	return true
}
