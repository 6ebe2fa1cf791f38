package libxlconf

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// bootDevices maps <boot dev=...> to HVM boot order letters.
var bootDevices = map[string]byte{"fd": 'a', "hd": 'c', "cdrom": 'd', "network": 'n'}

// hvmInfo fills the HVM part of build info, as libvirt does for an HVM
// guest: features, firmware, device model, boot order, serials, USB input.
func (t *translation) hvmInfo(b *libxltypes.BuildInfo) error {
	d := t.d
	h := t.hvmPart(b)
	if f := d.Features; f != nil {
		h.PAE = libxltypes.DefboolOf(f.PAE != nil)
		b.APIC = libxltypes.DefboolOf(f.APIC != nil)
		b.ACPI = libxltypes.DefboolOf(f.ACPI != nil)
	} else {
		h.PAE, b.APIC, b.ACPI = libxltypes.False, libxltypes.False, libxltypes.False
	}
	// <viridian/> is xl's viridian = 1 to libvirt's converters only:
	// libxlMakeDomBuildInfo leaves libxl's viridian unset (its default,
	// off), and enlightenments come from <hyperv> alone (viridian below)
	if err := t.acpiTables(h); err != nil {
		return err
	}
	if snd := devices(d).Sounds; len(snd) > 0 {
		h.SoundHW = snd[0].Model
	}
	h.Boot = t.bootOrder()
	// A SATA disk needs the device model's AHCI controller.
	for _, disk := range devices(d).Disks {
		if disk.Target != nil && disk.Target.Bus == "sata" {
			h.HDType = "ahci"
			break
		}
	}
	t.directBoot(b)
	if os := d.OS; os != nil && (os.Firmware == "efi" || (os.Loader != nil && os.Loader.Type == "pflash")) {
		h.BIOS = "ovmf"
		if os.Loader != nil && os.Loader.Path != "" {
			h.SystemFirmware = os.Loader.Path
		}
	}
	if emu := devices(d).Emulator; emu != "" {
		if err := t.host.checkEmulator(emu); err != nil {
			return err
		}
		b.DeviceModel = emu
		b.DeviceModelVersion = "qemu_xen"
	}
	if err := t.hvmSerials(h); err != nil {
		return err
	}
	if len(devices(d).Parallels) > 0 {
		return unsupported("Parallel devices are not supported by libxl")
	}
	// VNC and SDL stay off until a graphics device turns them on.
	h.VNC.Enable = libxltypes.False
	h.SDL.Enable = libxltypes.False
	if err := t.usbInputs(h); err != nil {
		return err
	}
	return t.viridian(h)
}

func (t *translation) acpiTables(h *libxltypes.HVMInfo) error {
	os := t.d.OS
	if os == nil || os.ACPI == nil {
		return nil
	}
	for _, tb := range os.ACPI.Tables {
		// 'rawset' is libvirt 11's name for tables libxl loads as they
		// are; 'slic' is the older spelling for the same thing.
		if tb.Type != "slic" && tb.Type != "rawset" {
			return unsupported("ACPI table type '%s' is not supported", tb.Type)
		}
		h.ACPIFirmware = tb.Path
	}
	return nil
}

func (t *translation) bootOrder() string {
	var order []byte
	if os := t.d.OS; os != nil {
		for _, bd := range os.BootDevices {
			c, ok := bootDevices[bd.Dev]
			if !ok {
				c = 'c'
			}
			order = append(order, c)
		}
	}
	if len(order) == 0 {
		return "c"
	}
	return string(order)
}

// hvmSerials is one serial as "serial", several as "serial_list".
func (t *translation) hvmSerials(h *libxltypes.HVMInfo) error {
	serials := devices(t.d).Serials
	var list []string
	for i := range serials {
		s, err := chardevString(serials[i].Source, serials[i].Protocol)
		if err != nil {
			return err
		}
		list = append(list, s)
	}
	switch len(list) {
	case 0:
	case 1:
		h.Serial = list[0]
	default:
		h.SerialList = list
	}
	return nil
}

// usbInputs are the USB mice and tablets, emulated by the device model.
func (t *translation) usbInputs(h *libxltypes.HVMInfo) error {
	for _, in := range devices(t.d).Inputs {
		if in.Bus != "usb" {
			continue
		}
		switch in.Type {
		case "mouse", "tablet":
			h.USBDeviceList = append(h.USBDeviceList, in.Type)
		default:
			return unsupported("Unknown input device type")
		}
	}
	return nil
}

// chardevString is libxlMakeChrdevStr: a character device as QEMU's
// -serial argument.
func chardevString(src *libvirtxml.DomainChardevSource, proto *libvirtxml.DomainChardevProtocol) (string, error) {
	if src == nil {
		return "pty", nil
	}
	switch {
	case src.Null != nil:
		return "null", nil
	case src.StdIO != nil:
		return "stdio", nil
	case src.VC != nil:
		return "vc", nil
	case src.Pty != nil:
		return "pty", nil
	case src.File != nil:
		return "file:" + src.File.Path, nil
	case src.Pipe != nil:
		return "pipe:" + src.Pipe.Path, nil
	case src.Dev != nil:
		return src.Dev.Path, nil
	case src.UDP != nil:
		u := src.UDP
		bindService := u.BindService
		if bindService == "" {
			bindService = "0"
		}
		return "udp:" + u.ConnectHost + ":" + u.ConnectService + "@" + u.BindHost + ":" + bindService, nil
	case src.TCP != nil:
		prefix := "tcp"
		if proto != nil && proto.Type == "telnet" {
			prefix = "telnet"
		}
		s := prefix + ":" + src.TCP.Host + ":" + src.TCP.Service
		if src.TCP.Mode == "bind" {
			s += ",server,nowait"
		}
		return s, nil
	case src.UNIX != nil:
		s := "unix:" + src.UNIX.Path
		if src.UNIX.Mode == "bind" {
			s += ",server,nowait"
		}
		return s, nil
	}
	return "", unsupported("unsupported chardev '%s'", chardevType(src))
}

func chardevType(src *libvirtxml.DomainChardevSource) string {
	switch {
	case src.SpiceVMC != nil:
		return "spicevmc"
	case src.SpicePort != nil:
		return "spiceport"
	case src.NMDM != nil:
		return "nmdm"
	}
	return "unknown"
}
