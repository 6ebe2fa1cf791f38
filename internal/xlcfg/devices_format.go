package xlcfg

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"
)

func derefU(p *uint) uint {
	if p == nil {
		return 0
	}
	return *p
}

// formatPCIs is xenFormatPCI.
func formatPCIs(o *out, d *libvirtxml.Domain) {
	var l []value
	for _, h := range d.Devices.Hostdevs {
		if h.SubsysPCI == nil || h.SubsysPCI.Source == nil || h.SubsysPCI.Source.Address == nil {
			continue
		}
		src := h.SubsysPCI.Source
		a := src.Address
		perm := map[string]string{"yes": ",permissive=0", "no": ",permissive=1"}[src.WriteFiltering]
		l = append(l, strVal(fmt.Sprintf("%04x:%02x:%02x.%x%s", derefU(a.Domain), derefU(a.Bus),
			derefU(a.Slot), derefU(a.Function), perm)))
	}
	if len(l) > 0 {
		o.set("pci", listVal(l...))
	}
}

// formatSound is xenFormatSound.
func formatSound(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) || len(d.Devices.Sounds) == 0 {
		return
	}
	ms := make([]string, len(d.Devices.Sounds))
	for i, s := range d.Devices.Sounds {
		ms[i] = escapeSexpr(s.Model)
	}
	o.setStr("soundhw", strings.Join(ms, ","))
}

func usbInputNames(d *libvirtxml.Domain, o *out) []string {
	var names []string
	for _, in := range d.Devices.Inputs {
		if in.Bus != "usb" {
			continue
		}
		o.setInt("usb", 1)
		switch in.Type {
		case "mouse", "tablet":
			names = append(names, in.Type)
		case "keyboard":
			names = append(names, "keyboard")
		}
	}
	return names
}

// formatXLInputs is xenFormatXLInputDevs.
func formatXLInputs(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) {
		return
	}
	names := usbInputNames(d, o)
	switch {
	case len(names) == 1:
		o.setStr("usbdevice", names[0])
	case len(names) > 1:
		o.set("usbdevice", strList(names))
	}
}

// formatXMInputs is xenFormatXMInputDevs: the first USB input only.
func formatXMInputs(o *out, d *libvirtxml.Domain) {
	if !isHVM(d) {
		return
	}
	for _, in := range d.Devices.Inputs {
		if in.Bus != "usb" {
			continue
		}
		o.setInt("usb", 1)
		switch in.Type {
		case "mouse", "tablet", "keyboard":
			o.setStr("usbdevice", in.Type)
			return
		}
	}
}

// formatUSBDevs is xenFormatXLUSB.
func formatUSBDevs(o *out, d *libvirtxml.Domain) {
	var l []value
	for _, h := range d.Devices.Hostdevs {
		u := h.SubsysUSB
		if u == nil || u.Source == nil || u.Source.Address == nil {
			continue
		}
		l = append(l, strVal(fmt.Sprintf("hostbus=%x,hostaddr=%x", derefU(u.Source.Address.Bus),
			derefU(u.Source.Address.Device))))
	}
	if len(l) > 0 {
		o.set("usbdev", listVal(l...))
	}
}

// formatUSBCtrls is xenFormatXLUSBController: only qusb models can be
// written.
func formatUSBCtrls(o *out, d *libvirtxml.Domain) error {
	var l []value
	for _, c := range d.Devices.Controllers {
		if c.Type != "usb" {
			continue
		}
		var b strings.Builder
		switch c.Model {
		case "":
		case "qusb1":
			b.WriteString("type=qusb,version=1,")
		case "qusb2":
			b.WriteString("type=qusb,version=2,")
		default:
			return unsupportedf("unsupported USB controller model '%s' for xen-xl", c.Model)
		}
		if c.USB != nil && c.USB.Port != nil {
			fmt.Fprintf(&b, "ports=%x", *c.USB.Port)
		}
		l = append(l, strVal(b.String()))
	}
	if len(l) > 0 {
		o.set("usbctrl", listVal(l...))
	}
	return nil
}

// formatXenbus is xenFormatXLXenbusLimits.
func formatXenbus(o *out, d *libvirtxml.Domain) {
	for _, c := range d.Devices.Controllers {
		if c.Type != "xenbus" || c.XenBus == nil {
			continue
		}
		if c.XenBus.MaxEventChannels > 0 {
			o.setInt("max_event_channels", int64(c.XenBus.MaxEventChannels))
		}
		if c.XenBus.MaxGrantFrames > 0 {
			o.setInt("max_grant_frames", int64(c.XenBus.MaxGrantFrames))
		}
	}
}

// formatDMArgs is xenFormatXLDomainNamespaceData.
func formatDMArgs(o *out, d *libvirtxml.Domain) {
	if d.XenCommandline == nil || len(d.XenCommandline.Args) == 0 {
		return
	}
	args := make([]string, len(d.XenCommandline.Args))
	for i, a := range d.XenCommandline.Args {
		args[i] = a.Value
	}
	o.set("device_model_args", strList(args))
}
