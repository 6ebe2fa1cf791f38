package snapshot

import (
	"os"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/domxml"
)

// AlignDisks is virDomainSnapshotAlignDisks: it makes def.Disks one entry
// per disk of the domain, in the domain's order, named by target.
// Disks the snapshot names keep what it says of them (refused if unknown,
// named twice, or, with uniformInternal and an internal default, not
// internal); the others get the location the domain's disk asks for
// (unless forceDefault) or dflt, and empty drives none. An external disk
// without a file is given one beside its source, the source's name with
// its suffix replaced by the snapshot's name.
//
// The domain is def.Dom; a redefinition without one passes the
// definition of the snapshot it replaces as existing.
func AlignDisks(def *Def, existing *libvirtxml.Domain, dflt Location, uniformInternal, forceDefault bool) error {
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
	requireMatch := uniformInternal && dflt == LocationInternal
	if len(domDisks) == 0 {
		return nil
	}
	asked, err := checkAsked(def.Disks, dom, dflt, requireMatch)
	if err != nil {
		return err
	}
	disks := make([]Disk, len(domDisks))
	for i, dd := range domDisks {
		dst := target(dd)
		if d, ok := asked[dst]; ok {
			disks[i] = *d
			continue
		}
		disks[i] = Disk{Name: dst, Type: "file"}
		switch {
		case sourceEmpty(dd):
			disks[i].Snapshot = LocationNo
		case !forceDefault:
			disks[i].Snapshot = domLocation(dd)
		}
		if disks[i].Snapshot == LocationDefault {
			disks[i].Snapshot = dflt
		}
	}
	def.Disks = disks
	return assignExternalNames(def, domDisks)
}

// checkAsked checks the disks the snapshot names and settles their
// locations; it returns them by target.
func checkAsked(asked []Disk, dom *libvirtxml.Domain, dflt Location, requireMatch bool) (map[string]*Disk, error) {
	byTarget := map[string]*Disk{}
	for i := range asked {
		d := &asked[i]
		idx := domxml.DiskIndexByName(dom, d.Name, false)
		if idx < 0 {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "no disk named '%s'", d.Name)
		}
		dd := dom.Devices.Disks[idx]
		dst := target(dd)
		if _, dup := byTarget[dst]; dup {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "disk '%s' specified twice", d.Name)
		}
		byTarget[dst] = d
		domLoc := domLocation(dd)
		if d.Snapshot == LocationDefault {
			d.Snapshot = dflt
			if domLoc != LocationDefault && (!requireMatch || domLoc == LocationNo) {
				d.Snapshot = domLoc
			}
		} else if requireMatch && d.Snapshot != dflt && !(d.Snapshot == LocationNo && domLoc == LocationNo) {
			return nil, snapErr(libvirt.ErrConfigUnsupported, "disk '%s' must use snapshot mode '%s'", d.Name, dflt)
		}
		if p := d.Path(); p != "" && d.Snapshot != LocationExternal {
			return nil, snapErr(libvirt.ErrConfigUnsupported,
				"file '%s' for disk '%s' requires use of external snapshot mode", p, d.Name)
		}
		d.Name = dst
	}
	return byTarget, nil
}

func target(dd libvirtxml.DomainDisk) string {
	if dd.Target == nil {
		return ""
	}
	return dd.Target.Dev
}

// domLocation is the domain disk's snapshot attribute.
func domLocation(dd libvirtxml.DomainDisk) Location {
	l, _ := LocationFromString(dd.Snapshot)
	return l
}

// sourcePath is virDomainDiskGetSource: the domain disk's src->path.
func sourcePath(dd libvirtxml.DomainDisk) string { return sourcePathOf(dd.Source) }

// sourceEmpty is virStorageSourceIsEmpty: local storage without a path,
// no storage at all, or a network source without a protocol.
func sourceEmpty(dd libvirtxml.DomainDisk) bool {
	s := dd.Source
	switch {
	case s == nil:
		return true
	case s.File != nil, s.Block != nil, s.Dir != nil:
		return sourcePath(dd) == ""
	case s.Network != nil:
		return s.Network.Protocol == "" || s.Network.Protocol == "none"
	case s.Volume != nil, s.NVME != nil, s.VHostUser != nil, s.VHostVDPA != nil:
		return false
	}
	return true
}

// assignExternalNames is virDomainSnapshotDefAssignExternalNames: each
// external disk without a file gets its source's path, suffix dropped,
// with the snapshot's name appended. def.Disks is aligned to domDisks.
func assignExternalNames(def *Def, domDisks []libvirtxml.DomainDisk) error {
	for i := range def.Disks {
		d := &def.Disks[i]
		if d.Snapshot != LocationExternal || d.Path() != "" {
			continue
		}
		if d.storageType() != "file" {
			return snapErr(libvirt.ErrConfigUnsupported,
				"cannot generate external snapshot name for disk '%s' on a '%s' device", d.Name, d.storageType())
		}
		orig := sourcePath(domDisks[i])
		if orig == "" {
			return snapErr(libvirt.ErrConfigUnsupported,
				"cannot generate external snapshot name for disk '%s' without source", d.Name)
		}
		if st, err := os.Stat(orig); err != nil || !st.Mode().IsRegular() {
			return snapErr(libvirt.ErrConfigUnsupported,
				"source for disk '%s' is not a regular file; refusing to generate external snapshot name", d.Name)
		}
		base := orig
		if dot := strings.LastIndexByte(base, '.'); dot >= 0 && !strings.Contains(base[dot:], "/") {
			base = base[:dot]
		}
		d.setFile(base + "." + def.Name)
		for j := 0; j < i; j++ {
			if def.Disks[j].Path() == d.Path() {
				return snapErr(libvirt.ErrConfigUnsupported,
					"cannot generate external snapshot name for disk '%s': collision with disk '%s'", d.Name, def.Disks[j].Name)
			}
		}
	}
	return nil
}
