package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/hostdev"
	"virtxend/internal/libxltypes"
	"virtxend/internal/pci"
	"virtxend/internal/virerr"
)

// The host's side of PCI passthrough: a guest's PCI host devices are taken
// from the host when it starts (and at hotplug) and given back when it
// stops (and at hot-unplug), as libvirt's libxl driver has
// virHostdevPrepareDomainDevices and virHostdevReAttachDomainDevices do it;
// the bookkeeping is internal/hostdev's. Backends without a PCI bus have
// no manager, and guests with PCI devices go to libxl as they are.

// NodeDevDriver is the part of libvirt's node device driver the Xen driver
// calls: a device's XML, from which the node device procedures take its
// PCI address (virDomainDriverNodeDeviceGetPCIInfo).
type NodeDevDriver interface {
	NodeDeviceGetXMLDesc(ctx context.Context, name string, flags uint32) (string, error)
}

func (drv *Driver) nodeDevices() (NodeDevDriver, error) {
	if drv.opts.NodeDevices == nil {
		return nil, errNoDriver("nodedev:///system")
	}
	return drv.opts.NodeDevices, nil
}

// pciDevices are def's PCI host devices: its <hostdev> PCI devices and its
// interfaces passed through from a PCI device (libvirt counts those among
// the hostdevs too).
func pciDevices(def *libvirtxml.Domain) []hostdev.Device {
	if def == nil || def.Devices == nil {
		return nil
	}
	var out []hostdev.Device
	for i := range def.Devices.Hostdevs {
		out = append(out, pciDevice(&def.Devices.Hostdevs[i])...)
	}
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if ifc.Source != nil && ifc.Source.Hostdev != nil && ifc.Source.Hostdev.PCI != nil {
			out = append(out, hostdev.Device{Addr: pciAddr(ifc.Source.Hostdev.PCI.Address), Managed: ifc.Managed == "yes"})
		}
	}
	return out
}

// pciDevice is h as the books name it: none unless h is a PCI device.
func pciDevice(h *libvirtxml.DomainHostdev) []hostdev.Device {
	if h.SubsysPCI == nil || h.SubsysPCI.Source == nil {
		return nil
	}
	return []hostdev.Device{{Addr: pciAddr(h.SubsysPCI.Source.Address), Managed: h.Managed == "yes"}}
}

// pciAddr is a hostdev source's address as the host names it.
func pciAddr(a *libvirtxml.DomainAddressPCI) pci.Addr {
	if a == nil {
		return pci.Addr{}
	}
	return pciAddrOf(a.Domain, a.Bus, a.Slot, a.Function)
}

// pciAddrOf is an address from the optional numbers XML has (absent: 0).
func pciAddrOf(domain, bus, slot, function *uint) pci.Addr {
	v := func(p *uint) uint {
		if p == nil {
			return 0
		}
		return *p
	}
	return pci.Addr{Domain: uint32(v(domain)), Bus: uint8(v(bus)), Slot: uint8(v(slot)), Function: uint8(v(function))}
}

// prepareHostdevs takes d's PCI devices from the host for its start.
func (drv *Driver) prepareHostdevs(d *domain) error {
	if drv.hostdevs == nil {
		return nil
	}
	s := d.snap()
	return drv.hostdevs.Prepare(s.ref.Name, pciDevices(s.def.parsed()))
}

// releaseHostdevs gives the PCI devices of def, a domain that stopped or
// failed to start, back to the host, and its USB devices to other guests.
func (drv *Driver) releaseHostdevs(name string, def *libvirtxml.Domain) {
	if drv.hostdevs == nil {
		return
	}
	if devs := pciDevices(def); len(devs) > 0 {
		drv.hostdevs.Release(name, devs)
	}
	drv.hostdevs.ReleaseAllUSB(name)
}

// usbOf names libxl's USB host devices as the books do.
func usbOf(devs ...libxltypes.USBDev) []hostdev.USB {
	out := make([]hostdev.USB, 0, len(devs))
	for _, u := range devs {
		out = append(out, hostdev.USB{Bus: u.HostDev.HostBus, Dev: u.HostDev.HostAddr})
	}
	return out
}

// prepareUSB marks the USB host devices libxl is about to get as the
// domain's; another guest's is refused (virHostdevPrepareUSBDevices).
func (drv *Driver) prepareUSB(name string, devs []libxltypes.USBDev) error {
	if drv.hostdevs == nil || len(devs) == 0 {
		return nil
	}
	return drv.hostdevs.PrepareUSB(name, usbOf(devs...))
}

// adoptHostdevs records the PCI devices of d, a running guest the daemon
// reconnected to, as its own.
func (drv *Driver) adoptHostdevs(d *domain) {
	if drv.hostdevs == nil {
		return
	}
	s := d.snap()
	if devs := pciDevices(s.def.parsed()); len(devs) > 0 {
		drv.hostdevs.Adopt(s.ref.Name, devs)
	}
}

// releaseOrphanHostdevs gives back the devices of domains that stopped
// while the daemon was down and left no status file to clean up after.
func (drv *Driver) releaseOrphanHostdevs() {
	if drv.hostdevs == nil {
		return
	}
	drv.hostdevs.ReleaseOrphans(func(name string) bool {
		drv.mu.RLock()
		d := drv.byName[name]
		drv.mu.RUnlock()
		return d != nil && d.snap().active()
	})
}

// NodeDeviceDetach is virNodeDeviceDetachFlags (and virNodeDeviceDettach,
// with no driver name): the PCI device goes to Xen's pciback.
func (drv *Driver) NodeDeviceDetach(ctx context.Context, name, driverName string, flags uint32) error {
	if flags != 0 {
		return virerr.UnsupportedFlags(virerr.FromLibxl, flags, "libxlNodeDeviceDetachFlags")
	}
	if driverName == "" {
		driverName = "xen"
	}
	if driverName != "xen" {
		return libxlErr(libvirt.ErrInvalidArg, "unsupported driver name '%s'", driverName)
	}
	return drv.onNodeDevice(ctx, name, (*hostdev.Manager).NodeDetach)
}

// NodeDeviceReAttach is virNodeDeviceReAttach.
func (drv *Driver) NodeDeviceReAttach(ctx context.Context, name string) error {
	return drv.onNodeDevice(ctx, name, (*hostdev.Manager).NodeReattach)
}

// NodeDeviceReset is virNodeDeviceReset.
func (drv *Driver) NodeDeviceReset(ctx context.Context, name string) error {
	return drv.onNodeDevice(ctx, name, (*hostdev.Manager).NodeReset)
}

// onNodeDevice finds the PCI address of node device name through the node
// device driver and runs op on it.
func (drv *Driver) onNodeDevice(ctx context.Context, name string, op func(*hostdev.Manager, pci.Addr) error) error {
	if drv.hostdevs == nil {
		return virerr.New(virerr.FromLibxl, libvirt.ErrOperationUnsupported, "this host has no PCI devices to pass through")
	}
	nd, err := drv.nodeDevices()
	if err != nil {
		return err
	}
	x, err := nd.NodeDeviceGetXMLDesc(ctx, name, 0)
	if err != nil {
		return err
	}
	a, err := nodeDevicePCIAddr(x)
	if err != nil {
		return err
	}
	return op(drv.hostdevs, a)
}

// nodeDevicePCIAddr is virDomainDriverNodeDeviceGetPCIInfo over the node
// device's XML.
func nodeDevicePCIAddr(x string) (pci.Addr, error) {
	var dev libvirtxml.NodeDevice
	if err := dev.Unmarshal(x); err != nil {
		return pci.Addr{}, virerr.New(virerr.FromNodedev, libvirt.ErrXMLError, "%v", err)
	}
	c := dev.Capability.PCI
	if c == nil {
		return pci.Addr{}, virerr.New(virerr.FromDomain, libvirt.ErrInvalidArg, "device %s is not a PCI device", dev.Name)
	}
	return pciAddrOf(c.Domain, c.Bus, c.Slot, c.Function), nil
}
