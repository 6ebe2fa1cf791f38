package driver

import (
	"fmt"
	"strings"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// nameDevices gives a started guest's live definition what libvirt's
// start records of its devices: each interface's backend name
// (libxlDomainCreateIfaceNames: vifDOMID.DEVID, "-emu" for an HVM
// guest's emulated twin) unless it names one, the driver of each disk that
// names none (libxlDomainUpdateDiskParams: the backend libxl chose), and,
// beyond libvirt's libxl driver, the aliases its device events carry
// (domxml.AssignAliases).
func (drv *Driver) nameDevices(d *domain, id int32, cfg *libxltypes.DomainConfig) {
	ports := d.snap().netPorts
	drv.editLive(d, func(def *libvirtxml.Domain) {
		nameInterfaces(def, id, cfg.NICs, ports)
		if def.Devices != nil {
			nameDiskDrivers(def.Devices.Disks, cfg.Disks)
		}
		domxml.AssignAliases(def)
	})
}

// nameInterfaces names def's interfaces after nics, libxl's NICs of them
// in order; interfaces passed through as PCI devices have none.
func nameInterfaces(def *libvirtxml.Domain, id int32, nics []libxltypes.NIC, ports domxml.Ports) {
	if def.Devices == nil {
		return
	}
	k := 0
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if isPCIInterface(ifc, ports) {
			continue
		}
		if k >= len(nics) {
			return
		}
		nic := nics[k]
		k++
		if nic.DevID < 0 {
			nic.DevID = k - 1
		}
		if ifc.Target == nil || ifc.Target.Dev == "" {
			t := libvirtxml.DomainInterfaceTarget{}
			if ifc.Target != nil {
				t = *ifc.Target
			}
			t.Dev = vifName(id, &nic)
			ifc.Target = &t
		}
	}
}

// isPCIInterface: the interface is a PCI device passed through, as given
// or as its network port plugs it.
func isPCIInterface(ifc *libvirtxml.DomainInterface, ports domxml.Ports) bool {
	if ifc.Source != nil && ifc.Source.Hostdev != nil {
		return true
	}
	p := ports.PortOf(ifc)
	return p != nil && p.Plug != nil && p.Plug.HostDevPCI != nil
}

// hasGeneratedIfnames reports whether def names an interface vif...,
// which only a start does.
func hasGeneratedIfnames(def *libvirtxml.Domain) bool {
	if def == nil || def.Devices == nil {
		return false
	}
	for _, ifc := range def.Devices.Interfaces {
		if ifc.Target != nil && strings.HasPrefix(ifc.Target.Dev, "vif") {
			return true
		}
	}
	return false
}

// vifName is the backend interface libxl makes for a NIC:
// vifDOMID.DEVID, with "-emu" for the emulated twin of an HVM guest's
// (libxlDomainCreateIfaceNames).
func vifName(domid int32, nic *libxltypes.NIC) string {
	name := fmt.Sprintf("vif%d.%d", domid, nic.DevID)
	if nic.NICType != "" && nic.NICType != "vif" {
		name += "-emu"
	}
	return name
}
