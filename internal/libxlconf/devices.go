package libxlconf

import (
	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"
	"strconv"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// diskFormats maps <driver type=...> to libxl_disk_format.
var diskFormats = map[string]string{
	"qcow": "qcow", "qcow2": "qcow2", "vhd": "vhd", "raw": "raw", "qed": "qed",
}

func (t *translation) disks(c *libxltypes.DomainConfig) error {
	for i := range devices(t.d).Disks {
		x, err := makeDisk(&devices(t.d).Disks[i], t.host.SecretValue)
		if err != nil {
			return err
		}
		c.Disks = append(c.Disks, x)
	}
	return nil
}

// makeDisk is libxlMakeDisk: file and block sources, and RBD network disks
// (whose key secret gives).
func makeDisk(d *libvirtxml.DomainDisk, secret func(*libvirtxml.DomainDiskAuth) ([]byte, error)) (libxltypes.Disk, error) {
	var x libxltypes.Disk
	if d.Target == nil || d.Target.Dev == "" {
		return x, unsupported("disk is missing a target device")
	}
	x.Vdev = d.Target.Dev
	if src := d.Source; src != nil {
		switch {
		case src.File != nil:
			x.PdevPath = src.File.File
		case src.Block != nil:
			x.PdevPath = src.Block.Dev
		case src.Network != nil:
			if d.Driver == nil || d.Driver.Name != "qemu" {
				return x, virerr.New(virerr.FromLibxl, libvirt.ErrOperationInvalid,
					"only the 'qemu' driver can be used with network disks")
			}
			p, err := networkDiskPath(src.Network, d, secret)
			if err != nil {
				return x, err
			}
			x.PdevPath = p
		case src.Volume != nil, src.Dir != nil, src.NVME != nil:
			return x, unsupported("disk source of disk '%s' is not supported by libxl", x.Vdev)
		}
	}
	if err := diskDriver(d, &x); err != nil {
		return x, err
	}
	if d.Transient != nil {
		return x, unsupported("libxenlight does not support transient disks")
	}
	if x.PdevPath == "" && d.Device == "cdrom" {
		x.Format = "empty"
	}
	if d.BackendDomain != nil {
		x.BackendDomname = d.BackendDomain.Name
	}
	x.Removable = 1
	readonly := d.ReadOnly != nil || d.Device == "cdrom"
	if !readonly {
		x.Readwrite = 1
	}
	// Floppies and LUNs pass as plain disks, as in libvirt.
	if d.Device == "cdrom" {
		x.IsCDROM = 1
	}
	if d.Driver != nil && d.Driver.Cache == "directsync" {
		x.DirectIOSafe = true
	}
	if d.Driver != nil && x.Readwrite == 1 {
		switch d.Driver.Discard {
		case "unmap":
			x.DiscardEnable = libxltypes.True
		case "ignore":
			x.DiscardEnable = libxltypes.False
		}
	}
	return x, nil
}

// diskDriver chooses libxl's backend and format from <driver name type>.
func diskDriver(d *libvirtxml.DomainDisk, x *libxltypes.Disk) error {
	name, typ := "", ""
	if d.Driver != nil {
		name, typ = d.Driver.Name, d.Driver.Type
	}
	switch name {
	case "":
		// No driver: raw, as xl-disk-configuration(5) says, and libxl
		// picks the backend.
		x.Format = "raw"
	case "tap", "tap2", "qemu":
		f := "raw"
		if typ != "" {
			var ok bool
			if f, ok = diskFormats[typ]; !ok {
				return unsupported("libxenlight does not support disk format %s with disk driver %s", typ, name)
			}
		}
		x.Format = f
		x.Backend = "qdisk"
		if name != "qemu" && (f == "raw" || f == "vhd") {
			// blktap handles only these; qcow, qcow2 and qed need QEMU.
			x.Backend = "tap"
		}
	case "file":
		if typ != "" && typ != "raw" {
			return unsupported("libxenlight does not support disk format %s with disk driver %s", typ, name)
		}
		x.Format = "raw"
		x.Backend = "qdisk"
	case "phy":
		if typ != "" && typ != "raw" {
			return unsupported("libxenlight does not support disk format %s with disk driver %s", typ, name)
		}
		x.Format = "raw"
		x.Backend = "phy"
	default:
		return unsupported("libxenlight does not support disk driver %s", name)
	}
	return nil
}

// nics are the guest's interfaces, numbered in order; hostdev interfaces
// are PCI passthrough and go to pcidevs instead.
func (t *translation) nics(c *libxltypes.DomainConfig) error {
	for i := range devices(t.d).Interfaces {
		ifc := &devices(t.d).Interfaces[i]
		if ifc.Source != nil && ifc.Source.Hostdev != nil {
			continue
		}
		n, err := t.makeNIC(ifc, len(c.NICs))
		if err != nil {
			return err
		}
		c.NICs = append(c.NICs, n)
	}
	return nil
}

// makeNIC is libxlMakeNic.
func (t *translation) makeNIC(ifc *libvirtxml.DomainInterface, devid int) (libxltypes.NIC, error) {
	n := libxltypes.NIC{DevID: devid, NICType: "vif"}
	if t.hvm() {
		n.NICType = "vif_ioemu"
	}
	if ifc.MAC != nil {
		n.MAC = ifc.MAC.Address
	}
	if ifc.Model != nil && ifc.Model.Type != "" {
		model := ifc.Model.Type
		if (t.kind == domxml.PV || t.kind == domxml.PVH) && model != "netfront" {
			return n, unsupported("only model 'netfront' is supported for Xen PV(H) domains")
		}
		n.Model = model
		if model == "netfront" {
			n.NICType = "vif"
		}
	}
	if ifc.Target != nil && ifc.Target.Dev != "" {
		n.Ifname = ifc.Target.Dev
	}
	src := ifc.Source
	if ifc.Script != nil {
		if src == nil || (src.Bridge == nil && src.Ethernet == nil) {
			return n, unsupported("specifying a script is only supported with interface types bridge and ethernet")
		}
		n.Script = ifc.Script.Path
	}
	if ifc.BackendDomain != nil {
		n.BackendDomname = ifc.BackendDomain.Name
	}
	if ifc.MTU != nil {
		n.MTU = ifc.MTU.Size
	}
	if len(ifc.IP) > 0 {
		// libxl takes one address; libvirt passes the first.
		n.IP = ifc.IP[0].Address
	}
	switch {
	case src != nil && src.Bridge != nil:
		n.Bridge = src.Bridge.Bridge
		openvswitch(ifc, &n)
	case src != nil && src.Ethernet != nil:
	case src != nil && src.Network != nil && t.host.NetworkBridge != nil:
		br, err := t.host.NetworkBridge(src.Network.Network)
		if err != nil {
			return n, err
		}
		n.Bridge = br
	case src == nil:
		return n, unsupported("interface with MAC '%s' has no source", n.MAC)
	default:
		return n, unsupported("unsupported interface type %s", interfaceType(src))
	}
	n.RateBytes, n.RateInterval = VifRate(ifc.Bandwidth)
	return n, nil
}

// openvswitch: on an Open vSwitch bridge, Xen's vif-openvswitch script
// (unless one is named) reads the VLAN from libxl's extended bridge name,
// BRIDGE.TAG or BRIDGE:TAG:TAG for a trunk.
func openvswitch(ifc *libvirtxml.DomainInterface, n *libxltypes.NIC) {
	vp := ifc.VirtualPort
	if vp == nil || vp.Params == nil || vp.Params.OpenVSwitch == nil {
		return
	}
	if n.Script == "" {
		n.Script = "vif-openvswitch"
	}
	v := ifc.VLan
	if v == nil || len(v.Tags) == 0 {
		return
	}
	if v.Trunk != "yes" {
		n.Bridge += "." + strconv.FormatUint(uint64(v.Tags[0].ID), 10)
		return
	}
	for _, tag := range v.Tags {
		n.Bridge += ":" + strconv.FormatUint(uint64(tag.ID), 10)
	}
}

// vifRateInterval is xl's default credit interval, 50 ms.
const vifRateInterval = 50000

// VifRate turns the outbound average (KiB/s) into libxl's credit per
// interval, as xl does when no interval is given (0, 0: no limit).
func VifRate(bw *libvirtxml.DomainInterfaceBandwidth) (uint64, uint32) {
	if bw == nil || bw.Outbound == nil || bw.Outbound.Average == nil || *bw.Outbound.Average <= 0 {
		return 0, 0
	}
	bytesPerSec := uint64(*bw.Outbound.Average) * 1024
	return bytesPerSec * vifRateInterval / 1000000, vifRateInterval
}

func interfaceType(s *libvirtxml.DomainInterfaceSource) string {
	switch {
	case s.Network != nil:
		return "network"
	case s.Direct != nil:
		return "direct"
	case s.User != nil:
		return "user"
	case s.VHostUser != nil:
		return "vhostuser"
	}
	return "unknown"
}

// pcidevs are PCI hostdevs and hostdev interfaces, passed through.
func (t *translation) pcidevs(c *libxltypes.DomainConfig) error {
	devs := devices(t.d)
	for i := range devs.Interfaces {
		ifc := &devs.Interfaces[i]
		if ifc.Source == nil || ifc.Source.Hostdev == nil {
			continue
		}
		if ifc.Source.Hostdev.PCI == nil {
			return unsupported("only PCI hostdev interfaces are supported by libxl")
		}
		p, err := makePCI(ifc.Source.Hostdev.PCI)
		if err != nil {
			return err
		}
		c.PCIDevs = append(c.PCIDevs, p)
	}
	for i := range devs.Hostdevs {
		h := &devs.Hostdevs[i]
		if h.SubsysUSB != nil {
			continue // usb, below
		}
		if h.SubsysPCI == nil {
			return unsupported("only PCI and USB host devices are supported by libxl")
		}
		p, err := makePCI(h.SubsysPCI.Source)
		if err != nil {
			return err
		}
		c.PCIDevs = append(c.PCIDevs, p)
	}
	return nil
}

func makePCI(src *libvirtxml.DomainHostdevSubsysPCISource) (libxltypes.PCIDev, error) {
	var p libxltypes.PCIDev
	if src == nil || src.Address == nil {
		return p, unsupported("PCI host device has no source address")
	}
	a := src.Address
	val := func(v *uint) uint {
		if v == nil {
			return 0
		}
		return *v
	}
	p.Domain, p.Bus, p.Dev, p.Func = val(a.Domain), val(a.Bus), val(a.Slot), val(a.Function)
	p.Permissive = src.WriteFiltering == "no"
	p.RDMPolicy = "invalid"
	return p, nil
}
