package snapshot

import (
	"os"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// AlignDisks is virDomainSnapshotAlignDisks: afterwards def has one disk
// entry per disk of its domain (def.Dom, else existing), in the domain's
// order, named by target, each with its location: what was asked, else
// the domain disk's snapshot attribute (unless forceDefault), else loc;
// an empty drive is never snapshotted. With uniformInternal and loc
// internal, every disk must be internal or excluded. External disks
// without a file get one named after the snapshot
// (virDomainSnapshotDefAssignExternalNames).
func AlignDisks(def *Def, existing *libvirtxml.Domain, loc Location, uniformInternal, forceDefault bool) error {
	dom := def.Dom
	if dom == nil {
		dom = existing
	}
	if dom == nil {
		return snapErr(libvirt.ErrInternalError, "missing domain in snapshot")
	}
	var domDisks []libvirtxml.DomainDisk
	if dom.Devices != nil {
		domDisks = dom.Devices.Disks
	}
	if len(def.Disks) > len(domDisks) {
		return snapErr(libvirt.ErrConfigUnsupported, "too many disk snapshot requests for domain")
	}
	if len(domDisks) == 0 {
		return nil
	}
	asked, err := askedDisks(def.Disks, dom, loc, uniformInternal && loc == LocationInternal)
	if err != nil {
		return err
	}
	disks := make([]Disk, len(domDisks))
	for i := range domDisks {
		dd := &domDisks[i]
		if a, ok := asked[target(dd)]; ok {
			disks[i] = a
			continue
		}
		disks[i] = Disk{Name: target(dd), Type: "file"}
		switch l, _ := LocationFromString(dd.Snapshot); {
		case domxml.DiskSourceName(*dd) == "":
			disks[i].Snapshot = LocationNo
		case !forceDefault:
			disks[i].Snapshot = l
		}
		if disks[i].Snapshot == LocationDefault {
			disks[i].Snapshot = loc
		}
	}
	def.Disks = disks
	return assignExternalNames(def, domDisks)
}

// askedDisks checks the disks the snapshot names and gives each its
// location, keyed by the domain disk's target.
func askedDisks(list []Disk, dom *libvirtxml.Domain, loc Location, requireMatch bool) (map[string]Disk, error) {
	asked := map[string]Disk{}
	for _, sd := range list {
		i := domxml.DiskIndexByName(dom, sd.Name, false)
		if i < 0 {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "no disk named '%s'", sd.Name)
		}
		dd := &dom.Devices.Disks[i]
		if _, dup := asked[target(dd)]; dup {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "disk '%s' specified twice", sd.Name)
		}
		domLoc, _ := LocationFromString(dd.Snapshot)
		switch {
		case sd.Snapshot == LocationDefault:
			sd.Snapshot = loc
			if domLoc != LocationDefault && (!requireMatch || domLoc == LocationNo) {
				sd.Snapshot = domLoc
			}
		case requireMatch && sd.Snapshot != loc && !(sd.Snapshot == LocationNo && domLoc == LocationNo):
			return nil, snapErr(libvirt.ErrConfigUnsupported, "disk '%s' must use snapshot mode '%s'", sd.Name, loc)
		}
		if sd.Path() != "" && sd.Snapshot != LocationExternal {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "file '%s' for disk '%s' requires use of external snapshot mode", sd.Path(), sd.Name)
		}
		sd.Name = target(dd)
		asked[sd.Name] = sd
	}
	return asked, nil
}

// assignExternalNames names the new image of each external disk without
// one: the domain disk's file without its suffix, then "." and the
// snapshot's name.
func assignExternalNames(def *Def, domDisks []libvirtxml.DomainDisk) error {
	for i := range def.Disks {
		sd := &def.Disks[i]
		if sd.Snapshot != LocationExternal || sd.Path() != "" {
			continue
		}
		if sd.storageType() != "file" {
			return snapErr(libvirt.ErrConfigUnsupported, "cannot generate external snapshot name for disk '%s' on a '%s' device", sd.Name, sd.storageType())
		}
		orig := domxml.DiskSourceName(domDisks[i])
		if orig == "" {
			return snapErr(libvirt.ErrConfigUnsupported, "cannot generate external snapshot name for disk '%s' without source", sd.Name)
		}
		if fi, err := os.Stat(orig); err != nil || !fi.Mode().IsRegular() {
			return snapErr(libvirt.ErrConfigUnsupported, "source for disk '%s' is not a regular file; refusing to generate external snapshot name", sd.Name)
		}
		base := orig
		if dot := strings.LastIndexByte(base, '.'); dot >= 0 && !strings.Contains(base[dot:], "/") {
			base = base[:dot]
		}
		sd.setFile(base + "." + def.Name)
		for j := 0; j < i; j++ {
			if def.Disks[j].Path() == sd.Path() {
				return snapErr(libvirt.ErrConfigUnsupported, "cannot generate external snapshot name for disk '%s': collision with disk '%s'", sd.Name, def.Disks[j].Name)
			}
		}
	}
	return nil
}

func target(dd *libvirtxml.DomainDisk) string {
	if dd.Target == nil {
		return ""
	}
	return dd.Target.Dev
}
