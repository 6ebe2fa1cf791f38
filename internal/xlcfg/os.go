package xlcfg

import (
	"libvirt.org/go/libvirtxml"
)

var bootDevs = map[byte]string{'a': "fd", 'd': "cdrom", 'n': "network"}

func (c *conf) parseBoot(d *libvirtxml.Domain) error {
	boot, _, err := c.getString("boot", "c")
	if err != nil {
		return err
	}
	for i := 0; i < 4 && i < len(boot); i++ {
		dev := bootDevs[boot[i]]
		if dev == "" {
			dev = "hd"
		}
		d.OS.BootDevices = append(d.OS.BootDevices, libvirtxml.DomainBootDevice{Dev: dev})
	}
	return nil
}

// parseCmdline is xenParseCmdline: cmdline, else root= and extra.
func (c *conf) parseCmdline(d *libvirtxml.Domain) error {
	cmd, hasCmd, err := c.getString("cmdline", "")
	if err != nil {
		return err
	}
	legacy, hasLegacy, err := c.rootAndExtra()
	if err != nil {
		return err
	}
	switch {
	case hasCmd:
		d.OS.Cmdline = cmd
	case hasLegacy:
		d.OS.Cmdline = legacy
	}
	return nil
}

// rootAndExtra is the command line the legacy root= and extra= settings
// make, and whether either is set.
func (c *conf) rootAndExtra() (string, bool, error) {
	root, hasRoot, err := c.getString("root", "")
	if err != nil {
		return "", false, err
	}
	extra, hasExtra, err := c.getString("extra", "")
	if err != nil {
		return "", false, err
	}
	switch {
	case hasRoot && hasExtra:
		return "root=" + root + " " + extra, true, nil
	case hasRoot:
		return "root=" + root, true, nil
	}
	return extra, hasExtra, nil
}

func (c *conf) copyStrings(pairs map[string]*string, keys ...string) error {
	for _, k := range keys {
		v, ok, err := c.getString(k, "")
		if err != nil {
			return err
		}
		if ok {
			*pairs[k] = v
		}
	}
	return nil
}

func (c *conf) parsePVOS(d *libvirtxml.Domain) error {
	return c.copyStrings(map[string]*string{"bootloader": &d.Bootloader, "bootargs": &d.BootloaderArgs,
		"kernel": &d.OS.Kernel, "ramdisk": &d.OS.Initrd}, "bootloader", "bootargs", "kernel", "ramdisk")
}

// parseXLOS is xenParseXLOS.
func (c *conf) parseXLOS(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		if err := c.parsePVOS(d); err != nil {
			return err
		}
		return c.parseCmdline(d)
	}
	bios, _, err := c.getString("bios", "")
	if err != nil {
		return err
	}
	path, hasPath, err := c.getString("bios_path_override", "")
	if err != nil {
		return err
	}
	if bios == "ovmf" {
		if !hasPath {
			path = ovmfDefault
		}
		d.OS.Loader = &libvirtxml.DomainLoader{Path: path, Readonly: "yes", Type: "pflash", Format: "raw"}
	} else {
		d.OS.Loader = &libvirtxml.DomainLoader{Path: hvmLoader, Type: "rom", Format: "raw"}
	}
	slic, ok, err := c.getString("acpi_firmware", "")
	if err != nil {
		return err
	}
	if ok {
		d.OS.ACPI = &libvirtxml.DomainACPI{Tables: []libvirtxml.DomainACPITable{{Type: "rawset", Path: slic}}}
	}
	if err := c.copyStrings(map[string]*string{"kernel": &d.OS.Kernel, "ramdisk": &d.OS.Initrd},
		"kernel", "ramdisk"); err != nil {
		return err
	}
	if err := c.parseCmdline(d); err != nil {
		return err
	}
	if err := c.parseBoot(d); err != nil {
		return err
	}
	return c.parseNestedHVM(d)
}

func (c *conf) parseNestedHVM(d *libvirtxml.Domain) error {
	v, err := c.getBool("nestedhvm", -1)
	if err != nil || v == -1 {
		return err
	}
	if d.CPU == nil {
		d.CPU = &libvirtxml.DomainCPU{Mode: "host-passthrough"}
	}
	if v == 0 {
		vt := "vmx"
		if c.hwVirt == "svm" {
			vt = "svm"
		}
		d.CPU.Features = append(d.CPU.Features, libvirtxml.DomainCPUFeature{Policy: "disable", Name: vt})
	}
	return nil
}

// parseXMOS is xenParseXMOS: for HVM the firmware is "kernel".
func (c *conf) parseXMOS(d *libvirtxml.Domain) error {
	if !isHVM(d) {
		if err := c.parsePVOS(d); err != nil {
			return err
		}
		legacy, hasLegacy, err := c.rootAndExtra()
		if err != nil {
			return err
		}
		if hasLegacy {
			d.OS.Cmdline = legacy
		}
		return nil
	}
	k, ok, err := c.getString("kernel", "")
	if err != nil {
		return err
	}
	if !ok {
		return c.errorf("kernel", "config value %s was missing", "kernel")
	}
	d.OS.Loader = &libvirtxml.DomainLoader{Path: k, Type: "rom", Format: "raw"}
	return c.parseBoot(d)
}
