package driver

import (
	"fmt"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// nameInterfaces is libxlDomainCreateIfaceNames: once the guest runs as
// domain id, each of its network interfaces that names no device gets the
// name libxl gave its backend, vifID.DEVID, or vifID.DEVID-emu for an
// emulated NIC (the device model's tap, which libvirt then reads the
// interface's statistics from). The live definition shows it as
// <target dev='...'/>, which an inactive view drops again. libvirt pairs
// the interfaces with libxl's NICs by position and so misnames those after
// a PCI passthrough interface, which has no NIC; here they are paired
// skipping those.
func (drv *Driver) nameInterfaces(d *domain, id int32, cfg *libxltypes.DomainConfig) {
	s := d.snap()
	if s.def.Devices == nil || !needsNames(s.def.Devices.Interfaces, s.netPorts) {
		return
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		n := 0
		for i := range def.Devices.Interfaces {
			ifc := &def.Devices.Interfaces[i]
			if passthrough(ifc, s.netPorts) {
				continue
			}
			if n >= len(cfg.NICs) {
				return
			}
			nic := cfg.NICs[n]
			n++
			if ifc.Target != nil && ifc.Target.Dev != "" {
				continue
			}
			name := fmt.Sprintf("vif%d.%d", id, nic.DevID)
			if nic.NICType != "" && nic.NICType != "vif" {
				name += "-emu"
			}
			ifc.Target = &libvirtxml.DomainInterfaceTarget{Dev: name}
		}
	})
}

// needsNames reports whether an interface libxl plugs has no device name.
func needsNames(ifcs []libvirtxml.DomainInterface, ports domxml.Ports) bool {
	for i := range ifcs {
		if !passthrough(&ifcs[i], ports) && (ifcs[i].Target == nil || ifcs[i].Target.Dev == "") {
			return true
		}
	}
	return false
}

// passthrough reports whether ifc is a PCI device passed through (an
// <interface type='hostdev'>, or one on a hostdev network), which libxl
// gets as a PCI device and not as a NIC.
func passthrough(ifc *libvirtxml.DomainInterface, ports domxml.Ports) bool {
	if ifc.Source != nil && ifc.Source.Hostdev != nil {
		return true
	}
	p := ports.PortOf(ifc)
	return p != nil && p.Plug != nil && p.Plug.HostDevPCI != nil
}

// nameReconnected names, when a daemon reconnects to a running guest, the
// interfaces a daemon without interface names left unnamed (an upgrade
// over running guests), as start would have: the translation numbers the
// NICs libxl plugs in order from 0, and an HVM guest's NIC is emulated
// unless its model is netfront.
func (drv *Driver) nameReconnected(d *domain, id int32) {
	s := d.snap()
	if s.def.Devices == nil || !needsNames(s.def.Devices.Interfaces, s.netPorts) {
		return
	}
	hvm := domxml.KindOf(s.def) == domxml.HVM
	var nics []libxltypes.NIC
	for i := range s.def.Devices.Interfaces {
		ifc := &s.def.Devices.Interfaces[i]
		if passthrough(ifc, s.netPorts) {
			continue
		}
		n := libxltypes.NIC{DevID: len(nics), NICType: "vif"}
		if hvm && (ifc.Model == nil || ifc.Model.Type != "netfront") {
			n.NICType = "vif_ioemu"
		}
		nics = append(nics, n)
	}
	drv.nameInterfaces(d, id, &libxltypes.DomainConfig{NICs: nics})
}
