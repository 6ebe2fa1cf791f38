package snapshot

import (
	libvirt "github.com/digitalocean/go-libvirt"
)

// The list flags of virDomainSnapshotList* and virDomainListAllSnapshots.
const (
	listRoots       = uint32(libvirt.DomainSnapshotListRoots)
	listDescendants = uint32(libvirt.DomainSnapshotListDescendants)
	listLeaves      = uint32(libvirt.DomainSnapshotListLeaves)
	listNoLeaves    = uint32(libvirt.DomainSnapshotListNoLeaves)
	listMetadata    = uint32(libvirt.DomainSnapshotListMetadata)
	listNoMetadata  = uint32(libvirt.DomainSnapshotListNoMetadata)
	listInactive    = uint32(libvirt.DomainSnapshotListInactive)
	listActive      = uint32(libvirt.DomainSnapshotListActive)
	listDiskOnly    = uint32(libvirt.DomainSnapshotListDiskOnly)
	listInternal    = uint32(libvirt.DomainSnapshotListInternal)
	listExternal    = uint32(libvirt.DomainSnapshotListExternal)

	filtersLeaves   = listLeaves | listNoLeaves
	filtersMetadata = listMetadata | listNoMetadata
	filtersStatus   = listInactive | listActive | listDiskOnly
	filtersLocation = listInternal | listExternal
)

// List is virDomainSnapshotObjListGetNames and virDomainListSnapshots:
// from nil lists every snapshot, or only the roots with
// VIR_DOMAIN_SNAPSHOT_LIST_ROOTS; from set lists its children, or all
// its descendants with VIR_DOMAIN_SNAPSHOT_LIST_DESCENDANTS (the two
// flags share a value). The filter groups (leaves, metadata, status,
// location) each keep what any of their set flags matches; a group with
// no flag set keeps everything. The order is always topological, parents
// before children, siblings oldest first, which also satisfies
// VIR_DOMAIN_SNAPSHOT_LIST_TOPOLOGICAL.
func (t *Tree) List(from *Obj, flags uint32) []*Obj {
	if flags&filtersMetadata == listNoMetadata {
		return nil // every snapshot here has metadata
	}
	deep := from == nil
	if flags&listRoots != 0 { // also listDescendants
		deep = from != nil
	}
	var out []*Obj
	t.walk(from, deep, func(o *Obj) {
		if t.keep(o, flags) {
			out = append(out, o)
		}
	})
	return out
}

// keep applies the filter groups to o.
func (t *Tree) keep(o *Obj, flags uint32) bool {
	if f := flags & filtersLeaves; f != 0 && f != filtersLeaves {
		leaf := !t.HasChildren(o)
		if (f == listLeaves) != leaf {
			return false
		}
	}
	if f := flags & filtersStatus; f != 0 {
		d := o.Def
		if !(f&listInactive != 0 && d.IsInactive() || f&listDiskOnly != 0 && d.IsDiskOnly() || f&listActive != 0 && d.IsActive()) {
			return false
		}
	}
	if f := flags & filtersLocation; f != 0 {
		ext := o.Def.IsExternal()
		if !(f&listExternal != 0 && ext || f&listInternal != 0 && !ext) {
			return false
		}
	}
	return true
}

// CheckCycles is virDomainMomentCheckCycles: def's parent exists and
// taking it as parent makes no cycle.
func (t *Tree) CheckCycles(def *Def, domName string) error {
	if def.ParentName == "" {
		return nil
	}
	if def.ParentName == def.Name {
		return domainErr(libvirt.ErrInvalidArg, "cannot set moment %s as its own parent", def.Name)
	}
	other := t.Lookup(def.ParentName)
	if other == nil {
		return domainErr(libvirt.ErrInvalidArg, "parent %s for moment %s not found", def.ParentName, def.Name)
	}
	for n := 0; other.Def.ParentName != "" && n <= t.Len(); n++ {
		if other.Def.ParentName == def.Name {
			return domainErr(libvirt.ErrInvalidArg, "parent %s would create cycle to %s", other.Def.Name, def.Name)
		}
		if other = t.Lookup(other.Def.ParentName); other == nil {
			break
		}
	}
	return nil
}

// RedefinePrep is virDomainSnapshotRedefinePrep: def, a redefinition for
// the domain of uuid named domName, is checked against the snapshot it
// replaces (returned, nil if new) and aligned to its domain.
func (t *Tree) RedefinePrep(def *Def, domName, uuid string, diskOnly bool) (*Obj, error) {
	if err := t.CheckCycles(def, domName); err != nil {
		return nil, err
	}
	other := t.Lookup(def.Name)
	if err := redefineValidate(def, uuid, other, diskOnly); err != nil {
		return nil, err
	}
	loc := LocationInternal
	if def.State == StateDiskSnapshot || def.IsExternal() {
		loc = LocationExternal
	}
	var existing = (*Def)(nil)
	if other != nil {
		existing = other.Def
	}
	if existing != nil && existing.Dom != nil {
		return other, AlignDisks(def, existing.Dom, loc, true, false)
	}
	if def.Dom == nil {
		return other, nil
	}
	return other, AlignDisks(def, nil, loc, true, false)
}

// redefineValidate is virDomainSnapshotRedefineValidate.
func redefineValidate(def *Def, uuid string, other *Obj, diskOnly bool) error {
	if diskOnly && def.State != StateDiskSnapshot {
		return snapErr(libvirt.ErrInvalidArg, "disk-only flag for snapshot %s requires disk-snapshot state", def.Name)
	}
	if def.Dom != nil && def.Dom.UUID != "" && def.Dom.UUID != uuid {
		return snapErr(libvirt.ErrInvalidArg, "definition for snapshot %s must use uuid %s", def.Name, uuid)
	}
	if other == nil {
		return nil
	}
	online := func(s State) bool { return s == StateRunning || s == StatePaused }
	if online(other.Def.State) != online(def.State) {
		return snapErr(libvirt.ErrInvalidArg, "cannot change between online and offline snapshot state in snapshot %s", def.Name)
	}
	if (other.Def.State == StateDiskSnapshot) != (def.State == StateDiskSnapshot) {
		return snapErr(libvirt.ErrInvalidArg, "cannot change between disk only and full system in snapshot %s", def.Name)
	}
	return nil
}
