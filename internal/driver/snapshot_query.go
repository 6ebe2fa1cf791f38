package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

// The read-only snapshot calls, as libvirt's QEMU driver answers them
// (qemuDomainSnapshot*, qemuDomainListAllSnapshots): under the domain's
// lock, not its job.

const (
	snapListRoots       = uint32(libvirt.DomainSnapshotListRoots)
	snapListDescendants = uint32(libvirt.DomainSnapshotListDescendants)
	snapListTopological = uint32(libvirt.DomainSnapshotListTopological)
	snapFiltersAll      = uint32(libvirt.DomainSnapshotListLeaves | libvirt.DomainSnapshotListNoLeaves |
		libvirt.DomainSnapshotListMetadata | libvirt.DomainSnapshotListNoMetadata |
		libvirt.DomainSnapshotListInactive | libvirt.DomainSnapshotListActive | libvirt.DomainSnapshotListDiskOnly |
		libvirt.DomainSnapshotListInternal | libvirt.DomainSnapshotListExternal)
	snapXMLSecure = uint32(libvirt.DomainSnapshotXMLSecure)
)

// errNoSnapshot is qemuSnapObjFromName's error.
func errNoSnapshot(name string) error {
	return libxlErr(libvirt.ErrNoDomainSnapshot, "no domain snapshot with matching name '%s'", name)
}

// virerrSnapshot is an error raised where libvirt's snapshot code is
// (VIR_FROM_DOMAIN_SNAPSHOT).
func virerrSnapshot(code virerr.Code, format string, args ...any) error {
	return virerr.New(virerr.FromDomainSnapshot, code, format, args...)
}

// withSnapshots runs fn on dom's domain with its lock held (fn must not
// block); from, when set, names a snapshot fn gets, which must exist.
func (drv *Driver) withSnapshots(dom Domain, from *string, fn func(d *domain, obj *dsnap.Snapshot) error) error {
	d, err := drv.find(dom)
	if err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	var obj *dsnap.Snapshot
	if from != nil {
		if obj = d.snapshotsLocked().Lookup(*from); obj == nil {
			return errNoSnapshot(*from)
		}
	}
	return fn(d, obj)
}

// ListSnapshots lists dom's snapshots (from nil) or those under the
// snapshot from names, as flags select: virDomainSnapshotNum,
// ListNames, ListAllSnapshots and their children variants.
func (drv *Driver) ListSnapshots(ctx context.Context, dom Domain, from *string, flags uint32) ([]Snapshot, error) {
	fn, scope := "libxlDomainListAllSnapshots", snapListRoots
	if from != nil {
		fn, scope = "libxlDomainSnapshotListAllChildren", snapListDescendants
	}
	if err := checkFlags(flags, scope|snapListTopological|snapFiltersAll, fn); err != nil {
		return nil, err
	}
	var out []Snapshot
	err := drv.withSnapshots(dom, from, func(d *domain, obj *dsnap.Snapshot) error {
		ref := d.refLocked()
		for _, o := range d.snapshotsLocked().List(obj, dsnap.ListFlag(flags)) {
			out = append(out, Snapshot{Dom: ref, Name: o.Def.Name})
		}
		return nil
	})
	return out, err
}

// SnapshotLookupByName finds one of dom's snapshots.
func (drv *Driver) SnapshotLookupByName(ctx context.Context, dom Domain, name string, flags uint32) (Snapshot, error) {
	if err := checkFlags(flags, 0, "libxlDomainSnapshotLookupByName"); err != nil {
		return Snapshot{}, err
	}
	var out Snapshot
	err := drv.withSnapshots(dom, &name, func(d *domain, obj *dsnap.Snapshot) error {
		out = Snapshot{Dom: d.refLocked(), Name: obj.Def.Name}
		return nil
	})
	return out, err
}

// HasCurrentSnapshot says whether dom has a current snapshot.
func (drv *Driver) HasCurrentSnapshot(ctx context.Context, dom Domain, flags uint32) (bool, error) {
	if err := checkFlags(flags, 0, "libxlDomainHasCurrentSnapshot"); err != nil {
		return false, err
	}
	var has bool
	err := drv.withSnapshots(dom, nil, func(d *domain, _ *dsnap.Snapshot) error {
		has = d.snapshotsLocked().Current() != nil
		return nil
	})
	return has, err
}

// SnapshotCurrent is dom's current snapshot.
func (drv *Driver) SnapshotCurrent(ctx context.Context, dom Domain, flags uint32) (Snapshot, error) {
	if err := checkFlags(flags, 0, "libxlDomainSnapshotCurrent"); err != nil {
		return Snapshot{}, err
	}
	var out Snapshot
	err := drv.withSnapshots(dom, nil, func(d *domain, _ *dsnap.Snapshot) error {
		cur := d.snapshotsLocked().Current()
		if cur == nil {
			return libxlErr(libvirt.ErrNoDomainSnapshot, "the domain does not have a current snapshot")
		}
		out = Snapshot{Dom: d.refLocked(), Name: cur.Def.Name}
		return nil
	})
	return out, err
}

// SnapshotParent is the parent of snapshot sn.
func (drv *Driver) SnapshotParent(ctx context.Context, sn Snapshot, flags uint32) (Snapshot, error) {
	if err := checkFlags(flags, 0, "libxlDomainSnapshotGetParent"); err != nil {
		return Snapshot{}, err
	}
	var out Snapshot
	err := drv.withSnapshots(sn.Dom, &sn.Name, func(d *domain, obj *dsnap.Snapshot) error {
		if obj.Def.ParentName == "" {
			return libxlErr(libvirt.ErrNoDomainSnapshot, "snapshot '%s' does not have a parent", obj.Def.Name)
		}
		out = Snapshot{Dom: d.refLocked(), Name: obj.Def.ParentName}
		return nil
	})
	return out, err
}

// SnapshotIsCurrent says whether sn is its domain's current snapshot.
func (drv *Driver) SnapshotIsCurrent(ctx context.Context, sn Snapshot, flags uint32) (bool, error) {
	if err := checkFlags(flags, 0, "libxlDomainSnapshotIsCurrent"); err != nil {
		return false, err
	}
	var cur bool
	err := drv.withSnapshots(sn.Dom, &sn.Name, func(d *domain, obj *dsnap.Snapshot) error {
		cur = d.snapshotsLocked().Current() == obj
		return nil
	})
	return cur, err
}

// SnapshotHasMetadata: every snapshot the driver knows has metadata.
func (drv *Driver) SnapshotHasMetadata(ctx context.Context, sn Snapshot, flags uint32) (bool, error) {
	if err := checkFlags(flags, 0, "libxlDomainSnapshotHasMetadata"); err != nil {
		return false, err
	}
	err := drv.withSnapshots(sn.Dom, &sn.Name, func(*domain, *dsnap.Snapshot) error { return nil })
	return err == nil, err
}

// SnapshotXMLDesc is sn's <domainsnapshot> (flags:
// VIR_DOMAIN_SNAPSHOT_XML_SECURE).
func (drv *Driver) SnapshotXMLDesc(ctx context.Context, sn Snapshot, flags uint32) (string, error) {
	if err := checkFlags(flags, snapXMLSecure, "libxlDomainSnapshotGetXMLDesc"); err != nil {
		return "", err
	}
	var text string
	err := drv.withSnapshots(sn.Dom, &sn.Name, func(d *domain, obj *dsnap.Snapshot) error {
		var err error
		text, err = dsnap.Format(obj.Def, d.uuid.String(), dsnap.XMLFlags(flags))
		return err
	})
	return text, err
}
