package driver

import (
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
	"virtxend/internal/libxltypes"
)

// nameReconnected names, when a daemon reconnects to a running guest, the
// interfaces a daemon without interface names left unnamed (an upgrade
// over running guests), as start would have (nameDevices): the translation
// numbers the NICs libxl plugs in order from 0, and an HVM guest's NIC is
// emulated unless its model is netfront. Without the names, interface
// statistics by device, bulk statistics' net group and exporters that look
// interfaces up by their device lose the guest until it restarts.
func (drv *Driver) nameReconnected(d *domain, id int32) {
	s := d.snap()
	def := s.def.parsed()
	if def.Devices == nil || !unnamedNICs(def.Devices.Interfaces, s.netPorts) {
		return
	}
	hvm := domxml.KindOf(def) == domxml.HVM
	var nics []libxltypes.NIC
	for i := range def.Devices.Interfaces {
		ifc := &def.Devices.Interfaces[i]
		if isPCIInterface(ifc, s.netPorts) {
			continue
		}
		n := libxltypes.NIC{DevID: len(nics), NICType: "vif"}
		if hvm && (ifc.Model == nil || ifc.Model.Type != "netfront") {
			n.NICType = "vif_ioemu"
		}
		nics = append(nics, n)
	}
	drv.editLive(d, func(def *libvirtxml.Domain) { nameInterfaces(def, id, nics, s.netPorts) })
}

// unnamedNICs reports whether an interface libxl plugs has no device name.
func unnamedNICs(ifcs []libvirtxml.DomainInterface, ports domxml.Ports) bool {
	for i := range ifcs {
		if !isPCIInterface(&ifcs[i], ports) && (ifcs[i].Target == nil || ifcs[i].Target.Dev == "") {
			return true
		}
	}
	return false
}
