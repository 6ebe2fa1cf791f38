package driver

import (
	"context"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/domxml"
	"virtxend/internal/job"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

// Snapshot creation follows libvirt's QEMU driver (qemuSnapshotCreateXML
// and what it calls) where Xen allows the same:
//
//   - a domain that is not running: external disk-only snapshots with
//     qemu-img overlays, or internal ones in its qcow2 disks (the default);
//   - a running domain, disk-only: the guest paused, overlays made and
//     its disks switched to them by the backend (QEMU's block layer
//     behind libxl's qdisk), the guest continued;
//   - a running domain, full: its memory saved as a save does it, the
//     guest left suspended while its disks are snapshotted (external:
//     overlays; internal: qcow2 snapshots in the images), then resumed,
//     or destroyed with --halt. QEMU keeps an internal snapshot's memory
//     inside a qcow2 image; libxl cannot, so the driver keeps it in the
//     snapshot directory beside the metadata, and it goes with it.

const (
	snapRedefine   = uint32(libvirt.DomainSnapshotCreateRedefine)
	snapCurrent    = uint32(libvirt.DomainSnapshotCreateCurrent)
	snapNoMetadata = uint32(libvirt.DomainSnapshotCreateNoMetadata)
	snapHalt       = uint32(libvirt.DomainSnapshotCreateHalt)
	snapDiskOnly   = uint32(libvirt.DomainSnapshotCreateDiskOnly)
	snapReuseExt   = uint32(libvirt.DomainSnapshotCreateReuseExt)
	snapQuiesce    = uint32(libvirt.DomainSnapshotCreateQuiesce)
	snapAtomic     = uint32(libvirt.DomainSnapshotCreateAtomic)
	snapLive       = uint32(libvirt.DomainSnapshotCreateLive)
	snapValidate   = uint32(libvirt.DomainSnapshotCreateValidate)
	snapCreateAll  = snapRedefine | snapCurrent | snapNoMetadata | snapHalt | snapDiskOnly |
		snapReuseExt | snapQuiesce | snapAtomic | snapLive | snapValidate
)

// Snapshot identifies a domain snapshot as remote_nonnull_domain_snapshot
// does: its domain and its name.
type Snapshot struct {
	Dom  Domain
	Name string
}

// SnapshotNames is the names of snaps, in order.
func SnapshotNames(snaps []Snapshot) []string {
	names := make([]string, len(snaps))
	for i, s := range snaps {
		names[i] = s.Name
	}
	return names
}

// SnapshotCreateXML takes a snapshot of the domain as xmlDesc describes
// it, or redefines one's metadata (virDomainSnapshotCreateXML).
func (drv *Driver) SnapshotCreateXML(ctx context.Context, dom Domain, xmlDesc string, flags uint32) (Snapshot, error) {
	const fn = "libxlDomainSnapshotCreateXML"
	if err := checkSnapshotCreateFlags(flags, fn); err != nil {
		return Snapshot{}, err
	}
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return Snapshot{}, err
	}
	s := d.snap()
	if !s.persistent && flags&snapHalt != 0 {
		return Snapshot{}, libxlErr(libvirt.ErrOperationInvalid, "cannot halt after transient domain snapshot")
	}
	def, err := dsnap.Parse(xmlDesc, snapshotParseFlags(s, flags))
	if err != nil {
		return Snapshot{}, err
	}
	if err := validateSnapshotDef(s, def, flags); err != nil {
		return Snapshot{}, err
	}
	a, err := drv.beginAsync(ctx, d, job.OpSnapshot)
	if err != nil {
		return Snapshot{}, err
	}
	if flags&snapRedefine != 0 {
		err = drv.redefineSnapshot(d, def, flags)
	} else {
		err = drv.createSnapshot(a, d, def, flags)
	}
	a.End(err)
	if err != nil {
		return Snapshot{}, err
	}
	return Snapshot{Dom: d.ref(), Name: def.Name}, nil
}

// checkSnapshotCreateFlags is the flags check of the create call,
// libvirt's entry point's and its QEMU driver's.
func checkSnapshotCreateFlags(flags uint32, fn string) error {
	if err := checkFlags(flags, snapCreateAll, fn); err != nil {
		return err
	}
	if flags&snapQuiesce != 0 && flags&snapDiskOnly == 0 {
		return virerr.InvalidArg(virerr.FromDomainSnapshot, fn, "flags", "Flag '%s' is required by flag '%s'",
			"VIR_DOMAIN_SNAPSHOT_CREATE_DISK_ONLY", "VIR_DOMAIN_SNAPSHOT_CREATE_QUIESCE")
	}
	if flags&snapLive != 0 && flags&snapRedefine != 0 {
		return virerr.InvalidArg(virerr.FromDomainSnapshot, fn, "flags", "Flags '%s' and '%s' are mutually exclusive",
			"VIR_DOMAIN_SNAPSHOT_CREATE_LIVE", "VIR_DOMAIN_SNAPSHOT_CREATE_REDEFINE")
	}
	return nil
}

// snapshotParseFlags is qemuSnapshotCreateXMLParse's choice.
func snapshotParseFlags(s snapshot, flags uint32) dsnap.ParseFlag {
	var pf dsnap.ParseFlag
	if flags&snapRedefine != 0 {
		pf |= dsnap.ParseRedefine
	}
	if flags&snapDiskOnly != 0 || !s.active() {
		pf |= dsnap.ParseOffline
	}
	if flags&snapValidate != 0 {
		pf |= dsnap.ParseValidate
	}
	return pf
}

// validateSnapshotDef is qemuSnapshotCreateXMLValidateDef.
func validateSnapshotDef(s snapshot, def *dsnap.Def, flags uint32) error {
	if flags&snapNoMetadata == 0 {
		if strings.Contains(def.Name, "/") {
			return libxlErr(libvirt.ErrXMLDetail, "invalid snapshot name '%s': name can't contain '/'", def.Name)
		}
		if strings.HasPrefix(def.Name, ".") {
			return libxlErr(libvirt.ErrXMLDetail, "invalid snapshot name '%s': name can't start with '.'", def.Name)
		}
	}
	if flags&snapLive != 0 && (!s.active() || def.Memory != locExternal) {
		return libxlErr(libvirt.ErrOperationUnsupported, "live snapshot creation is supported only during full system snapshots")
	}
	state := snapshotStateOf(s)
	if flags&snapRedefine != 0 {
		state = def.State
	}
	switch state {
	case dsnap.StateRunning, dsnap.StatePaused, dsnap.StateShutdown, dsnap.StateShutoff, dsnap.StateCrashed:
		return nil
	case dsnap.StateDiskSnapshot:
		if flags&snapRedefine != 0 {
			return nil
		}
	case dsnap.StatePMSuspended:
		return libxlErr(libvirt.ErrOperationUnsupported, "libxl doesn't support taking snapshots of PMSUSPENDED guests")
	}
	return libxlErr(libvirt.ErrInternalError, "Invalid domain state %s", state)
}

// snapshotStateOf is the domain's state as a snapshot records it
// (virDomainSnapshotState shares virDomainState's values).
func snapshotStateOf(s snapshot) dsnap.State {
	return dsnap.State(s.state)
}

// createSnapshot is qemuSnapshotCreate: the snapshot aligned to the
// domain, checked, taken, then made current and written.
func (drv *Driver) createSnapshot(a *job.Async, d *domain, def *dsnap.Def, flags uint32) error {
	s := d.snap()
	if err := noBlockJobs(d); err != nil {
		return err
	}
	if err := drv.alignSnapshot(s, def, flags); err != nil {
		return err
	}
	if err := prepareSnapshot(s, def, &flags); err != nil {
		return err
	}
	var obj *dsnap.Snapshot
	if flags&snapNoMetadata == 0 {
		var err error
		if obj, err = drv.assignSnapshot(d, def); err != nil {
			return err
		}
	}
	if err := drv.takeSnapshot(a, d, s, def, flags); err != nil {
		if obj != nil {
			drv.dropSnapshot(d, obj)
		}
		return err
	}
	if obj == nil {
		return nil
	}
	return drv.linkSnapshot(d, obj)
}

// takeSnapshot takes the snapshot def describes of d as it is in s.
func (drv *Driver) takeSnapshot(a *job.Async, d *domain, s snapshot, def *dsnap.Def, flags uint32) error {
	switch {
	case s.active() && (flags&snapDiskOnly != 0 || def.Memory == locExternal):
		return drv.snapshotActiveExternal(a, d, def, flags)
	case s.active():
		return drv.snapshotActiveInternal(a, d, def, flags)
	case flags&snapDiskOnly != 0:
		return drv.snapshotInactiveExternal(a.Context(), d, def, flags&snapReuseExt != 0)
	}
	return drv.snapshotQcow2(a.Context(), s.def.parsed(), def.Disks, def.Name, "-c")
}

// alignSnapshot is qemuSnapshotCreateAlignDisks: the snapshot keeps the
// domain's definitions, and each disk gets its location.
func (drv *Driver) alignSnapshot(s snapshot, def *dsnap.Def, flags uint32) error {
	def.Dom = domxml.Copy(s.def.parsed())
	if s.newDef != nil {
		def.InactiveDom = domxml.Copy(s.newDef.parsed())
	}
	def.State = snapshotStateOf(s)
	align := locInternal
	if useExternal(s, def, flags) {
		align = locExternal
		if flags&snapDiskOnly != 0 {
			def.State = dsnap.StateShutoff
			if s.active() {
				def.State = dsnap.StateDiskSnapshot
			}
			def.Memory, def.MemoryFile = locNo, ""
		}
	} else {
		if s.active() && def.Memory == locNo {
			return libxlErr(libvirt.ErrOperationUnsupported, "internal snapshot of a running VM must include the memory state")
		}
		if def.State == dsnap.StateShutoff {
			def.Memory, def.MemoryFile = locNo, ""
		} else {
			def.Memory, def.MemoryFile = locInternal, ""
		}
	}
	return dsnap.AlignDisks(def, nil, align, true, false)
}

// useExternal is qemuSnapshotCreateUseExternal.
func useExternal(s snapshot, def *dsnap.Def, flags uint32) bool {
	if flags&snapDiskOnly != 0 || def.Memory == locExternal {
		return true
	}
	if !s.active() {
		for _, sd := range def.Disks {
			if sd.Snapshot == locExternal {
				return true
			}
		}
	}
	return false
}

// prepareSnapshot is qemuSnapshotPrepare: what the disks ask for is
// possible and consistent. An external disk of a domain that is not
// running makes the snapshot disk-only.
func prepareSnapshot(s snapshot, def *dsnap.Def, flags *uint32) error {
	active := s.active()
	foundInternal, forbidInternal, external := false, false, 0
	disks := def.Disks
	for i := range disks {
		sd := &disks[i]
		dd := &s.def.parsed().Devices.Disks[i]
		switch sd.Snapshot {
		case locInternal:
			foundInternal = true
			if def.State == dsnap.StateDiskSnapshot && active {
				return libxlErr(libvirt.ErrConfigUnsupported, "active libxl domains require external disk snapshots; disk %s requested internal", sd.Name)
			}
			if f := diskFormat(dd); dd.Driver != nil && dd.Driver.Type != "" && f != "qcow2" {
				return libxlErr(libvirt.ErrConfigUnsupported, "internal snapshot for disk %s unsupported for storage type %s", sd.Name, f)
			}
		case locExternal:
			if err := prepareExternalDisk(sd, dd, *flags&snapReuseExt != 0); err != nil {
				return err
			}
			external++
		case locManual:
			forbidInternal = true
		case locNo:
			if diskSource(dd) != "" && dd.ReadOnly == nil {
				forbidInternal = true
			}
		}
	}
	memory := def.Memory
	switch {
	case !foundInternal && external == 0 && memory == locNo:
		return libxlErr(libvirt.ErrConfigUnsupported, "nothing selected for snapshot")
	case (memory == locInternal && !foundInternal) || (foundInternal && forbidInternal):
		return libxlErr(libvirt.ErrConfigUnsupported, "internal and full system snapshots require all disks to be selected for snapshot")
	case def.State == dsnap.StateDiskSnapshot && external == 0:
		return libxlErr(libvirt.ErrConfigUnsupported, "disk-only snapshots require at least one disk to be selected for snapshot")
	case (foundInternal && external > 0) || (memory == locInternal && external > 0) || (memory == locExternal && foundInternal):
		return libxlErr(libvirt.ErrConfigUnsupported, "mixing internal and external targets for a snapshot is not yet supported")
	}
	if external > 0 && !active {
		*flags |= snapDiskOnly
	}
	return nil
}

// redefineSnapshot is qemuSnapshotRedefine: the metadata of a snapshot
// taken elsewhere (or of one of the domain's, replaced), checked against
// the tree and written; current with VIR_DOMAIN_SNAPSHOT_CREATE_CURRENT.
func (drv *Driver) redefineSnapshot(d *domain, def *dsnap.Def, flags uint32) error {
	d.mu.Lock()
	tree := d.snapshotsLocked()
	other, err := tree.RedefinePrep(def, d.def.parsed(), flags&snapDiskOnly != 0)
	var obj *dsnap.Snapshot
	if err == nil && other != nil {
		tree.Replace(other, def)
		obj = other
	} else if err == nil {
		obj, err = tree.Add(def)
	}
	current := tree.Current() == obj
	d.mu.Unlock()
	if err != nil {
		return err
	}
	if flags&snapCurrent != 0 {
		return drv.makeCurrent(d, obj)
	}
	if err := drv.writeSnapshotMeta(d, obj, current); err != nil {
		if other == nil {
			drv.dropSnapshot(d, obj)
		}
		return err
	}
	return nil
}
