package xlcfg

import (
	"strings"

	"libvirt.org/go/libvirtxml"
)

// parseXMDisks is xenParseXMDiskList: "SOURCE,DEST[:cdrom],MODE" with the
// source prefixed by its driver ("phy:", "file:", "tap:aio:", ...).
// Entries libvirt cannot read are skipped, as libvirt skips them.
func (c *conf) parseXMDisks(d *libvirtxml.Domain) error {
	specs, ok := c.getStringList("disk")
	if !ok {
		return nil
	}
	for _, spec := range specs {
		disk, err := parseXMDisk(spec, isHVM(d))
		if err != nil {
			continue
		}
		d.Devices.Disks = append(d.Devices.Disks, *disk)
	}
	return nil
}

var xmTapFormats = map[string]string{"aio": "raw", "raw": "raw", "qcow": "qcow", "qcow2": "qcow2",
	"vhd": "vhd", "qed": "qed", "vmdk": "vmdk", "cow": "cow", "bochs": "bochs", "cloop": "cloop",
	"dmg": "dmg", "iso": "iso", "vpc": "vpc", "vdi": "vdi", "fat": "fat", "ploop": "ploop"}

func parseXMDisk(spec string, hvm bool) (*libvirtxml.DomainDisk, error) {
	src, rest, ok := strings.Cut(spec, ",")
	if !ok {
		return nil, internalf("malformed disk '%s'", spec)
	}
	rest = strings.TrimPrefix(rest, "ioemu:")
	dst, mode, ok := strings.Cut(rest, ",")
	if !ok {
		return nil, internalf("malformed disk '%s'", spec)
	}
	disk := &libvirtxml.DomainDisk{Device: "disk", Driver: &libvirtxml.DomainDiskDriver{}}
	if src != "" {
		if drv, path, ok := strings.Cut(src, ":"); ok {
			disk.Driver.Name, src = drv, path
		}
		if disk.Driver.Name == "tap" || disk.Driver.Name == "tap2" {
			sub, path, ok := strings.Cut(src, ":")
			if !ok || xmTapFormats[sub] == "" {
				return nil, internalf("Unknown driver type %s", src)
			}
			disk.Driver.Type, src = xmTapFormats[sub], path
		}
	}
	if disk.Driver.Name == "" {
		disk.Driver.Name = "phy"
	}
	typ := "file"
	if disk.Driver.Name == "phy" {
		typ = "block"
	}
	if src != "" {
		setFileSource(disk, src, typ)
	} else if typ == "block" {
		disk.Source = &libvirtxml.DomainDiskSource{Block: &libvirtxml.DomainDiskSourceBlock{}}
	} else {
		disk.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{}}
	}
	if d, suffix, ok := strings.Cut(dst, ":"); ok {
		if suffix == "cdrom" {
			disk.Device = "cdrom"
		}
		dst = d
	}
	disk.Target = &libvirtxml.DomainDiskTarget{Dev: dst, Bus: diskBus(dst, hvm)}
	switch mode {
	case "r", "ro":
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	case "w!", "!":
		disk.Shareable = &libvirtxml.DomainDiskShareable{}
	}
	return disk, nil
}

func formatXMDisk(disk libvirtxml.DomainDisk) (string, error) {
	var b strings.Builder
	src, _ := formatDiskSource(disk.Source)
	if src != "" {
		drvName, drvType := "", ""
		if disk.Driver != nil {
			drvName, drvType = disk.Driver.Name, disk.Driver.Type
		}
		switch {
		case drvType != "":
			if drvName != "" {
				b.WriteString(drvName + ":")
				if drvName == "tap" || drvName == "tap2" {
					t := drvType
					if t == "raw" {
						t = "aio"
					}
					b.WriteString(t + ":")
				}
			}
		case disk.Source.File != nil:
			b.WriteString("file:")
		case disk.Source.Block != nil:
			b.WriteString("phy:")
		default:
			return "", internalf("unsupported disk type %s", "network")
		}
		b.WriteString(src)
	}
	b.WriteString(",")
	if disk.Target != nil {
		b.WriteString(disk.Target.Dev)
	}
	if disk.Device == "cdrom" {
		b.WriteString(":cdrom")
	}
	switch {
	case disk.ReadOnly != nil:
		b.WriteString(",r")
	case disk.Shareable != nil:
		b.WriteString(",!")
	default:
		b.WriteString(",w")
	}
	if disk.Transient != nil {
		return "", unsupportedf("transient disks not supported yet")
	}
	return b.String(), nil
}
