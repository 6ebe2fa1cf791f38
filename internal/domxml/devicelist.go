package domxml

import (
	"fmt"
	"strconv"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/virerr"
)

// The lookups and insertions of domain_conf.c that device hotplug uses,
// on a definition's device lists. None of them changes anything but the
// definition given, which callers own (a copy of the domain's).

// DiskIndexByName is virDomainDiskIndexByName: the disk whose target is
// name or, for a name starting with '/', whose source path is name (the
// first with ambiguous, else the only one); -1 if none.
func DiskIndexByName(d *libvirtxml.Domain, name string, ambiguous bool) int {
	if d.Devices == nil {
		return -1
	}
	candidate := -1
	for i, disk := range d.Devices.Disks {
		if len(name) == 0 || name[0] != '/' {
			if disk.Target != nil && disk.Target.Dev == name {
				return i
			}
			continue
		}
		if diskSourceName(disk) != name {
			continue
		}
		if ambiguous {
			return i
		}
		if candidate >= 0 {
			return -1
		}
		candidate = i
	}
	return candidate
}

// InsertDisk is virDomainDiskInsert: after the disks of the same bus whose
// index is lower, before the first with a higher one, else at the end.
func InsertDisk(d *libvirtxml.Domain, disk libvirtxml.DomainDisk) {
	disks := d.Devices.Disks
	at := -1
	idx := func(x libvirtxml.DomainDisk) int {
		n, ok := diskNameToIndex(x.Target.Dev)
		if !ok {
			return -1
		}
		return int(n)
	}
	for i := len(disks) - 1; i >= 0; i-- {
		if disks[i].Target.Bus != disk.Target.Bus {
			continue
		}
		if idx(disks[i]) > idx(disk) {
			at = i
		} else if at == -1 {
			at = i + 1
		}
	}
	if at == -1 {
		at = len(disks)
	}
	disks = append(disks, libvirtxml.DomainDisk{})
	copy(disks[at+1:], disks[at:])
	disks[at] = disk
	d.Devices.Disks = disks
}

// DiskSourceName is virDomainDiskGetSource: the disk's path, volume or
// network name ("<null>" when it has none, as libvirt prints NULL).
func DiskSourceName(disk libvirtxml.DomainDisk) string { return diskSourceName(disk) }

// sameMAC compares two MAC addresses as virMacAddrCmp does.
func sameMAC(a, b *libvirtxml.DomainInterfaceMAC) bool {
	if a == nil || b == nil {
		return a == b
	}
	x, ok1 := parseMAC(a.Address)
	y, ok2 := parseMAC(b.Address)
	return ok1 && ok2 && x == y
}

func pciAddress(a *libvirtxml.DomainAddress) *libvirtxml.DomainAddressPCI {
	if a == nil {
		return nil
	}
	return a.PCI
}

func samePCI(a, b *libvirtxml.DomainAddressPCI) bool {
	v := func(p *uint) uint {
		if p == nil {
			return 0
		}
		return *p
	}
	return a != nil && b != nil && v(a.Domain) == v(b.Domain) && v(a.Bus) == v(b.Bus) &&
		v(a.Slot) == v(b.Slot) && v(a.Function) == v(b.Function)
}

// HasNet is virDomainHasNet: an interface with ifc's MAC (and PCI address,
// if ifc names one) exists.
func HasNet(d *libvirtxml.Domain, ifc *libvirtxml.DomainInterface) bool {
	pci := pciAddress(ifc.Address)
	for i := range d.Devices.Interfaces {
		o := &d.Devices.Interfaces[i]
		if !sameMAC(o.MAC, ifc.MAC) {
			continue
		}
		if pci == nil || samePCI(pciAddress(o.Address), pci) {
			return true
		}
	}
	return false
}

// FindNet is virDomainNetFindIdx: the one interface matching ifc's MAC
// (unless it was generated), PCI address and alias, with libvirt's errors
// when none or several match.
func FindNet(d *libvirtxml.Domain, ifc *libvirtxml.DomainInterface, macGenerated bool) (int, error) {
	pci := pciAddress(ifc.Address)
	mac := "(<null>)"
	if !macGenerated && ifc.MAC != nil {
		mac = ifc.MAC.Address
	}
	match := -1
	for i := range d.Devices.Interfaces {
		o := &d.Devices.Interfaces[i]
		if !macGenerated && !sameMAC(o.MAC, ifc.MAC) {
			continue
		}
		if pci != nil && !samePCI(pciAddress(o.Address), pci) {
			continue
		}
		if ifc.Alias != nil && o.Alias != nil && o.Alias.Name != ifc.Alias.Name {
			continue
		}
		if match >= 0 {
			if !macGenerated {
				return -1, domainError(libvirt.ErrOperationFailed, "multiple devices matching MAC address %s found", mac)
			}
			return -1, domainError(libvirt.ErrOperationFailed, "multiple matching devices found")
		}
		match = i
	}
	if match >= 0 {
		return match, nil
	}
	addr, alias := "(<null>)", "(<null>)"
	if pci != nil {
		addr = pciString(pci)
	}
	if ifc.Alias != nil {
		alias = ifc.Alias.Name
	}
	return -1, domainError(libvirt.ErrDeviceMissing,
		"no device found at address '%s' matching MAC address '%s' and alias '%s'", addr, mac, alias)
}

// pciString is virPCIDeviceAddressAsString: DDDD:BB:SS.F.
func pciString(a *libvirtxml.DomainAddressPCI) string {
	v := func(p *uint) uint {
		if a == nil || p == nil {
			return 0
		}
		return *p
	}
	if a == nil {
		return "0000:00:00.0"
	}
	return fmt.Sprintf("%04x:%02x:%02x.%d", v(a.Domain), v(a.Bus), v(a.Slot), v(a.Function))
}

func domainError(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromDomain, code, format, args...)
}

// FindController is virDomainControllerFind: the controller of typ with
// index idx, or -1.
func FindController(d *libvirtxml.Domain, typ string, idx uint) int {
	for i, c := range d.Devices.Controllers {
		if c.Type == typ && c.Index != nil && *c.Index == idx {
			return i
		}
	}
	return -1
}

// UnusedControllerIndex is virDomainControllerFindUnusedIndex: the lowest
// index no controller of typ has.
func UnusedControllerIndex(d *libvirtxml.Domain, typ string) uint {
	idx := uint(0)
	for FindController(d, typ, idx) >= 0 {
		idx++
	}
	return idx
}

// InsertController is virDomainControllerInsert: among the controllers of
// its type, by index.
func InsertController(d *libvirtxml.Domain, c libvirtxml.DomainController) {
	d.Devices.Controllers = insertController(d.Devices.Controllers, c)
}

// FindHostdev is virDomainHostdevFind: the host device that is the same
// host device as h (a PCI device by address; a USB device by bus and
// device, or by vendor and product), or -1.
func FindHostdev(d *libvirtxml.Domain, h *libvirtxml.DomainHostdev) int {
	for i := range d.Devices.Hostdevs {
		if sameHostdev(h, &d.Devices.Hostdevs[i]) {
			return i
		}
	}
	return -1
}

func sameHostdev(a, b *libvirtxml.DomainHostdev) bool {
	switch {
	case a.SubsysPCI != nil && b.SubsysPCI != nil:
		return samePCI(hostdevPCIAddress(a), hostdevPCIAddress(b))
	case a.SubsysUSB != nil && b.SubsysUSB != nil:
		ab, ad := USBBusDevice(a.SubsysUSB.Source)
		if ab != 0 && ad != 0 {
			bb, bd := USBBusDevice(b.SubsysUSB.Source)
			return ab == bb && ad == bd
		}
		av, ap := USBVendorProduct(a.SubsysUSB.Source)
		bv, bp := USBVendorProduct(b.SubsysUSB.Source)
		return av == bv && ap == bp
	}
	return false
}

func hostdevPCIAddress(h *libvirtxml.DomainHostdev) *libvirtxml.DomainAddressPCI {
	if h.SubsysPCI.Source == nil {
		return nil
	}
	return h.SubsysPCI.Source.Address
}

// USBBusDevice is a USB host device's bus and device number, 0 when unset.
func USBBusDevice(src *libvirtxml.DomainHostdevSubsysUSBSource) (bus, dev uint) {
	if src == nil || src.Address == nil {
		return 0, 0
	}
	if src.Address.Bus != nil {
		bus = *src.Address.Bus
	}
	if src.Address.Device != nil {
		dev = *src.Address.Device
	}
	return bus, dev
}

// USBVendorProduct is a USB host device's vendor and product ids, 0 when
// unset.
func USBVendorProduct(src *libvirtxml.DomainHostdevSubsysUSBSource) (vendor, product uint) {
	id := func(s string) uint {
		v, err := strconv.ParseUint(s, 0, 16)
		if err != nil {
			return 0
		}
		return uint(v)
	}
	if src == nil {
		return 0, 0
	}
	if src.Vendor != nil {
		vendor = id(src.Vendor.ID)
	}
	if src.Product != nil {
		product = id(src.Product.ID)
	}
	return vendor, product
}

// PCIAddress is a PCI host device's source address as libvirt prints it,
// DDDD:BB:SS.F.
func PCIAddress(h *libvirtxml.DomainHostdev) string {
	if h.SubsysPCI == nil {
		return pciString(nil)
	}
	return pciString(hostdevPCIAddress(h))
}
