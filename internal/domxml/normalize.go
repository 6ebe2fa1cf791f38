package domxml

import (
	"fmt"
	"io"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// normalize applies what libvirt's parser itself decides while reading
// (before any post-parse callback): ids, uuid, os type, sizes in KiB,
// vcpu defaults, graphics listens, generated MACs, console ports.
func normalize(d *libvirtxml.Domain, root *node, o *Options) error {
	if !o.Live {
		d.ID = nil
	}
	if err := normalizeUUID(d, o.Rand); err != nil {
		return err
	}
	normalizeOS(d, o)
	if err := normalizeMemory(d, root); err != nil {
		return err
	}
	normalizeVCPU(d)
	normalizeCPUSets(d)
	if d.Devices == nil {
		d.Devices = &libvirtxml.DomainDeviceList{}
	}
	if err := normalizeGraphics(d, root, o.Live); err != nil {
		return err
	}
	if err := normalizeInterfaces(d, o.Rand); err != nil {
		return err
	}
	if !o.Live {
		for i := range d.Devices.Interfaces {
			dropGeneratedIfname(&d.Devices.Interfaces[i])
		}
		dropGeneratedAliases(d.Devices)
	}
	normalizeChars(d)
	movePrimaryVideo(d)
	normalizeFeatures(d)
	normalizeClock(d)
	normalizeDiskDrivers(d)
	sanitizeMetadata(d)
	return nil
}

// normalizeClock: a number of seconds as the adjustment of a utc or
// localtime clock makes it a variable clock with that basis
// (virDomainDefClockParse), which is how libvirt formats it.
func normalizeClock(d *libvirtxml.Domain) {
	c := d.Clock
	if c == nil || (c.Offset != "utc" && c.Offset != "localtime") || c.Adjustment == "" || c.Adjustment == "reset" {
		return
	}
	c.Offset, c.Basis = "variable", c.Offset
}

// normalizeDiskDrivers drops the disk <driver> attributes given as
// "default" that libvirt reads as unset and so does not format: cache,
// ioeventfd, event_idx, copy_on_read (virDomainDiskDefDriverParseXML). The
// others refuse "default".
func normalizeDiskDrivers(d *libvirtxml.Domain) {
	for i := range d.Devices.Disks {
		drv := d.Devices.Disks[i].Driver
		if drv == nil {
			continue
		}
		for _, a := range []*string{&drv.Cache, &drv.IOEventFD, &drv.EventIDX, &drv.CopyOnRead} {
			if *a == "default" {
				*a = ""
			}
		}
	}
}

// movePrimaryVideo: the parser puts the video marked primary first.
func movePrimaryVideo(d *libvirtxml.Domain) {
	v := d.Devices.Videos
	for i := 1; i < len(v); i++ {
		if v[i].Model.Primary == "yes" {
			p := v[i]
			copy(v[1:i+1], v[0:i])
			v[0] = p
			return
		}
	}
}

func normalizeUUID(d *libvirtxml.Domain, r io.Reader) error {
	if d.UUID == "" {
		u, err := NewUUID(r)
		if err != nil {
			return internalErr("Failed to generate UUID")
		}
		d.UUID = u
		return nil
	}
	u, _ := parseUUID(d.UUID)
	d.UUID = u
	return nil
}

// NewUUID returns a random (version 4) UUID in libvirt's text form.
func NewUUID(r io.Reader) (string, error) {
	var b [16]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return "", err
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16]), nil
}

// normalizeOS: no os type with a bootloader means PV; libvirt stores PV
// as "xen" and prints it as "linux" for Xen domains, so the model keeps
// "linux". The arch defaults to the host's.
func normalizeOS(d *libvirtxml.Domain, o *Options) {
	if d.OS == nil {
		d.OS = &libvirtxml.DomainOS{}
	}
	if d.OS.Type == nil {
		d.OS.Type = &libvirtxml.DomainOSType{}
	}
	t := d.OS.Type
	if t.Type == "" {
		t.Type = "xen"
	}
	if t.Type == "xen" && d.Type == "xen" {
		t.Type = "linux"
	}
	if t.Arch == "" {
		t.Arch = o.HostArch
	}
	if d.OS.Loader != nil && d.OS.Loader.Path != "" && d.OS.Loader.Type == "" {
		d.OS.Loader.Type = "rom"
	}
}

func normalizeMemory(d *libvirtxml.Domain, root *node) error {
	if n := root.child("memory"); n != nil {
		kib, _ := scaledKiB(n, "")
		d.Memory.Value, d.Memory.Unit = uint(kib), "KiB"
	} else {
		d.Memory = nil
	}
	if n := root.child("currentMemory"); n != nil {
		kib, _ := scaledKiB(n, "")
		d.CurrentMemory.Value, d.CurrentMemory.Unit = uint(kib), "KiB"
	} else {
		d.CurrentMemory = nil
	}
	if n := root.child("maxMemory"); n != nil {
		kib, _ := scaledKiB(n, "")
		d.MaximumMemory.Value, d.MaximumMemory.Unit = uint(kib), "KiB"
	} else {
		d.MaximumMemory = nil
	}
	return nil
}

func normalizeVCPU(d *libvirtxml.Domain) {
	if d.VCPU == nil {
		d.VCPU = &libvirtxml.DomainVCPU{Value: 1}
	}
	if d.VCPU.Placement == "" {
		d.VCPU.Placement = "static"
	}
	if d.VCPU.Placement == "auto" {
		d.VCPU.CPUSet = ""
	}
	if d.VCPU.Current == d.VCPU.Value {
		d.VCPU.Current = 0
	}
}

// normalizeInterfaces gives every interface without a MAC one in Xen's
// OUI 00:16:3e, as libvirt does with the libxl parser config's macPrefix.
func normalizeInterfaces(d *libvirtxml.Domain, r io.Reader) error {
	for i := range d.Devices.Interfaces {
		if _, err := normalizeMAC(&d.Devices.Interfaces[i], r); err != nil {
			return err
		}
	}
	return nil
}

// normalizeMAC checks an interface's MAC, or gives it one when it has none
// (and reports that it did: libvirt's mac_generated).
func normalizeMAC(n *libvirtxml.DomainInterface, r io.Reader) (generated bool, err error) {
	if n.MAC != nil && n.MAC.Address != "" {
		return false, checkMAC(&n.MAC.Address)
	}
	var b [3]byte
	if _, err := io.ReadFull(r, b[:]); err != nil {
		return false, internalErr("Failed to generate MAC address")
	}
	if n.MAC == nil {
		n.MAC = &libvirtxml.DomainInterfaceMAC{}
	}
	n.MAC.Address = fmt.Sprintf("00:16:3e:%02x:%02x:%02x", b[0], b[1], b[2])
	return true, nil
}

// generatedIfnamePrefixes are the prefixes of the host-side interface
// names libvirt makes up (VIR_NET_GENERATED_VNET_PREFIX, _MACVTAP_,
// _MACVLAN_, and the libxl driver's netPrefix "vif"): a definition does
// not keep them, and the inactive view does not show them.
var generatedIfnamePrefixes = []string{"vnet", "macvtap", "macvlan", "vif"}

// isGeneratedIfname reports whether an interface's target is a made-up
// name that belongs to one run of the guest.
func isGeneratedIfname(ifc *libvirtxml.DomainInterface) bool {
	t := ifc.Target
	if t == nil || t.Dev == "" || t.Managed == "no" {
		return false
	}
	for _, p := range generatedIfnamePrefixes {
		if strings.HasPrefix(t.Dev, p) {
			return true
		}
	}
	return false
}

// DropGeneratedIfnames blanks every made-up interface name of d, as
// libvirt's libxl driver does when a guest stops (libxlNetworkUnwindDevices):
// the names belong to that run.
func DropGeneratedIfnames(d *libvirtxml.Domain) {
	if d == nil || d.Devices == nil {
		return
	}
	for i := range d.Devices.Interfaces {
		dropGeneratedIfname(&d.Devices.Interfaces[i])
	}
}

// dropGeneratedIfname blanks a made-up target name, as
// virDomainNetDefParseXML does when parsing an inactive definition.
func dropGeneratedIfname(ifc *libvirtxml.DomainInterface) {
	if !isGeneratedIfname(ifc) {
		return
	}
	ifc.Target.Dev = ""
	if ifc.Target.Managed == "" {
		ifc.Target = nil
	}
}

// normalizeChars: console target ports are their index in the list
// (libvirt overrides whatever the XML says); serials and parallels
// without a port get one after the highest in use, later, in post-parse.
func normalizeChars(d *libvirtxml.Domain) {
	for i := range d.Devices.Consoles {
		c := &d.Devices.Consoles[i]
		if c.Target == nil {
			c.Target = &libvirtxml.DomainConsoleTarget{}
		}
		p := uint(i)
		c.Target.Port = &p
		if c.Source == nil {
			c.Source = &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}}
		}
	}
	for i := range d.Devices.Serials {
		if d.Devices.Serials[i].Source == nil {
			d.Devices.Serials[i].Source = &libvirtxml.DomainChardevSource{Pty: &libvirtxml.DomainChardevSourcePty{}}
		}
	}
}

// normalizeFeatures: features with a state attribute print it; a bare
// <hap/> means on.
func normalizeFeatures(d *libvirtxml.Domain) {
	f := d.Features
	if f == nil {
		return
	}
	for _, st := range []*libvirtxml.DomainFeatureState{f.HAP, f.PMU, f.PVSpinlock,
		f.VMPort, f.HTM, f.NestedHV, f.VMCoreInfo, f.CCFAssist} {
		if st != nil && st.State == "" {
			st.State = "on"
		}
	}
	// <hyperv> without a mode is the custom one, which libvirt formats
	if f.HyperV != nil && f.HyperV.Mode == "" {
		f.HyperV.Mode = "custom"
	}
}
