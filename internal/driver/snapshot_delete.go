package driver

import (
	"context"
	"errors"
	"os"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

// Deletion follows libvirt's QEMU driver (qemuSnapshotDelete). An
// internal snapshot leaves the qcow2 images (qemu-img snapshot -d, or the
// backend for a running guest's). An external one that is a leaf off the
// domain's chain only has files to remove; one the domain's chain still
// runs through (the current one, or its ancestor) is merged: its overlay
// committed into the image below it with qemu-img commit, the image above
// rebased, the overlay removed, where QEMU would block-commit. qemu-img
// cannot do that under a running guest's device model: there the device
// model block-commits, as libvirt's QEMU driver has QEMU do, which Xen's
// can for the disks it serves (qdisk). Children are reparented to the
// parent.

const (
	deleteChildren     = uint32(libvirt.DomainSnapshotDeleteChildren)
	deleteMetadataOnly = uint32(libvirt.DomainSnapshotDeleteMetadataOnly)
	deleteChildrenOnly = uint32(libvirt.DomainSnapshotDeleteChildrenOnly)
)

// SnapshotDelete deletes snapshot sn (virDomainSnapshotDelete).
func (drv *Driver) SnapshotDelete(ctx context.Context, sn Snapshot, flags uint32) error {
	const fn = "libxlDomainSnapshotDelete"
	if err := checkFlags(flags, deleteChildren|deleteMetadataOnly|deleteChildrenOnly, fn); err != nil {
		return err
	}
	if flags&deleteChildren != 0 && flags&deleteChildrenOnly != 0 {
		return virerr.InvalidArg(virerr.FromDomainSnapshot, fn, "flags", "Flags '%s' and '%s' are mutually exclusive",
			"VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN", "VIR_DOMAIN_SNAPSHOT_DELETE_CHILDREN_ONLY")
	}
	d, err := drv.findNonDom0(sn.Dom)
	if err != nil {
		return err
	}
	a, err := drv.beginAsync(ctx, d, job.OpSnapshotDelete)
	if err != nil {
		return err
	}
	err = drv.deleteSnapshot(a.Context(), d, sn.Name, flags)
	a.End(err)
	return err
}

func (drv *Driver) deleteSnapshot(ctx context.Context, d *domain, name string, flags uint32) error {
	if err := noBlockJobs(d); err != nil {
		return err
	}
	d.mu.Lock()
	obj := d.snapshotsLocked().Lookup(name)
	d.mu.Unlock()
	if obj == nil {
		return errNoSnapshot(name)
	}
	metaOnly := flags&deleteMetadataOnly != 0
	var merge []diskMerge
	if !metaOnly {
		if err := drv.validateDelete(d, obj, flags); err != nil {
			return err
		}
		var err error
		if merge, err = drv.prepareMerge(ctx, d, obj, flags); err != nil {
			return err
		}
	}
	if flags&(deleteChildren|deleteChildrenOnly) == 0 {
		return drv.discardSnapshot(ctx, d, obj, merge, metaOnly)
	}
	var first error
	for _, child := range drv.descendants(d, obj) {
		if err := drv.discardSnapshot(ctx, d, child, nil, metaOnly); err != nil && first == nil {
			first = err
		}
	}
	if first != nil || flags&deleteChildrenOnly != 0 {
		return first
	}
	return drv.discardSnapshot(ctx, d, obj, nil, metaOnly)
}

// descendants is obj's subtree below it, deepest last-made first, so
// that each is a leaf when it goes.
func (drv *Driver) descendants(d *domain, obj *dsnap.Snapshot) []*dsnap.Snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	list := d.snapshotsLocked().Descendants(obj)
	for i, j := 0, len(list)-1; i < j; i, j = i+1, j-1 {
		list[i], list[j] = list[j], list[i]
	}
	return list
}

// validateDelete is qemuSnapshotDeleteValidate.
func (drv *Driver) validateDelete(d *domain, obj *dsnap.Snapshot, flags uint32) error {
	s := d.snap()
	def := obj.Def
	if flags&(deleteChildren|deleteChildrenOnly) != 0 {
		internal, external := 0, 0
		for _, o := range drv.descendants(d, obj) {
			if o.Def.IsExternal() {
				external++
			} else {
				internal++
			}
		}
		switch {
		case external > 0 && internal > 0:
			return libxlErr(libvirt.ErrConfigUnsupported, "deletion of external and internal children disk snapshots not supported")
		case external > 0:
			return libxlErr(libvirt.ErrConfigUnsupported, "deletion of external children disk snapshots not supported")
		}
	}
	if !def.IsExternal() {
		return nil
	}
	d.mu.Lock()
	cur, children := d.snapshotsLocked().Current(), obj.NumChildren()
	ancestor := cur != nil && cur.DescendsFrom(obj)
	d.mu.Unlock()
	switch {
	case flags&deleteChildren != 0:
		return libxlErr(libvirt.ErrConfigUnsupported, "deletion of external disk snapshots with children not supported")
	case obj == cur && children != 0:
		return libxlErr(libvirt.ErrConfigUnsupported, "deletion of active external snapshot that is not a leaf snapshot is not supported")
	case obj != cur && children != 0 && !ancestor:
		return libxlErr(libvirt.ErrConfigUnsupported, "deletion of non-leaf external snapshot that is not in active chain is not supported")
	case children > 1:
		return libxlErr(libvirt.ErrConfigUnsupported, "deletion of external disk snapshot with multiple children snapshots not supported")
	case s.active() && (obj == cur || children != 0) && !drv.canCommitLive():
		return libxlErr(libvirt.ErrOperationUnsupported, "deleting external snapshot '%s' merges its overlays into their backing images, which this host cannot do under a running guest; shut it off first", def.Name)
	}
	return nil
}

// discardSnapshot is qemuSnapshotDiscardImpl with update_parent: the
// snapshot's data, then its metadata.
func (drv *Driver) discardSnapshot(ctx context.Context, d *domain, obj *dsnap.Snapshot, merge []diskMerge, metaOnly bool) error {
	if !metaOnly {
		if err := drv.discardData(ctx, d, obj, merge); err != nil {
			return err
		}
	}
	return drv.discardMetadata(d, obj, merge)
}

// discardData removes what a snapshot keeps outside its metadata.
func (drv *Driver) discardData(ctx context.Context, d *domain, obj *dsnap.Snapshot, merge []diskMerge) error {
	def := obj.Def
	s := d.snap()
	if def.IsExternal() {
		if err := drv.discardExternal(ctx, d, obj, merge); err != nil {
			return err
		}
		if def.Memory == locExternal && def.MemoryFile != "" {
			if err := os.Remove(def.MemoryFile); err != nil && !errors.Is(err, os.ErrNotExist) {
				drv.log.Warn("failed to remove memory snapshot", "path", def.MemoryFile, "err", err)
			}
		}
		return nil
	}
	if def.Memory == locInternal {
		os.Remove(drv.snapshotMemPath(s.ref.Name, def.Name))
	}
	if !s.active() {
		domDef := def.Dom
		if domDef == nil {
			domDef = s.def.parsed()
		}
		return drv.snapshotQcow2(ctx, domDef, def.Disks, def.Name, "-d")
	}
	ds, ok := drv.be.(backend.DiskSnapshotter)
	if !ok {
		return libxlErr(libvirt.ErrOperationUnsupported, "this host cannot change the disks of a running guest")
	}
	if err := ds.DeleteDisksInternal(ctx, backend.DomID(s.ref.ID), liveInternal(s.def.parsed(), def.Disks), def.Name); err != nil {
		return libxlFailed(err, "Failed to delete internal snapshot '%s' of domain '%d'", def.Name, s.ref.ID)
	}
	return nil
}

// discardMetadata is qemuSnapshotDiscardMetadata with update_parent: the
// children reparented and rewritten, the parent's revert disks made its
// disks, the parent current if this one was, the file removed. Unlike
// libvirt, a current snapshot is first rewritten without its mark: the
// parent is written marked before the file goes, and a kill between the
// two would leave two current (which the next start takes as none, and
// which stay on disk). A kill at any step leaves the snapshot there, some
// children moved to the parent (a valid tree), and at most one current.
func (drv *Driver) discardMetadata(d *domain, obj *dsnap.Snapshot, merge []diskMerge) error {
	if drv.currentSnapshot(d) == obj {
		if err := drv.writeSnapshotMeta(d, obj, false); err != nil {
			return err
		}
	}
	d.mu.Lock()
	name := d.name
	parent := obj.Parent()
	tree := d.snapshotsLocked()
	if len(merge) > 0 {
		for _, o := range tree.Descendants(obj) {
			tree.Replace(o, mergedInto(o.Def, merge))
		}
	}
	if parent != nil && parent.Def.RevertDisks != nil {
		nd := *parent.Def
		nd.Disks, nd.RevertDisks = nd.RevertDisks, nil
		tree.Replace(parent, &nd)
	}
	children, wasCurrent := tree.Remove(obj)
	if wasCurrent {
		tree.SetCurrent(parent)
	}
	current := tree.Current()
	d.mu.Unlock()
	var first error
	for _, c := range children {
		if err := drv.writeSnapshotMeta(d, c, c == current); err != nil && first == nil {
			first = err
		}
	}
	if parent != nil {
		if err := drv.writeSnapshotMeta(d, parent, parent == current); err != nil && first == nil {
			first = err
		}
	}
	drv.removeSnapshotMeta(name, obj.Def.Name)
	return first
}
