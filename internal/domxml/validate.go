package domxml

import (
	"fmt"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// validate runs the checks libvirt makes after post-parse for a libxl
// domain: the parser-config feature checks, libxlDomainDefValidate,
// libxlDomainDeviceDefValidate and the generic ones Xen guests can hit.
func validate(d *libvirtxml.Domain, o *Options) error {
	checks := []func(*libvirtxml.Domain, *Options) error{
		checkFeatures, checkSupported, checkFirmware, checkACPITables,
		checkDisks, checkSounds, checkNets, checkDuplicateDisks, checkVideos, checkCPUTuneRanges,
	}
	for _, c := range checks {
		if err := c(d, o); err != nil {
			return err
		}
	}
	return nil
}

// checkFeatures: what the libxl parser config does not enable
// (virDomainDefPostParseCheckFeatures and the device variant).
func checkFeatures(d *libvirtxml.Domain, _ *Options) error {
	if d.MaximumMemory != nil {
		return unsupported("memory hotplug tunables <maxMemory> are not supported by this hypervisor driver")
	}
	if len(d.Devices.Memorydevs) > 0 {
		return unsupported("memory devices are not supported by this driver")
	}
	if strings.Contains(d.Name, "/") {
		return xmlErr("name %s cannot contain '/'", d.Name)
	}
	if d.VCPUs != nil && len(d.VCPUs.VCPU) > 0 {
		return unsupported("individual CPU state configuration is not supported")
	}
	return nil
}

// checkSupported is virCapabilitiesDomainSupported: some guest type of
// the host must match os type, arch and virt type. libvirt prints only
// the non-zero enum values, so "ostype=hvm" (value 0) never appears.
func checkSupported(d *libvirtxml.Domain, o *Options) error {
	ostype := internalOSType(d)
	arch := d.OS.Type.Arch
	if d.Type == "xen" {
		for _, g := range o.Guests {
			if g.OSType == ostype && g.Arch == arch {
				return nil
			}
		}
	}
	var b strings.Builder
	if ostype != "hvm" {
		fmt.Fprintf(&b, "ostype=%s ", ostype)
	}
	fmt.Fprintf(&b, "arch=%s domaintype=%s ", arch, d.Type)
	return virerr.New(virerr.FromDomain, libvirt.ErrInvalidArg, "could not find capabilities for %s", b.String())
}

func internalOSType(d *libvirtxml.Domain) string {
	t := d.OS.Type.Type
	if t == "linux" && d.Type == "xen" {
		return "xen"
	}
	return t
}

// checkFirmware: Xen's OVMF has no secure boot.
func checkFirmware(d *libvirtxml.Domain, _ *Options) error {
	secure := false
	if d.OS.Firmware == "efi" && d.OS.FirmwareInfo != nil {
		for _, f := range d.OS.FirmwareInfo.Features {
			if f.Name == "secure-boot" && f.Enabled == "yes" {
				secure = true
			}
		}
	}
	if l := d.OS.Loader; l != nil && l.Type == "pflash" && l.Secure == "yes" {
		secure = true
	}
	if secure {
		return unsupported("Secure boot is not supported on Xen")
	}
	return nil
}

func checkACPITables(d *libvirtxml.Domain, _ *Options) error {
	if d.OS.ACPI == nil {
		return nil
	}
	for _, t := range d.OS.ACPI.Tables {
		if t.Type != "slic" && t.Type != "rawset" {
			return unsupported("ACPI table type '%s' is not supported", t.Type)
		}
	}
	if len(d.OS.ACPI.Tables) > 1 {
		return unsupported("Only a single ACPI table is supported")
	}
	return nil
}

func checkSounds(d *libvirtxml.Domain, _ *Options) error {
	if len(d.Devices.Sounds) == 0 {
		return nil
	}
	switch m := d.Devices.Sounds[0].Model; m {
	case "ich6", "es1370", "ac97", "sb16":
		return nil
	default:
		return unsupported("unsupported audio model %s", m)
	}
}

func checkNets(d *libvirtxml.Domain, _ *Options) error {
	for _, n := range d.Devices.Interfaces {
		if n.FilterRef != nil {
			return unsupported("filterref is not supported in %s", d.Type)
		}
	}
	return nil
}

func checkDuplicateDisks(d *libvirtxml.Domain, _ *Options) error {
	disks := d.Devices.Disks
	for i := range disks {
		for j := i + 1; j < len(disks); j++ {
			if disks[i].Target.Dev == disks[j].Target.Dev {
				return xmlErr("target '%s' duplicated for disk sources '%s' and '%s'",
					disks[i].Target.Dev, diskSourceName(disks[i]), diskSourceName(disks[j]))
			}
		}
	}
	return nil
}

// diskSourceName is virDomainDiskGetSource as NULLSTR prints it.
func diskSourceName(disk libvirtxml.DomainDisk) string {
	s := disk.Source
	switch {
	case s == nil:
	case s.File != nil && s.File.File != "":
		return s.File.File
	case s.Block != nil && s.Block.Dev != "":
		return s.Block.Dev
	case s.Dir != nil && s.Dir.Dir != "":
		return s.Dir.Dir
	case s.Network != nil && s.Network.Name != "":
		return s.Network.Name
	case s.Volume != nil && s.Volume.Volume != "":
		return s.Volume.Volume
	}
	return "<null>"
}

func checkVideos(d *libvirtxml.Domain, _ *Options) error {
	primaries := 0
	for _, v := range d.Devices.Videos {
		if v.Model.Primary == "yes" {
			primaries++
		}
	}
	if primaries > 1 {
		return unsupported("Only one primary video device is supported")
	}
	return nil
}
