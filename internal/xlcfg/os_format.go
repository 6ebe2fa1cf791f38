package xlcfg

import (
	"libvirt.org/go/libvirtxml"
)

var bootChars = map[string]byte{"fd": 'a', "cdrom": 'd', "network": 'n'}

func formatBoot(o *out, d *libvirtxml.Domain) {
	var boot []byte
	for _, b := range d.OS.BootDevices {
		ch := bootChars[b.Dev]
		if ch == 0 {
			ch = 'c'
		}
		boot = append(boot, ch)
	}
	if len(boot) == 0 {
		boot = []byte{'c'}
	}
	o.setStr("boot", string(boot))
}

func setIf(o *out, key, v string) {
	if v != "" {
		o.setStr(key, v)
	}
}

// formatXLOS is xenFormatXLOS.
func formatXLOS(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) {
		if d.OS.Type.Type == "xenpvh" {
			o.setStr("type", "pvh")
		}
		setIf(o, "bootloader", d.Bootloader)
		setIf(o, "bootargs", d.BootloaderArgs)
		setIf(o, "kernel", d.OS.Kernel)
		setIf(o, "ramdisk", d.OS.Initrd)
		setIf(o, "cmdline", d.OS.Cmdline)
		return
	}
	o.setStr("builder", "hvm")
	if l := d.OS.Loader; l != nil && l.Type == "pflash" {
		o.setStr("bios", "ovmf")
		setIf(o, "bios_path_override", l.Path)
	}
	if d.OS.ACPI != nil {
		for _, t := range d.OS.ACPI.Tables {
			if t.Type == "slic" || t.Type == "rawset" {
				o.setStr("acpi_firmware", t.Path)
			}
		}
	}
	setIf(o, "kernel", d.OS.Kernel)
	setIf(o, "ramdisk", d.OS.Initrd)
	setIf(o, "cmdline", d.OS.Cmdline)
	formatBoot(o, d)
	if d.CPU != nil && d.CPU.Mode == "host-passthrough" {
		hw := true
		for _, f := range d.CPU.Features {
			if (f.Policy == "disable" || f.Policy == "forbid") && (f.Name == "vmx" || f.Name == "svm") {
				hw = false
			}
		}
		o.setBool("nestedhvm", hw)
	}
}

// formatXMOS is xenFormatXMOS.
func formatXMOS(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) {
		setIf(o, "bootloader", d.Bootloader)
		setIf(o, "bootargs", d.BootloaderArgs)
		setIf(o, "kernel", d.OS.Kernel)
		setIf(o, "ramdisk", d.OS.Initrd)
		setIf(o, "extra", d.OS.Cmdline)
		return
	}
	o.setStr("builder", "hvm")
	if d.OS.Loader != nil {
		setIf(o, "kernel", d.OS.Loader.Path)
	}
	formatBoot(o, d)
}
