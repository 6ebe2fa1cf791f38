package domxml

import (
	"math"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virstring"
)

// postParse runs, in libvirt's order, virDomainAssignControllerIndexes,
// libxlDomainDefPostParse, the per-device callbacks (libxl's, then the
// generic ones) and virDomainDefPostParseCommon.
func postParse(d *libvirtxml.Domain, o *Options) error {
	assignControllerIndexes(d)
	libxlPostParse(d)
	if err := devicesPostParse(d); err != nil {
		return err
	}
	return commonPostParse(d)
}

// libxlPostParse is libxlDomainDefPostParse.
func libxlPostParse(d *libvirtxml.Domain) {
	kind := KindOf(d)
	dev := d.Devices
	// Xen PV and PVH guests always have a PV console.
	if kind != HVM && len(dev.Consoles) == 0 {
		zero := uint(0)
		dev.Consoles = append(dev.Consoles, libvirtxml.DomainConsole{
			Source: &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}},
			Target: &libvirtxml.DomainConsoleTarget{Type: "xen", Port: &zero},
		})
	}
	bus := "xen"
	if kind == HVM {
		bus = "ps2"
	}
	maybeAddInput(d, "mouse", bus)
	maybeAddInput(d, "keyboard", bus)
	if kind == HVM && d.OS.Type.Arch == "x86_64" {
		features(d).PAE = &libvirtxml.DomainFeature{}
		if d.CPU != nil && d.CPU.Numa != nil && len(d.CPU.Numa.Cell) > 0 {
			features(d).ACPI = &libvirtxml.DomainFeature{}
		}
	}
	if dev.MemBalloon == nil {
		dev.MemBalloon = &libvirtxml.DomainMemBalloon{Model: "xen"}
	}
	if !hasController(d, "xenbus") {
		addController(d, "xenbus", 0)
	}
}

func features(d *libvirtxml.Domain) *libvirtxml.DomainFeatureList {
	if d.Features == nil {
		d.Features = &libvirtxml.DomainFeatureList{}
	}
	return d.Features
}

// maybeAddInput is virDomainDefMaybeAddInput: add unless one of the same
// type and bus exists.
func maybeAddInput(d *libvirtxml.Domain, typ, bus string) {
	for _, in := range d.Devices.Inputs {
		if in.Type == typ && in.Bus == bus {
			return
		}
	}
	d.Devices.Inputs = append(d.Devices.Inputs, libvirtxml.DomainInput{Type: typ, Bus: bus})
}

// commonPostParse is virDomainDefPostParseCommon for what Xen guests use.
func commonPostParse(d *libvirtxml.Domain) error {
	if err := memoryPostParse(d); err != nil {
		return err
	}
	if err := rejectDuplicateControllers(d); err != nil {
		return err
	}
	if KindOf(d) == HVM {
		if err := bootOrderPostParse(d); err != nil {
			return err
		}
	}
	if err := timersPostParse(d); err != nil {
		return err
	}
	if err := consoleCompat(d); err != nil {
		return err
	}
	if err := addImplicitControllers(d); err != nil {
		return err
	}
	addImplicitVideo(d)
	if vs := d.Devices.Videos; len(vs) > 0 && vs[0].Model.Type == "none" {
		// virDomainDefPostParseVideo: a "none" video keeps only its
		// alias; nothing filled in, and it is not marked primary
		vs[0] = libvirtxml.DomainVideo{Model: libvirtxml.DomainVideoModel{Type: "none"}, Alias: vs[0].Alias}
	} else if len(vs) > 0 {
		vs[0].Model.Primary = "yes"
		videoPostParse(d, &vs[0])
	}
	if len(d.Devices.Serials) > 0 {
		serialPortPostParse(d, 0)
	}
	defaultLifecycle(d)
	return nil
}

// memoryPostParse is virDomainDefPostParseMemory: the size may come from
// the vNUMA cells, must be set, and bounds the balloon.
func memoryPostParse(d *libvirtxml.Domain) error {
	var numaKiB uint
	if d.Memory == nil && d.CPU != nil && d.CPU.Numa != nil {
		for _, c := range d.CPU.Numa.Cell {
			numaKiB += cellKiB(c)
		}
	}
	if numaKiB > 0 {
		d.Memory = &libvirtxml.DomainMemory{Value: numaKiB, Unit: "KiB"}
	}
	if d.Memory == nil || d.Memory.Value == 0 {
		return xmlErr("Memory size must be specified via <memory> or in the <numa> configuration")
	}
	if d.CurrentMemory == nil {
		d.CurrentMemory = &libvirtxml.DomainCurrentMemory{Unit: "KiB"}
	}
	if d.CurrentMemory.Value == 0 || d.CurrentMemory.Value > d.Memory.Value {
		d.CurrentMemory.Value = d.Memory.Value
	}
	if d.MaximumMemory != nil && d.MaximumMemory.Value < d.Memory.Value {
		return xmlErr("maximum memory size must be equal or greater than the actual memory size")
	}
	return nil
}

func cellKiB(c libvirtxml.DomainCell) uint {
	bytes, err := virstring.ScaleInteger(uint64(c.Memory), c.Unit, 1024, math.MaxInt64)
	if err != nil {
		return 0
	}
	return uint((bytes + 1023) / 1024)
}

// bootOrderPostParse: per-device <boot order> and <os><boot> exclude each
// other; with neither, an HVM guest boots from disk.
func bootOrderPostParse(d *libvirtxml.Domain) error {
	orders := deviceBootOrders(d)
	seen := map[uint]bool{}
	for _, o := range orders {
		if seen[o] {
			return unsupported("boot order '%d' used for more than one device", o)
		}
		seen[o] = true
	}
	if len(d.OS.BootDevices) > 0 && len(orders) > 0 {
		return unsupported("per-device boot elements cannot be used together with os/boot elements")
	}
	if len(d.OS.BootDevices) == 0 && len(orders) == 0 {
		d.OS.BootDevices = []libvirtxml.DomainBootDevice{{Dev: "hd"}}
	}
	return nil
}

func deviceBootOrders(d *libvirtxml.Domain) []uint {
	var out []uint
	for _, x := range d.Devices.Disks {
		if x.Boot != nil {
			out = append(out, x.Boot.Order)
		}
	}
	for _, x := range d.Devices.Interfaces {
		if x.Boot != nil {
			out = append(out, x.Boot.Order)
		}
	}
	for _, x := range d.Devices.Hostdevs {
		if x.Boot != nil {
			out = append(out, x.Boot.Order)
		}
	}
	return out
}

// timersPostParse holds virDomainDefPostParseTimer's checks.
func timersPostParse(d *libvirtxml.Domain) error {
	if d.Clock == nil {
		return nil
	}
	for _, t := range d.Clock.Timer {
		if (t.Name == "kvmclock" || t.Name == "hypervclock") && t.TickPolicy != "" {
			return unsupported("timer %s doesn't support setting of timer tickpolicy", t.Name)
		}
		if t.TickPolicy != "catchup" && t.CatchUp != nil {
			return xmlErr("setting of timer catchup policies is only supported with tickpolicy='catchup'")
		}
		if t.Name != "tsc" {
			if t.Frequency != 0 {
				return unsupported("timer %s doesn't support setting of timer frequency", t.Name)
			}
			if t.Mode != "" {
				return unsupported("timer %s doesn't support setting of timer mode", t.Name)
			}
		}
		if t.Name != "platform" && t.Name != "rtc" && t.Track != "" {
			return unsupported("timer %s doesn't support setting of timer track", t.Name)
		}
	}
	return nil
}

// defaultLifecycle fills what libvirt always prints: the clock and the
// three lifecycle actions.
func defaultLifecycle(d *libvirtxml.Domain) {
	if d.Clock == nil {
		d.Clock = &libvirtxml.DomainClock{Offset: "utc"}
	}
	if d.Clock.Offset == "" {
		d.Clock.Offset = "utc"
	}
	if d.OnPoweroff == "" {
		d.OnPoweroff = "destroy"
	}
	if d.OnReboot == "" {
		d.OnReboot = "restart"
	}
	if d.OnCrash == "" {
		d.OnCrash = "destroy"
	}
}
