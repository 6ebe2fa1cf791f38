package domxml

import (
	"libvirt.org/go/libvirtxml"
)

// insertController places c as virDomainControllerInsertPreAlloced does:
// among controllers of its type, ordered by index; otherwise at the end.
// An unindexed controller goes after the last one of its type.
func insertController(list []libvirtxml.DomainController, c libvirtxml.DomainController) []libvirtxml.DomainController {
	at := -1
	for i := len(list) - 1; i >= 0; i-- {
		cur := list[i]
		if cur.Type != c.Type {
			continue
		}
		if c.Index == nil {
			at = i + 1
			break
		}
		if cur.Index != nil && *cur.Index > *c.Index {
			at = i
		} else if at == -1 {
			at = i + 1
		}
	}
	if at == -1 || at >= len(list) {
		return append(list, c)
	}
	list = append(list, libvirtxml.DomainController{})
	copy(list[at+1:], list[at:])
	list[at] = c
	return list
}

// assignControllerIndexes sorts the parsed controllers the way the parser
// inserts them, then gives unindexed ones the lowest unused index of
// their type (virDomainAssignControllerIndexes, without USB2 companions).
func assignControllerIndexes(d *libvirtxml.Domain) {
	parsed := d.Devices.Controllers
	d.Devices.Controllers = nil
	for _, c := range parsed {
		d.Devices.Controllers = insertController(d.Devices.Controllers, c)
	}
	for i := range d.Devices.Controllers {
		c := &d.Devices.Controllers[i]
		if c.Index == nil {
			idx := unusedControllerIndex(d, c.Type)
			c.Index = &idx
		}
	}
}

func unusedControllerIndex(d *libvirtxml.Domain, typ string) uint {
	max := -1
	for _, c := range d.Devices.Controllers {
		if c.Type == typ && c.Index != nil && int(*c.Index) > max {
			max = int(*c.Index)
		}
	}
	return uint(max + 1)
}

func hasController(d *libvirtxml.Domain, typ string) bool {
	for _, c := range d.Devices.Controllers {
		if c.Type == typ {
			return true
		}
	}
	return false
}

func hasControllerIndex(d *libvirtxml.Domain, typ string, idx uint) bool {
	for _, c := range d.Devices.Controllers {
		if c.Type == typ && c.Index != nil && *c.Index == idx {
			return true
		}
	}
	return false
}

func addController(d *libvirtxml.Domain, typ string, idx uint) {
	d.Devices.Controllers = insertController(d.Devices.Controllers,
		libvirtxml.DomainController{Type: typ, Index: &idx})
}

// rejectDuplicateControllers: two controllers of one type (USB aside)
// cannot share an index.
func rejectDuplicateControllers(d *libvirtxml.Domain) error {
	seen := map[string]map[uint]bool{}
	for _, c := range d.Devices.Controllers {
		if c.Type == "usb" || c.Index == nil {
			continue
		}
		if seen[c.Type] == nil {
			seen[c.Type] = map[uint]bool{}
		}
		if seen[c.Type][*c.Index] {
			return xmlErr("Multiple '%s' controllers with index '%d'", c.Type, *c.Index)
		}
		seen[c.Type][*c.Index] = true
	}
	return nil
}

// maxImplicitController bounds the controllers a drive address may make
// exist. libvirt has no bound: a disk named hdaimeof (index 3e8) or an
// address with controller='4000000000' would have it add controllers one
// by one into the millions, holding a worker and its memory for good. No
// Xen guest has more than a handful of emulated disk controllers.
const maxImplicitController = 1023

// addImplicitControllers is virDomainDefAddImplicitControllers for disk
// buses: every controller index a drive address names must exist.
func addImplicitControllers(d *libvirtxml.Domain) error {
	for _, p := range [][2]string{{"scsi", "scsi"}, {"fdc", "fdc"}, {"ide", "ide"}, {"sata", "sata"}} {
		ctrl, bus := p[0], p[1]
		max := -1
		for _, disk := range d.Devices.Disks {
			if disk.Target == nil || disk.Target.Bus != bus || disk.Address == nil ||
				disk.Address.Drive == nil || disk.Address.Drive.Controller == nil {
				continue
			}
			c := *disk.Address.Drive.Controller
			if c > maxImplicitController {
				return unsupported("disk '%s' needs %s controller %d, above the most this driver adds (%d)",
					disk.Target.Dev, ctrl, c, maxImplicitController)
			}
			if int(c) > max {
				max = int(c)
			}
		}
		for i := 0; i <= max; i++ {
			if !hasControllerIndex(d, ctrl, uint(i)) {
				addController(d, ctrl, uint(i))
			}
		}
	}
	return nil
}
