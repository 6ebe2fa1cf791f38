package domxml

import (
	"strings"

	"libvirt.org/go/libvirtxml"
)

// devicesPostParse runs libxlDomainDeviceDefPostParse and then
// virDomainDeviceDefPostParseCommon on every device, in libvirt's
// iteration order (disks, nets, sounds, hostdevs, videos, controllers,
// serials, parallels, channels, consoles, inputs, ...).
func devicesPostParse(d *libvirtxml.Domain) error {
	dev := d.Devices
	for i := range dev.Disks {
		if err := diskPostParse(d, &dev.Disks[i]); err != nil {
			return err
		}
	}
	for i := range dev.Hostdevs {
		if err := hostdevPostParse(d, &dev.Hostdevs[i]); err != nil {
			return err
		}
	}
	for i := range dev.Videos {
		videoPostParse(d, &dev.Videos[i])
	}
	for i := range dev.Serials {
		serialPortPostParse(d, i)
	}
	for i := range dev.Parallels {
		if dev.Parallels[i].Target == nil {
			dev.Parallels[i].Target = &libvirtxml.DomainParallelTarget{}
		}
		if dev.Parallels[i].Target.Port == nil {
			p := nextParallelPort(d)
			dev.Parallels[i].Target.Port = &p
		}
	}
	for i := range dev.Consoles {
		consolePostParse(d, &dev.Consoles[i])
	}
	for i := range dev.Inputs {
		inputPostParse(d, &dev.Inputs[i])
	}
	return nil
}

func consolePostParse(d *libvirtxml.Domain, c *libvirtxml.DomainConsole) {
	if c.Target == nil {
		c.Target = &libvirtxml.DomainConsoleTarget{}
	}
	if c.Target.Type == "" {
		if KindOf(d) != HVM {
			c.Target.Type = "xen"
		} else {
			c.Target.Type = "serial"
		}
	}
}

// serialPortPostParse gives a serial without a port the next one free.
func serialPortPostParse(d *libvirtxml.Domain, i int) {
	s := &d.Devices.Serials[i]
	if s.Target == nil {
		s.Target = &libvirtxml.DomainSerialTarget{}
	}
	if s.Target.Port != nil {
		return
	}
	max := -1
	for _, o := range d.Devices.Serials {
		if o.Target != nil && o.Target.Port != nil && int(*o.Target.Port) > max {
			max = int(*o.Target.Port)
		}
	}
	p := uint(max + 1)
	s.Target.Port = &p
}

func nextParallelPort(d *libvirtxml.Domain) uint {
	max := -1
	for _, o := range d.Devices.Parallels {
		if o.Target != nil && o.Target.Port != nil && int(*o.Target.Port) > max {
			max = int(*o.Target.Port)
		}
	}
	return uint(max + 1)
}

func inputPostParse(d *libvirtxml.Domain, in *libvirtxml.DomainInput) {
	if in.Bus != "" {
		return
	}
	switch KindOf(d) {
	case HVM:
		switch {
		case (in.Type == "mouse" || in.Type == "keyboard") && isX86(d.OS.Type.Arch):
			in.Bus = "ps2"
		case in.Type == "passthrough":
			in.Bus = "virtio"
		case in.Type == "evdev":
		default:
			in.Bus = "usb"
		}
	default:
		in.Bus = "xen"
	}
}

func isX86(arch string) bool { return arch == "x86_64" || arch == "i686" }

// hostdevPostParse holds libxl's hostdev checks: no capabilities mode,
// PCI assignment only through Xen's backend.
func hostdevPostParse(d *libvirtxml.Domain, h *libvirtxml.DomainHostdev) error {
	if h.CapsStorage != nil || h.CapsMisc != nil || h.CapsNet != nil {
		return unsupported("hostdev mode 'capabilities' is not supported in %s", d.Type)
	}
	if p := h.SubsysPCI; p != nil && p.Driver != nil && p.Driver.Name != "" && p.Driver.Name != "xen" {
		return unsupported("XEN does not support device assignment mode '%s'", p.Driver.Name)
	}
	if h.Managed == "" && (h.SubsysPCI != nil || h.SubsysUSB != nil || h.SubsysSCSI != nil ||
		h.SubsysSCSIHost != nil || h.SubsysMDev != nil) {
		h.Managed = "no"
	}
	return nil
}

// videoPostParse: libxl picks the model and (for HVM) the VRAM its
// device model needs; the generic code fills what is still unset and
// rounds sizes up to powers of two.
func videoPostParse(d *libvirtxml.Domain, v *libvirtxml.DomainVideo) {
	m := &v.Model
	if m.Type == "none" {
		return
	}
	kind := KindOf(d)
	if m.Type == "" {
		if kind == PV {
			m.Type = "xen"
		} else {
			m.Type = "cirrus"
		}
	}
	if kind == HVM && m.VRam == 0 {
		switch m.Type {
		case "vga", "xen":
			m.VRam = 16 * 1024
		case "cirrus":
			m.VRam = 8 * 1024
		case "qxl":
			m.VRam = 128 * 1024
		}
	}
	if m.Ram == 0 && m.Type == "qxl" {
		m.Ram = defaultVideoRAM(m.Type)
	}
	if m.VRam == 0 {
		m.VRam = defaultVideoRAM(m.Type)
	}
	m.Ram = roundPow2(m.Ram)
	m.VRam = roundPow2(m.VRam)
	if m.Heads == 0 {
		m.Heads = 1
	}
}

func defaultVideoRAM(t string) uint {
	switch t {
	case "vga", "cirrus", "vmvga", "bochs":
		return 16 * 1024
	case "xen":
		return 4 * 1024
	case "qxl":
		return 64 * 1024
	}
	return 0
}

func roundPow2(v uint) uint {
	if v == 0 {
		return 0
	}
	if v > 1<<31 {
		return v // libvirt's sizes are unsigned int; no rounding past that
	}
	p := uint(1)
	for p < v {
		p <<= 1
	}
	return p
}

// addImplicitVideo: graphics without any video get one default video.
func addImplicitVideo(d *libvirtxml.Domain) {
	if len(d.Devices.Graphics) == 0 || len(d.Devices.Videos) > 0 {
		return
	}
	d.Devices.Videos = append(d.Devices.Videos, libvirtxml.DomainVideo{})
}

// consoleCompat is virDomainDefAddConsoleCompat: for HVM guests the first
// console is an alias of the first serial port.
func consoleCompat(d *libvirtxml.Domain) error {
	dev := d.Devices
	for i := 1; i < len(dev.Consoles); i++ {
		if t := dev.Consoles[i].Target; t != nil && t.Type == "serial" {
			return unsupported("Only the first console can be a serial port")
		}
	}
	if KindOf(d) != HVM {
		return nil
	}
	renumber := false
	switch {
	case len(dev.Consoles) > 0 && consoleIsSerial(dev.Consoles[0]):
		if len(dev.Serials) == 0 {
			c := dev.Consoles[0]
			zero := uint(0)
			dev.Serials = append(dev.Serials, libvirtxml.DomainSerial{
				Source: c.Source, Protocol: c.Protocol, Log: c.Log,
				Target: &libvirtxml.DomainSerialTarget{Port: &zero},
				Alias:  c.Alias, Address: c.Address,
			})
			dev.Consoles[0] = serialStub()
			renumber = true
		} else if !sameSource(dev.Serials[0].Source, dev.Consoles[0].Source) {
			dev.Consoles[0] = serialStub()
			renumber = true
		}
	case len(dev.Serials) > 0 && serialIsPlain(dev.Serials[0]):
		dev.Consoles = append([]libvirtxml.DomainConsole{serialStub()}, dev.Consoles...)
		renumber = true
	}
	if renumber {
		for i := range dev.Consoles {
			p := uint(i)
			dev.Consoles[i].Target.Port = &p
		}
	}
	return nil
}

func consoleIsSerial(c libvirtxml.DomainConsole) bool {
	return c.Target == nil || c.Target.Type == "" || c.Target.Type == "serial"
}

// serialIsPlain: target types for which libvirt adds the console alias.
func serialIsPlain(s libvirtxml.DomainSerial) bool {
	if s.Target == nil {
		return true
	}
	switch s.Target.Type {
	case "", "isa-serial", "spapr-vio-serial", "system-serial", "sclp-serial":
		return true
	}
	return false
}

func serialStub() libvirtxml.DomainConsole {
	return libvirtxml.DomainConsole{
		Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
		Target: &libvirtxml.DomainConsoleTarget{Type: "serial"},
	}
}

func sameSource(a, b *libvirtxml.DomainChardevSource) bool {
	return marshalPart(a) == marshalPart(b)
}

// diskPostParse: the device's default, libxl's raw default format and qemu driver for network
// disks, then the generic bus, read-only and drive address defaults.
func diskPostParse(d *libvirtxml.Domain, disk *libvirtxml.DomainDisk) error {
	// a disk's device defaults to disk, which libvirt's format always names
	if disk.Device == "" {
		disk.Device = "disk"
	}
	if disk.Source != nil && disk.Source.Network != nil {
		if disk.Driver == nil {
			disk.Driver = &libvirtxml.DomainDiskDriver{}
		}
		if disk.Driver.Name == "" {
			disk.Driver.Name = "qemu"
		}
	}
	if disk.Driver == nil {
		disk.Driver = &libvirtxml.DomainDiskDriver{}
	}
	if disk.Driver.Type == "" {
		disk.Driver.Type = "raw"
	}
	if disk.Target == nil {
		disk.Target = &libvirtxml.DomainDiskTarget{}
	}
	t := disk.Target
	t.Dev = strings.TrimPrefix(t.Dev, "ioemu:")
	if disk.Device == "cdrom" && disk.ReadOnly == nil {
		disk.ReadOnly = &libvirtxml.DomainDiskReadOnly{}
	}
	if t.Bus == "" {
		t.Bus = defaultDiskBus(disk.Device, t.Dev)
	}
	if disk.Address == nil && t.Dev != "" {
		return assignDriveAddress(disk)
	}
	return nil
}

func defaultDiskBus(device, dst string) string {
	switch {
	case device == "floppy":
		return "fdc"
	case strings.HasPrefix(dst, "hd"):
		return "ide"
	case strings.HasPrefix(dst, "sd"):
		return "scsi"
	case strings.HasPrefix(dst, "vd"):
		return "virtio"
	case strings.HasPrefix(dst, "xvd"):
		return "xen"
	case strings.HasPrefix(dst, "ubd"):
		return "uml"
	}
	return "ide"
}

// assignDriveAddress is virDomainDiskDefAssignAddress.
func assignDriveAddress(disk *libvirtxml.DomainDisk) error {
	idx, ok := diskNameToIndex(disk.Target.Dev)
	if !ok {
		return xmlErr("Unknown disk name '%s' and no address specified", disk.Target.Dev)
	}
	var ctrl, bus, unit uint
	switch disk.Target.Bus {
	case "scsi":
		ctrl, unit = idx/7, idx%7
	case "ide":
		ctrl, bus, unit = idx/4, (idx%4)/2, idx%2
	case "sata":
		ctrl, unit = idx/6, idx%6
	case "fdc":
		ctrl, unit = idx/2, idx%2
	default:
		return nil
	}
	target := uint(0)
	disk.Address = &libvirtxml.DomainAddress{Drive: &libvirtxml.DomainAddressDrive{
		Controller: &ctrl, Bus: &bus, Target: &target, Unit: &unit,
	}}
	return nil
}

// diskNameToIndex is virDiskNameToIndex: "hda" → 0, "sdaa" → 26; a
// partition number may follow.
func diskNameToIndex(name string) (uint, bool) {
	rest := ""
	for _, p := range []string{"fd", "hd", "vd", "sd", "xvd", "ubd"} {
		if strings.HasPrefix(name, p) {
			rest = name[len(p):]
			break
		}
	}
	if rest == "" {
		return 0, false
	}
	idx, n := 0, 0
	for n < len(rest) && rest[n] >= 'a' && rest[n] <= 'z' {
		idx = (idx+boolInt(n > 0))*26 + int(rest[n]-'a')
		n++
		if idx > 1<<24 {
			return 0, false
		}
	}
	if n == 0 {
		return 0, false
	}
	for _, c := range rest[n:] {
		if c < '0' || c > '9' {
			return 0, false
		}
	}
	return uint(idx), true
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
