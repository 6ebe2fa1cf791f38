package snapshot

import (
	libvirt "github.com/digitalocean/go-libvirt"
)

// ListFlag is virDomainSnapshotListFlags, go-libvirt's
// DomainSnapshotListFlags.
type ListFlag uint32

// The list flags, with libvirt's values. ListRoots and ListDescendants
// are one bit: roots for a domain's list, the whole subtree for a
// snapshot's children.
const (
	ListRoots       = ListFlag(libvirt.DomainSnapshotListRoots)
	ListDescendants = ListFlag(libvirt.DomainSnapshotListDescendants)
	ListMetadata    = ListFlag(libvirt.DomainSnapshotListMetadata)
	ListLeaves      = ListFlag(libvirt.DomainSnapshotListLeaves)
	ListNoLeaves    = ListFlag(libvirt.DomainSnapshotListNoLeaves)
	ListNoMetadata  = ListFlag(libvirt.DomainSnapshotListNoMetadata)
	ListInactive    = ListFlag(libvirt.DomainSnapshotListInactive)
	ListActive      = ListFlag(libvirt.DomainSnapshotListActive)
	ListDiskOnly    = ListFlag(libvirt.DomainSnapshotListDiskOnly)
	ListInternal    = ListFlag(libvirt.DomainSnapshotListInternal)
	ListExternal    = ListFlag(libvirt.DomainSnapshotListExternal)
	ListTopological = ListFlag(libvirt.DomainSnapshotListTopological)

	// ListFlagsAll is what the list and count calls accept
	// (ROOTS or DESCENDANTS, TOPOLOGICAL, VIR_DOMAIN_SNAPSHOT_FILTERS_ALL):
	// a driver refuses other bits with virerr.UnsupportedFlags.
	ListFlagsAll = ListRoots | ListTopological | filtersMetadata | filtersLeaves | filtersStatus | filtersLocation

	filtersMetadata = ListMetadata | ListNoMetadata
	filtersLeaves   = ListLeaves | ListNoLeaves
	filtersStatus   = ListInactive | ListActive | ListDiskOnly
	filtersLocation = ListInternal | ListExternal
)

// List is virDomainSnapshotObjListGetNames' selection. With from nil it
// lists the domain's snapshots (all, or with ListRoots the top-level
// ones); with a snapshot, its children (or with ListDescendants its whole
// subtree). The filter groups select as libvirt's do: leaves or not,
// metadata (every snapshot here has it, so ListNoMetadata alone selects
// none), the state (shut off, running, disk-only), internal or external.
// A group with all its bits set does not filter, except the leaves
// group: libvirt maps both bits through and keeps nothing.
//
// libvirt's order follows its hash table and is unspecified unless
// ListTopological is given; this one is always the tree's, parents
// before children and siblings oldest first (creation time, then name),
// so it is topological with or without the flag. Flags outside
// ListFlagsAll are ignored; callers check them.
func (t *Tree) List(from *Snapshot, flags ListFlag) []*Snapshot {
	subtree := flags&ListDescendants != 0
	if from == nil {
		// ROOTS and DESCENDANTS share the bit with opposite meanings
		from, subtree = &t.root, !subtree
	}
	if flags&filtersMetadata == ListNoMetadata {
		return nil
	}
	candidates := from.children
	if subtree {
		candidates = t.Descendants(from)
	}
	status, location := flags&filtersStatus, flags&filtersLocation
	if status == filtersStatus {
		status = 0
	}
	if location == filtersLocation {
		location = 0
	}
	var out []*Snapshot
	for _, s := range candidates {
		if flags&ListLeaves != 0 && len(s.children) > 0 ||
			flags&ListNoLeaves != 0 && len(s.children) == 0 {
			continue
		}
		if matches(s.Def, status, location) {
			out = append(out, s)
		}
	}
	return out
}

// matches is virDomainSnapshotFilter.
func matches(d *Def, status, location ListFlag) bool {
	if status != 0 {
		switch {
		case d.IsInactive() && status&ListInactive == 0,
			d.IsDiskOnly() && status&ListDiskOnly == 0,
			d.IsActive() && status&ListActive == 0:
			return false
		}
	}
	switch {
	case location&ListInternal != 0 && d.IsExternal(),
		location&ListExternal != 0 && !d.IsExternal():
		return false
	}
	return true
}

// Names is List's names (virDomainSnapshotListNames and
// ListChildrenNames). libvirt counts every match even beyond the
// caller's maxnames; the caller keeps the first maxnames.
func (t *Tree) Names(from *Snapshot, flags ListFlag) []string {
	l := t.List(from, flags)
	names := make([]string, len(l))
	for i, s := range l {
		names[i] = s.Def.Name
	}
	return names
}

// Num is how many List selects (virDomainSnapshotNum, NumChildren).
func (t *Tree) Num(from *Snapshot, flags ListFlag) int { return len(t.List(from, flags)) }
