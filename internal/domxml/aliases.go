package domxml

import (
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"libvirt.org/go/libvirtxml"
)

// Device aliases. libvirt keeps a device's <alias name='...'/> from a
// client only when it is a user alias ("ua-" and letters, digits, '-' and
// '_': the libxl parser config has VIR_DOMAIN_DEF_FEATURE_USER_ALIAS), and
// shows other aliases only in the live view. libvirt's libxl driver names
// no devices itself; virtxend names the ones hotplug works on (disks,
// interfaces, host devices, controllers) in the live definition, with the
// names libvirt's QEMU driver gives them (qemu_alias.c), because the
// device events carry the alias and tools find a device by it.

const userAliasPrefix = "ua-"

// IsUserAlias is virDomainDeviceAliasIsUserAlias with the character check
// virDomainDeviceInfoParseXML makes before keeping one.
func IsUserAlias(name string) bool {
	if !strings.HasPrefix(name, userAliasPrefix) {
		return false
	}
	for _, c := range name {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
		if !ok {
			return false
		}
	}
	return true
}

var aliasType = reflect.TypeOf((*libvirtxml.DomainAlias)(nil))

// eachAlias calls fn with the alias field of every device in dev.
func eachAlias(dev *libvirtxml.DomainDeviceList, fn func(**libvirtxml.DomainAlias)) {
	eachDevice(dev, func(_ string, _ reflect.Value, a **libvirtxml.DomainAlias) bool {
		fn(a)
		return true
	})
}

// eachDevice calls fn with every device in dev that has an alias field:
// its element name, the device and its alias field, until fn returns
// false.
func eachDevice(dev *libvirtxml.DomainDeviceList, fn func(name string, v reflect.Value, a **libvirtxml.DomainAlias) bool) {
	if dev == nil {
		return
	}
	v := reflect.ValueOf(dev).Elem()
	t := v.Type()
	for i := 0; i < v.NumField(); i++ {
		name, _, _ := strings.Cut(t.Field(i).Tag.Get("xml"), ",")
		f := v.Field(i)
		switch f.Kind() {
		case reflect.Slice:
			for j := 0; j < f.Len(); j++ {
				if !aliasField(name, f.Index(j), fn) {
					return
				}
			}
		case reflect.Pointer:
			if !f.IsNil() && !aliasField(name, f.Elem(), fn) {
				return
			}
		}
	}
}

func aliasField(name string, v reflect.Value, fn func(string, reflect.Value, **libvirtxml.DomainAlias) bool) bool {
	if v.Kind() != reflect.Struct {
		return true
	}
	if a := v.FieldByName("Alias"); a.IsValid() && a.Type() == aliasType && a.CanAddr() {
		return fn(name, v, a.Addr().Interface().(**libvirtxml.DomainAlias))
	}
	return true
}

// dropGeneratedAliases removes every alias that is not a user alias: an
// inactive parse does not keep them and the inactive view does not show
// them.
func dropGeneratedAliases(dev *libvirtxml.DomainDeviceList) {
	eachAlias(dev, func(a **libvirtxml.DomainAlias) {
		if *a != nil && !IsUserAlias((*a).Name) {
			*a = nil
		}
	})
}

func aliasName(a *libvirtxml.DomainAlias) string {
	if a == nil {
		return ""
	}
	return a.Name
}

// aliasIndex is qemuDomainDeviceAliasIndex: N of an alias "prefixN", or -1.
func aliasIndex(a *libvirtxml.DomainAlias, prefix string) int {
	name := aliasName(a)
	if !strings.HasPrefix(name, prefix) {
		return -1
	}
	n, err := strconv.Atoi(name[len(prefix):])
	if err != nil || n < 0 {
		return -1
	}
	return n
}

// AssignAliases names every disk, interface, host device and controller of
// a live definition that has no alias (qemuAssignDeviceAliases).
func AssignAliases(d *libvirtxml.Domain) {
	if d == nil || d.Devices == nil {
		return
	}
	dev := d.Devices
	for i := range dev.Disks {
		AssignDiskAlias(&dev.Disks[i])
	}
	for i := range dev.Controllers {
		AssignControllerAlias(&dev.Controllers[i])
	}
	for i := range dev.Interfaces {
		AssignInterfaceAlias(d, &dev.Interfaces[i])
	}
	for i := range dev.Hostdevs {
		AssignHostdevAlias(d, &dev.Hostdevs[i])
	}
}

// AssignDiskAlias is qemuAssignDeviceDiskAlias: BUSC-B-U for a disk on a
// drive address (BUSC-B-T-U on SCSI), BUS-diskN otherwise, N being the
// index of its target name (xvdb: xen-disk1).
func AssignDiskAlias(disk *libvirtxml.DomainDisk) {
	if disk.Alias != nil || disk.Target == nil {
		return
	}
	bus := disk.Target.Bus
	var name string
	if a := disk.Address; a != nil && a.Drive != nil {
		v := func(p *uint) uint {
			if p == nil {
				return 0
			}
			return *p
		}
		dr := a.Drive
		if bus == "scsi" {
			name = fmt.Sprintf("%s%d-%d-%d-%d", bus, v(dr.Controller), v(dr.Bus), v(dr.Target), v(dr.Unit))
		} else {
			name = fmt.Sprintf("%s%d-%d-%d", bus, v(dr.Controller), v(dr.Bus), v(dr.Unit))
		}
	} else {
		idx, ok := diskNameToIndex(disk.Target.Dev)
		n := int(idx)
		if !ok {
			n = -1
		}
		name = fmt.Sprintf("%s-disk%d", bus, n)
	}
	disk.Alias = &libvirtxml.DomainAlias{Name: name}
}

// AssignControllerAlias is qemuAssignDeviceControllerAlias for Xen's
// controllers: the first USB controller is "usb", the others TYPEINDEX.
func AssignControllerAlias(c *libvirtxml.DomainController) {
	if c.Alias != nil || c.Index == nil {
		return
	}
	name := fmt.Sprintf("%s%d", c.Type, *c.Index)
	if c.Type == "usb" && *c.Index == 0 {
		name = "usb"
	}
	c.Alias = &libvirtxml.DomainAlias{Name: name}
}

// AssignInterfaceAlias is qemuAssignDeviceNetAlias: netN after the highest
// N in use, or hostdevN for an interface passed through.
func AssignInterfaceAlias(d *libvirtxml.Domain, ifc *libvirtxml.DomainInterface) {
	if ifc.Alias != nil {
		return
	}
	if ifc.Source != nil && ifc.Source.Hostdev != nil {
		ifc.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("hostdev%d", nextHostdevAlias(d))}
		return
	}
	n := 0
	for i := range d.Devices.Interfaces {
		if k := aliasIndex(d.Devices.Interfaces[i].Alias, "net"); k >= n {
			n = k + 1
		}
	}
	ifc.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("net%d", n)}
}

// AssignHostdevAlias is qemuAssignDeviceHostdevAlias: hostdevN after the
// highest N in use among host devices and interfaces.
func AssignHostdevAlias(d *libvirtxml.Domain, h *libvirtxml.DomainHostdev) {
	if h.Alias == nil {
		h.Alias = &libvirtxml.DomainAlias{Name: fmt.Sprintf("hostdev%d", nextHostdevAlias(d))}
	}
}

func nextHostdevAlias(d *libvirtxml.Domain) int {
	n := 0
	for i := range d.Devices.Hostdevs {
		if k := aliasIndex(d.Devices.Hostdevs[i].Alias, "hostdev"); k >= n {
			n = k + 1
		}
	}
	for i := range d.Devices.Interfaces {
		if k := aliasIndex(d.Devices.Interfaces[i].Alias, "hostdev"); k >= n {
			n = k + 1
		}
	}
	return n
}

// AliasOf is a device's alias, "" if it has none.
func AliasOf(dev *Device) string {
	switch {
	case dev.Disk != nil:
		return aliasName(dev.Disk.Alias)
	case dev.Interface != nil:
		return aliasName(dev.Interface.Alias)
	case dev.Controller != nil:
		return aliasName(dev.Controller.Alias)
	case dev.Hostdev != nil:
		return aliasName(dev.Hostdev.Alias)
	}
	return ""
}

// DeviceByAlias is virDomainDefFindDevice by alias: the element name
// ("disk", "interface", ...) and the XML of def's device whose alias is
// alias; ok is false when it has none.
func DeviceByAlias(def *libvirtxml.Domain, alias string) (kind, xml string, ok bool, err error) {
	if def == nil || alias == "" {
		return "", "", false, nil
	}
	eachDevice(def.Devices, func(name string, v reflect.Value, a **libvirtxml.DomainAlias) bool {
		if *a == nil || (*a).Name != alias {
			return true
		}
		kind, ok = name, true
		if m, found := v.Addr().Interface().(interface{ Marshal() (string, error) }); found {
			xml, err = m.Marshal()
		} else {
			err = fmt.Errorf("no XML for a %s", name)
		}
		return false
	})
	return kind, xml, ok, err
}
