package driver

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/job"
	"virtxend/internal/saveimage"
	dsnap "virtxend/internal/snapshot"
)

// prepareExternalDisk is qemuSnapshotPrepareDiskExternal for the file and
// block disks Xen guests have: the new image's format, and its file.
func prepareExternalDisk(sd *dsnap.Disk, dd *libvirtxml.DomainDisk, reuse bool) error {
	if f := snapDiskFormat(sd); f != "qcow2" {
		return libxlErr(libvirt.ErrConfigUnsupported, "external snapshot format for disk %s is unsupported: %s", sd.Name, f)
	}
	if dd.Source == nil || (dd.Source.File == nil && dd.Source.Block == nil) {
		return libxlErr(libvirt.ErrInternalError, "external snapshots are not supported on '%s' disks", diskSourceType(dd))
	}
	path := sd.Path()
	block := sd.Type == "block"
	fi, err := os.Stat(path)
	switch {
	case err != nil && !errors.Is(err, os.ErrNotExist):
		return errSystem(err, "unable to stat for disk %s: %s", sd.Name, path)
	case err != nil && reuse:
		return errSystem(syscall.ENOENT, "missing existing file for disk %s: %s", sd.Name, path)
	case err != nil && block:
		return libxlErr(libvirt.ErrOperationUnsupported, "block device snapshot target '%s' doesn't exist", path)
	case err != nil:
		return nil
	case (block && fi.Mode()&os.ModeDevice == 0) || (!block && !fi.Mode().IsRegular()):
		return libxlErr(libvirt.ErrConfigUnsupported, "mismatch between configured type for snapshot disk '%s' and the type of existing file '%s'", sd.Name, path)
	case !reuse && !block && fi.Size() > 0:
		return libxlErr(libvirt.ErrConfigUnsupported, "external snapshot file for disk %s already exists and is not a block device: %s", sd.Name, path)
	}
	return nil
}

func diskSourceType(dd *libvirtxml.DomainDisk) string {
	switch {
	case dd.Source == nil:
		return "none"
	case dd.Source.Network != nil:
		return "network"
	case dd.Source.Volume != nil:
		return "volume"
	case dd.Source.Dir != nil:
		return "dir"
	}
	return "none"
}

// snapshotInactiveExternal is qemuSnapshotCreateInactiveExternal: the
// overlays made, the persistent definition pointed at them and written.
func (drv *Driver) snapshotInactiveExternal(ctx context.Context, d *domain, def *dsnap.Def, reuse bool) error {
	s := d.snap()
	inactive := s.def.parsed()
	created, err := drv.createOverlays(ctx, inactive, def.Disks, reuse)
	if err != nil {
		return err
	}
	next := domxml.Copy(inactive)
	pointDisks(next, def.Disks)
	saved, err := drv.writeConfig(next)
	if err != nil {
		removeFiles(created)
		return err
	}
	d.mu.Lock()
	d.setDefLocked(next, saved)
	d.mu.Unlock()
	return nil
}

// snapshotActiveExternal is qemuSnapshotCreateActiveExternal: the memory
// saved first when the snapshot has it (the guest then suspended), else
// the guest paused; the disks switched to their overlays; the guest
// continued as it was, or destroyed with --halt.
func (drv *Driver) snapshotActiveExternal(a *job.Async, d *domain, def *dsnap.Def, flags uint32) error {
	s := d.snap()
	if flags&snapQuiesce != 0 {
		return libxlErr(libvirt.ErrArgumentUnsupported, "QEMU guest agent is not configured")
	}
	memory := def.Memory == locExternal
	stop, err := drv.stillGuest(a, d, s, memory, def.MemoryFile, flags&snapLive != 0)
	if err != nil {
		return err
	}
	if memory {
		// qemuSaveImageCreate's announcement; an internal snapshot's
		// memory (QEMU's savevm) has none.
		drv.announceCompleted(d, a)
	}
	created, err := drv.createOverlays(a.Context(), s.def.parsed(), def.Disks, flags&snapReuseExt != 0)
	if err == nil {
		err = drv.switchDisks(a.Context(), d, s, def)
	}
	if err != nil {
		removeFiles(created)
		stop.undo(drv, d)
		return err
	}
	return drv.snapshotTaken(a, d, stop, flags)
}

// snapshotActiveInternal is qemuSnapshotCreateActiveInternal for Xen: the
// memory to the snapshot directory, the qcow2 disks snapshotted in place
// while the guest is suspended.
func (drv *Driver) snapshotActiveInternal(a *job.Async, d *domain, def *dsnap.Def, flags uint32) error {
	s := d.snap()
	ds, ok := drv.be.(backend.DiskSnapshotter)
	if !ok {
		return libxlErr(libvirt.ErrOperationUnsupported, "this host cannot snapshot the disks of a running guest")
	}
	mem := drv.snapshotMemPath(s.ref.Name, def.Name)
	if err := os.MkdirAll(filepath.Dir(mem), 0o700); err != nil {
		return errSystem(err, "cannot create snapshot directory '%s'", filepath.Dir(mem))
	}
	stop, err := drv.stillGuest(a, d, s, true, mem, false)
	if err != nil {
		return err
	}
	if err := ds.SnapshotDisksInternal(a.Context(), backend.DomID(s.ref.ID), liveInternal(s.def.parsed(), def.Disks), def.Name); err != nil {
		stop.undo(drv, d)
		return libxlFailed(err, "Failed to snapshot the disks of domain '%d'", s.ref.ID)
	}
	return drv.snapshotTaken(a, d, stop, flags)
}

// stillness is how a running guest was made still for its snapshot, so
// that it can be set going again.
type stillness struct {
	id        backend.DomID
	paused    bool   // it was paused before
	suspended bool   // a memory save left it suspended
	image     string // the memory image written, removed if the snapshot fails
}

// stillGuest stops the guest's writes: its memory saved to path when
// memory (live: while it runs, as a migration), else a pause.
func (drv *Driver) stillGuest(a *job.Async, d *domain, s snapshot, memory bool, path string, live bool) (stillness, error) {
	st := stillness{id: backend.DomID(s.ref.ID), paused: s.state == libvirt.DomainPaused}
	if memory {
		if err := drv.saveMemory(a, d, s, path, live); err != nil {
			return st, err
		}
		st.suspended, st.image = true, path
		return st, nil
	}
	if !st.paused {
		if err := drv.be.Pause(a.Context(), st.id); err != nil {
			return st, libxlFailed(err, "Failed to suspend domain '%d' with libxenlight", st.id)
		}
	}
	return st, nil
}

// undo sets a guest going again after a failed snapshot, without its image.
func (st stillness) undo(drv *Driver, d *domain) {
	if st.image != "" {
		removePartial(st.image)
	}
	if err := st.resume(drv, context.Background()); err != nil {
		drv.log.Error("cannot resume the guest after a failed snapshot", "domain", d.ref().Name, "err", err)
	}
}

func (st stillness) resume(drv *Driver, ctx context.Context) error {
	if st.suspended {
		return drv.resumeGuest(ctx, st.id, st.paused)
	}
	if !st.paused {
		return drv.be.Unpause(ctx, st.id)
	}
	return nil
}

// snapshotTaken ends a running guest's snapshot: destroyed with --halt
// (STOPPED/FROM_SNAPSHOT), else going again as it was.
func (drv *Driver) snapshotTaken(a *job.Async, d *domain, st stillness, flags uint32) error {
	d.mu.Lock()
	d.saving = nil
	d.mu.Unlock()
	if flags&snapHalt != 0 {
		return drv.destroyInStep(a, d, guestEnd{
			reason: int32(libvirt.DomainShutoffFromSnapshot), detail: int32(libvirt.DomainEventStoppedFromSnapshot),
			ifStopped: errNotRunning(), vanishedOK: true,
		})
	}
	if err := st.resume(drv, context.WithoutCancel(a.Context())); err != nil {
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedAPIError))
		drv.emit(d.ref(), libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedAPIError))
		drv.writeStatus(d.snap())
		return libxlErr(libvirt.ErrOperationFailed, "resuming after snapshot failed")
	}
	return drv.writeStatus(d.snap())
}

// saveMemory writes the guest's memory to path as a save image (the live
// definition, the state to come back in), leaving the guest suspended.
// The status file names the image while it is written: a daemon killed
// meanwhile resumes the guest and removes it (recoverSave).
func (drv *Driver) saveMemory(a *job.Async, d *domain, s snapshot, path string, live bool) error {
	saver, ok := drv.be.(backend.Saver)
	if !ok {
		return libxlErr(libvirt.ErrOperationUnsupported, "this host cannot save a guest's memory")
	}
	text, err := drv.imageXML(s, "")
	if err != nil {
		return err
	}
	state := saveimage.StateRunning
	if s.state == libvirt.DomainPaused {
		state = saveimage.StatePaused
	}
	if err := drv.markSaving(d, &saveInFlight{Path: path, Paused: s.state == libvirt.DomainPaused}); err != nil {
		return err
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		drv.markSaving(d, nil)
		return errSystem(err, "Failed to create domain save file '%s'", path)
	}
	defer f.Close()
	w, err := saveimage.Begin(f, text, state)
	if err == nil {
		err = drv.sendMemory(a, saver, backend.DomID(s.ref.ID), f, live)
	}
	suspended := err == nil
	if err == nil {
		err = w.Commit()
	}
	if err != nil {
		if suspended {
			drv.resumeGuest(context.WithoutCancel(a.Context()), backend.DomID(s.ref.ID), s.state == libvirt.DomainPaused)
		}
		drv.markSaving(d, nil)
		removePartial(path)
		return drv.jobFailed(a, err, "snapshot", "Failed to save domain '%d' with libxenlight", s.ref.ID)
	}
	return nil
}

// sendMemory is the backend's save, live when asked and possible.
func (drv *Driver) sendMemory(a *job.Async, saver backend.Saver, id backend.DomID, f *os.File, live bool) error {
	if m, ok := drv.be.(backend.Migrator); ok && live {
		return m.SaveLive(a.Context(), id, f, drv.progressOf(a))
	}
	return saver.Save(a.Context(), id, f, drv.progressOf(a))
}

// switchDisks has the backend switch the still guest's disks to their
// overlays, then points the live and persistent definitions at them
// (qemuSnapshotDiskUpdateSource).
func (drv *Driver) switchDisks(ctx context.Context, d *domain, s snapshot, def *dsnap.Def) error {
	overlays := liveOverlays(s.def.parsed(), def.Disks)
	if len(overlays) == 0 {
		return nil
	}
	ds, ok := drv.be.(backend.DiskSnapshotter)
	if !ok {
		return libxlErr(libvirt.ErrOperationUnsupported, "this host cannot snapshot the disks of a running guest")
	}
	if err := ds.SwitchDisks(ctx, backend.DomID(s.ref.ID), overlays); err != nil {
		if errors.Is(err, backend.ErrUnsupported) {
			return hostUnsupported(err)
		}
		return libxlFailed(err, "Failed to switch the disks of domain '%d' to their snapshot overlays", s.ref.ID)
	}
	live := domxml.Copy(s.def.parsed())
	pointDisks(live, def.Disks)
	var saved *definition
	if s.newDef != nil {
		persistent := domxml.Copy(s.newDef.parsed())
		pointDisksByName(persistent, s.def.parsed(), def.Disks)
		var err error
		if saved, err = drv.writeConfig(persistent); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.def = liveDef(live)
	if saved != nil {
		d.newDef = saved
	}
	d.mu.Unlock()
	return nil
}

// pointDisksByName is pointDisks for a definition whose disks may be in
// another order than the live one's (the persistent one): each disk the
// live one switched, found by its target.
func pointDisksByName(def, live *libvirtxml.Domain, disks []dsnap.Disk) {
	for i := range disks {
		if disks[i].Snapshot != locExternal || i >= len(live.Devices.Disks) {
			continue
		}
		target := diskTarget(&live.Devices.Disks[i])
		for j := range def.Devices.Disks {
			if diskTarget(&def.Devices.Disks[j]) == target && diskSource(&def.Devices.Disks[j]) == diskSource(&live.Devices.Disks[i]) {
				pointDisk(&def.Devices.Disks[j], &disks[i])
			}
		}
	}
}

// snapshotMemPath is where the memory of an internal full snapshot is kept.
func (drv *Driver) snapshotMemPath(dom, snap string) string {
	return filepath.Join(drv.paths.SnapshotDir(), dom, snap+".save")
}
