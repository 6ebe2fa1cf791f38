package driver

import (
	"context"
	"errors"
	"os"
	"strconv"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/job"
	dsnap "virtxend/internal/snapshot"
	"virtxend/internal/virerr"
)

// Revert follows libvirt's QEMU driver (qemuSnapshotRevert): a running
// domain is stopped first (STOPPED/FROM_SNAPSHOT); a snapshot with memory
// starts the guest from it (STARTED/FROM_SNAPSHOT, and SUSPENDED/
// FROM_SNAPSHOT when it comes back paused); one without leaves the domain
// shut off unless --running or --paused. An external snapshot's disks get
// new overlays over the images the snapshot froze, so that the snapshot
// stays intact and can be reverted to again; the overlays the domain
// wrote since the current snapshot go (qemuSnapshotRevertExternalFinish).
// An internal one's qcow2 images are set back with qemu-img snapshot -a.

const (
	revertRunning = uint32(libvirt.DomainSnapshotRevertRunning)
	revertPaused  = uint32(libvirt.DomainSnapshotRevertPaused)
	revertForce   = uint32(libvirt.DomainSnapshotRevertForce)
	revertNVRAM   = uint32(libvirt.DomainSnapshotRevertResetNvram)
)

// RevertToSnapshot makes the domain what snapshot sn recorded
// (virDomainRevertToSnapshot).
func (drv *Driver) RevertToSnapshot(ctx context.Context, sn Snapshot, flags uint32) error {
	const fn = "libxlDomainRevertToSnapshot"
	if err := checkFlags(flags, revertRunning|revertPaused|revertForce|revertNVRAM, fn); err != nil {
		return err
	}
	if flags&revertRunning != 0 && flags&revertPaused != 0 {
		return virerr.InvalidArg(virerr.FromDomainSnapshot, fn, "flags", "Flags '%s' and '%s' are mutually exclusive",
			"VIR_DOMAIN_SNAPSHOT_REVERT_RUNNING", "VIR_DOMAIN_SNAPSHOT_REVERT_PAUSED")
	}
	d, err := drv.findNonDom0(sn.Dom)
	if err != nil {
		return err
	}
	a, err := drv.beginAsync(ctx, d, job.OpSnapshotRevert)
	if err != nil {
		return err
	}
	err = drv.revert(a, d, sn.Name, flags)
	a.End(err)
	if s := d.snap(); err != nil && !s.persistent && !s.active() {
		drv.remove(d) // qemuDomainRemoveInactive: a transient domain left stopped goes
	}
	if err == nil {
		drv.awaitConsoles(ctx, d) // once the job is over: recording takes it
	}
	return err
}

// revertPlan is what a revert makes of the domain.
type revertPlan struct {
	obj *dsnap.Snapshot
	// config is the definition the guest runs with (a snapshot with
	// memory), inactive the persistent one; either may be nil.
	config, inactive *libvirtxml.Domain
	// overlays is the new overlays of an external snapshot's disks.
	overlays *dsnap.Def
}

func (drv *Driver) revert(a *job.Async, d *domain, name string, flags uint32) error {
	d.mu.Lock()
	obj := d.snapshotsLocked().Lookup(name)
	d.mu.Unlock()
	if obj == nil {
		return errNoSnapshot(name)
	}
	s := d.snap()
	if err := drv.validateRevert(s, obj.Def, flags); err != nil {
		return err
	}
	plan := revertPrep(s, obj)
	switch obj.Def.State {
	case dsnap.StateRunning, dsnap.StatePaused:
		return drv.revertActive(a, d, plan, flags)
	case dsnap.StateShutdown, dsnap.StateShutoff, dsnap.StateCrashed, dsnap.StateDiskSnapshot:
		return drv.revertInactive(a, d, plan, flags)
	case dsnap.StatePMSuspended:
		return libxlErr(libvirt.ErrOperationUnsupported, "libxl doesn't support reversion of snapshot taken in PMSUSPENDED state")
	}
	return libxlErr(libvirt.ErrInternalError, "Invalid target domain state '%s'. Refusing snapshot reversion", obj.Def.State)
}

// validateRevert is qemuSnapshotRevertValidate.
func (drv *Driver) validateRevert(s snapshot, def *dsnap.Def, flags uint32) error {
	withMemory := def.State == dsnap.StateRunning || def.State == dsnap.StatePaused
	if !s.persistent && !withMemory && flags&(revertRunning|revertPaused) == 0 {
		return libxlErr(libvirt.ErrOperationInvalid, "transient domain needs to request run or pause to revert to inactive snapshot")
	}
	if def.Dom == nil {
		return libxlErr(libvirt.ErrSnapshotRevertRisky, "snapshot '%s' lacks domain '%s' rollback info", def.Name, s.ref.Name)
	}
	if flags&revertForce == 0 && drv.hasManagedSave(s.ref.Name) && !withMemory {
		return libxlErr(libvirt.ErrSnapshotRevertRisky, "snapshot without memory state, removal of existing managed saved state strongly recommended to avoid corruption")
	}
	if def.IsExternal() {
		for i := range def.Dom.Devices.Disks {
			if dd := &def.Dom.Devices.Disks[i]; dd.Source == nil || dd.Source.File == nil {
				return libxlErr(libvirt.ErrOperationUnsupported, "source disk for '%s' is not a regular file, reverting to snapshot is not supported", diskTarget(dd))
			}
		}
	}
	return nil
}

// revertPrep is qemuSnapshotRevertPrep: the definitions to come back to,
// with the domain's current name.
func revertPrep(s snapshot, obj *dsnap.Snapshot) *revertPlan {
	def := obj.Def
	config := domxml.Copy(def.Dom)
	config.Name = s.ref.Name
	plan := &revertPlan{obj: obj, config: config}
	switch {
	case def.InactiveDom != nil:
		plan.inactive = domxml.Copy(def.InactiveDom)
		plan.inactive.Name = s.ref.Name
	case def.State == dsnap.StateRunning || def.State == dsnap.StatePaused:
		plan.inactive = domxml.Copy(config)
	default:
		plan.inactive, plan.config = config, nil
	}
	return plan
}

// revertActive is qemuSnapshotRevertActive: the guest comes back from the
// snapshot's memory, paused, then running unless it was paused or
// --paused says so.
func (drv *Driver) revertActive(a *job.Async, d *domain, plan *revertPlan, flags uint32) error {
	ctx := a.Context()
	if err := drv.stopForRevert(ctx, d); err != nil {
		return err
	}
	if err := drv.revertDisks(ctx, plan, plan.config); err != nil {
		return err
	}
	if err := drv.assignInactive(d, plan.inactive); err != nil {
		return err
	}
	img, err := drv.snapshotImage(d, plan)
	if err != nil {
		return err
	}
	defer img.Close()
	if err := drv.boot(ctx, d, true, img); err != nil {
		return err
	}
	paused := flags&revertRunning == 0 && (plan.obj.Def.State == dsnap.StatePaused || flags&revertPaused != 0)
	if err := drv.settleReverted(ctx, d, paused); err != nil {
		return err
	}
	return drv.finishRevert(d, plan)
}

// revertInactive is qemuSnapshotRevertInactive: the domain stopped, its
// disks set back, then started afresh when --running or --paused asks.
func (drv *Driver) revertInactive(a *job.Async, d *domain, plan *revertPlan, flags uint32) error {
	ctx := a.Context()
	if err := drv.stopForRevert(ctx, d); err != nil {
		return err
	}
	if err := drv.revertDisks(ctx, plan, plan.inactive); err != nil {
		return err
	}
	if err := drv.assignInactive(d, plan.inactive); err != nil {
		return err
	}
	if flags&(revertRunning|revertPaused) != 0 {
		paused := flags&revertPaused != 0
		if err := drv.boot(ctx, d, paused, &image{fromSnapshot: true}); err != nil {
			return err
		}
		if paused {
			drv.emit(d.ref(), libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedFromSnapshot))
		}
	}
	return drv.finishRevert(d, plan)
}

// stopForRevert destroys a running guest for a revert; the domain stays,
// transient or not, until the revert is done.
func (drv *Driver) stopForRevert(ctx context.Context, d *domain) error {
	s := d.snap()
	if !s.active() {
		return nil
	}
	err := drv.be.Destroy(context.WithoutCancel(ctx), backend.DomID(s.ref.ID))
	if err != nil && !errors.Is(err, backend.ErrNoGuest) {
		return libxlFailed(err, "Failed to destroy domain '%d'", s.ref.ID)
	}
	d.setState(libvirt.DomainShutoff, int32(libvirt.DomainShutoffFromSnapshot))
	drv.cleanup(d)
	drv.emit(s.ref, libvirt.DomainEventStopped, int32(libvirt.DomainEventStoppedFromSnapshot))
	return nil
}

// revertDisks sets the disks back: new overlays over an external
// snapshot's images, named for now and pointed at from def; an internal
// snapshot's images set back in place.
func (drv *Driver) revertDisks(ctx context.Context, plan *revertPlan, def *libvirtxml.Domain) error {
	snap := plan.obj.Def
	if !snap.IsExternal() {
		return drv.snapshotQcow2(ctx, snap.Dom, snap.Disks, snap.Name, "-a")
	}
	tmp, err := revertOverlayNames(def)
	if err != nil {
		return err
	}
	for i := range tmp.Disks {
		if tmp.Disks[i].Snapshot != locExternal {
			continue
		}
		if err := prepareExternalDisk(&tmp.Disks[i], &def.Devices.Disks[i], false); err != nil {
			return err
		}
	}
	if _, err := drv.createOverlays(ctx, def, tmp.Disks, false); err != nil {
		return err
	}
	// The persistent definition of a snapshot with memory reads the
	// frozen images too: it moves to the new overlays with the live one,
	// or its next boot would write into the snapshot.
	if other := plan.inactive; other != nil && other != def {
		pointDisksByName(other, def, tmp.Disks)
	}
	pointDisks(def, tmp.Disks)
	plan.overlays = tmp
	return nil
}

// revertOverlayNames names a revert's new overlays as libvirt does, after
// the time (seconds), with a count after it when a revert in the same
// second took those names already.
func revertOverlayNames(def *libvirtxml.Domain) (*dsnap.Def, error) {
	now := time.Now().Unix()
	for n := 0; ; n++ {
		name := strconv.FormatInt(now, 10)
		if n > 0 {
			name += "-" + strconv.Itoa(n)
		}
		tmp := &dsnap.Def{Name: name, CreationTime: now}
		if err := dsnap.AlignDisks(tmp, def, locExternal, false, true); err != nil {
			return nil, err
		}
		if n >= 100 || !anyExists(tmp.Disks) {
			return tmp, nil
		}
	}
}

func anyExists(disks []dsnap.Disk) bool {
	for i := range disks {
		if disks[i].Snapshot == locExternal {
			if _, err := os.Stat(disks[i].Path()); err == nil {
				return true
			}
		}
	}
	return false
}

// assignInactive makes inactive the domain's persistent definition
// (written) or, for a transient domain, the one it starts with.
func (drv *Driver) assignInactive(d *domain, inactive *libvirtxml.Domain) error {
	if inactive == nil {
		return nil
	}
	var saved *definition
	if d.snap().persistent {
		var err error
		if saved, err = drv.writeConfig(inactive); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.setDefLocked(inactive, saved)
	d.mu.Unlock()
	return nil
}

// snapshotImage opens the memory image of a snapshot with memory, to
// start the guest from with the plan's definition.
func (drv *Driver) snapshotImage(d *domain, plan *revertPlan) (*image, error) {
	def := plan.obj.Def
	path := def.MemoryFile
	if def.Memory == locInternal {
		path = drv.snapshotMemPath(d.ref().Name, def.Name)
	}
	img, err := openImage(path)
	if err != nil {
		return nil, err
	}
	img.def, img.fromSnapshot, img.paused = plan.config, true, true
	return img, nil
}

// settleReverted gives a guest a revert started paused its state: paused
// (SUSPENDED/FROM_SNAPSHOT) or running (reason from snapshot).
func (drv *Driver) settleReverted(ctx context.Context, d *domain, paused bool) error {
	s := d.snap()
	if paused {
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedFromSnapshot))
		drv.emit(s.ref, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedFromSnapshot))
	} else {
		if err := drv.be.Unpause(ctx, backend.DomID(s.ref.ID)); err != nil {
			return libxlFailed(err, "Failed to resume domain '%d' with libxenlight", s.ref.ID)
		}
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningFromSnapshot))
	}
	return drv.writeStatus(d.snap())
}

// finishRevert is qemuSnapshotRevertExternalFinish and
// qemuSnapshotRevertWriteMetadata: the overlays the domain wrote since
// the current snapshot go, the reverted-to snapshot keeps the new ones
// (as its disks, or as revert disks when it has children), and it
// becomes current.
func (drv *Driver) finishRevert(d *domain, plan *revertPlan) error {
	if plan.overlays != nil {
		drv.dropCurrentOverlays(d)
		d.mu.Lock()
		nd := *plan.obj.Def
		if plan.obj.NumChildren() > 0 {
			nd.RevertDisks = plan.overlays.Disks
		} else {
			nd.Disks, nd.RevertDisks = plan.overlays.Disks, nil
		}
		plan.obj.Def = &nd
		d.mu.Unlock()
	}
	if err := drv.makeCurrent(d, plan.obj); err != nil {
		return err
	}
	if plan.inactive != nil && d.snap().persistent {
		drv.emit(d.ref(), libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedFromSnapshot))
	}
	return nil
}

// dropCurrentOverlays removes the overlays the current snapshot made,
// which held what the domain wrote since, and forgets its revert disks.
func (drv *Driver) dropCurrentOverlays(d *domain) {
	d.mu.Lock()
	cur := d.snapshotsLocked().Current()
	if cur == nil {
		d.mu.Unlock()
		return
	}
	disks := cur.Def.Disks
	if cur.Def.RevertDisks != nil {
		disks = cur.Def.RevertDisks
		nd := *cur.Def
		nd.RevertDisks = nil
		cur.Def = &nd
	}
	d.mu.Unlock()
	for i := range disks {
		if disks[i].Snapshot == locExternal {
			if err := os.Remove(disks[i].Path()); err != nil && !errors.Is(err, os.ErrNotExist) {
				drv.log.Warn("Failed to remove snapshot image", "path", disks[i].Path(), "err", err)
			}
		}
	}
}
