package driver

import (
	"context"
	"errors"
	"os"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	dsnap "virtxend/internal/snapshot"
)

// diskMerge is what deleting an external snapshot does to one disk
// (qemuSnapshotDeleteExternalData): merge the overlay into the image the
// snapshot froze (backing), rebase the image above it (above, "" when
// the overlay is the domain's disk itself), or, for a leaf off the
// domain's chain, remove the image only that snapshot still needed.
type diskMerge struct {
	target          string
	overlay         string
	backing, format string
	above           string
	remove          string
}

// prepareMerge is qemuSnapshotDeleteExternalPrepare: nothing for an
// internal snapshot or a delete of children; for an external one, each
// disk's merge, checked against the domain's backing chain.
func (drv *Driver) prepareMerge(ctx context.Context, d *domain, obj *dsnap.Snapshot, flags uint32) ([]diskMerge, error) {
	def := obj.Def
	if !def.IsExternal() || flags&(deleteChildren|deleteChildrenOnly) != 0 {
		return nil, nil
	}
	d.mu.Lock()
	cur := d.snapshotsLocked().Current()
	var firstChild *dsnap.Snapshot
	if c := obj.Children(); len(c) > 0 {
		firstChild = c[0]
	}
	d.mu.Unlock()
	parentSnap := func(disk string) *dsnap.Snapshot {
		d.mu.Lock()
		defer d.mu.Unlock()
		return parentForDisk(obj, disk)
	}
	s := d.snap()
	merge := obj == cur || firstChild != nil
	var out []diskMerge
	for i := range def.Disks {
		sd := &def.Disks[i]
		if sd.Snapshot != locExternal {
			continue
		}
		pd := targetDisk(def.Dom, sd.Name)
		if pd == nil {
			return nil, libxlErr(libvirt.ErrOperationFailed, "failed to find disk '%s' in snapshot VM XML", sd.Name)
		}
		m := diskMerge{target: sd.Name, backing: diskSource(pd), format: diskFormat(pd)}
		if !merge {
			if ps := parentSnap(sd.Name); ps != nil && ps.Def.IsExternal() {
				m.remove = m.backing
			}
			out = append(out, m)
			continue
		}
		if ps := parentSnap(sd.Name); ps != nil && !ps.Def.IsExternal() {
			return nil, libxlErr(libvirt.ErrOperationUnsupported, "deleting external snapshot that has internal snapshot as parent not supported")
		}
		m.overlay = sd.Path()
		switch {
		case firstChild != nil:
			if cd := targetDisk(firstChild.Def.Dom, sd.Name); cd != nil {
				m.overlay = diskSource(cd)
			}
		case obj == cur:
			if dd := targetDisk(s.def.parsed(), sd.Name); dd != nil {
				m.overlay = diskSource(dd)
			}
		}
		if err := drv.placeInChain(ctx, s.def.parsed(), &m); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, nil
}

// parentForDisk is qemuSnapshotFindParentSnapForDisk: the nearest
// ancestor of s that snapshotted the disk named disk.
func parentForDisk(s *dsnap.Snapshot, disk string) *dsnap.Snapshot {
	for p := s.Parent(); p != nil; p = p.Parent() {
		for _, pd := range p.Def.Disks {
			if pd.Name == disk && pd.Snapshot != locNo {
				return p
			}
		}
	}
	return nil
}

// placeInChain finds m's overlay in the backing chain of the domain's
// disk and the image above it, and checks that the image below is the
// one the snapshot froze.
func (drv *Driver) placeInChain(ctx context.Context, def *libvirtxml.Domain, m *diskMerge) error {
	dd := targetDisk(def, m.target)
	if dd == nil {
		return libxlErr(libvirt.ErrInvalidArg, "disk '%s' not found in domain", m.target)
	}
	chain, err := drv.qemuImg.Chain(ctx, diskSource(dd))
	if err != nil {
		return qemuImgErr(err)
	}
	for k, img := range chain {
		if img.Filename != m.overlay {
			continue
		}
		if k+1 >= len(chain) {
			return libxlErr(libvirt.ErrOperationFailed, "failed to find parent disk source in backing chain")
		}
		if chain[k+1].Filename != m.backing {
			return libxlErr(libvirt.ErrOperationFailed, "snapshot VM disk source and parent disk source are not the same")
		}
		if k > 0 {
			m.above = chain[k-1].Filename
		}
		return nil
	}
	return libxlErr(libvirt.ErrOperationFailed, "VM disk source and snapshot disk source are not the same")
}

// discardExternal is qemuSnapshotDiscardExternal with qemu-img: each
// overlay committed into its backing image, the image above rebased onto
// that (or the domain's disk pointed at it), the overlay removed; a
// leaf's frozen image removed.
func (drv *Driver) discardExternal(ctx context.Context, d *domain, obj *dsnap.Snapshot, merge []diskMerge) error {
	for _, m := range merge {
		if m.remove != "" {
			if err := os.Remove(m.remove); err != nil && !errors.Is(err, os.ErrNotExist) {
				drv.log.Warn("Failed to remove snapshot image", "path", m.remove, "err", err)
			}
			continue
		}
		if m.overlay == "" {
			continue
		}
		merged := drv.commitOffline
		if d.snap().active() {
			merged = drv.commitLive
		}
		if err := merged(ctx, d, m); err != nil {
			return err
		}
		if err := os.Remove(m.overlay); err != nil && !errors.Is(err, os.ErrNotExist) {
			drv.log.Warn("Failed to remove merged snapshot image", "path", m.overlay, "err", err)
		}
	}
	return nil
}

// commitOffline merges m's overlay into its backing image with qemu-img,
// and rebases the image above onto it, or has the domain's disk read it.
func (drv *Driver) commitOffline(ctx context.Context, d *domain, m diskMerge) error {
	if err := drv.qemuImg.Commit(ctx, m.overlay); err != nil {
		return errBlockCommit(m, err)
	}
	if m.above != "" {
		if err := drv.qemuImg.Rebase(ctx, m.above, m.backing, m.format, true); err != nil {
			return qemuImgErr(err)
		}
		return nil
	}
	return drv.repointDisk(d, m)
}

func errBlockCommit(m diskMerge, err error) error {
	return libxlErr(libvirt.ErrInternalError, "block commit failed while deleting disk '%s' snapshot: '%v'", m.target, err)
}

// canCommitLive is whether the backend merges images under a running guest.
func (drv *Driver) canCommitLive() bool {
	_, ok := drv.be.(backend.DiskJobs)
	return ok
}

// commitLive merges m's overlay into its backing image under the running
// guest: its device model block-commits (QEMU rebases the image above
// itself), and when the overlay was the disk's own image the commit is
// completed once ready, and the disk reads the backing image in both
// definitions.
func (drv *Driver) commitLive(ctx context.Context, d *domain, m diskMerge) error {
	bc, err := drv.diskJobs("virDomainSnapshotDelete")
	if err != nil {
		return err
	}
	if err := noBlockJobOn(d, m.target); err != nil {
		return err
	}
	id := backend.DomID(d.snap().ref.ID)
	if err := bc.StartCommit(ctx, id, m.target, m.overlay, m.backing, 0); err != nil {
		if errors.Is(err, backend.ErrUnsupported) {
			return hostUnsupported(err)
		}
		return errBlockCommit(m, err)
	}
	if err := waitCommit(ctx, bc, id, m.target, m.above == ""); err != nil {
		return errBlockCommit(m, err)
	}
	if m.above != "" {
		return nil
	}
	drv.editLive(d, func(def *libvirtxml.Domain) { setDiskImage(def, m.overlay, m.backing, m.format) })
	if err := drv.saveStatusIfActive(d); err != nil {
		return err
	}
	if !d.snap().persistent {
		return nil
	}
	return drv.editPersistent(d, func(def *libvirtxml.Domain) { setDiskImage(def, m.overlay, m.backing, m.format) })
}

// waitCommit follows disk vdev's commit job to its end, completing an
// active one once ready; ctx's end cancels it.
func waitCommit(ctx context.Context, bc backend.DiskJobs, id backend.DomID, vdev string, active bool) error {
	completed := false
	for {
		select {
		case <-ctx.Done():
			bc.CancelJob(context.WithoutCancel(ctx), id, vdev)
			return ctx.Err()
		case <-time.After(blockJobPoll / 2):
		}
		st, ok, err := bc.JobStatus(ctx, id, vdev)
		switch {
		case err != nil:
			return err
		case !ok:
			return errors.New("the device model has no such job any more")
		case st.Done && st.Err != "":
			return errors.New(st.Err)
		case st.Done:
			return nil
		case st.Ready && active && !completed:
			if err := bc.CompleteJob(ctx, id, vdev); err != nil {
				return err
			}
			completed = true
		}
	}
}

// repointDisk makes the inactive domain's disk m.target read m's backing
// image again, its overlay merged into it.
func (drv *Driver) repointDisk(d *domain, m diskMerge) error {
	s := d.snap()
	next := domxml.Copy(s.def.parsed())
	setDiskImage(next, m.overlay, m.backing, m.format)
	var saved *definition
	if s.persistent {
		var err error
		if saved, err = drv.writeConfig(next); err != nil {
			return err
		}
	}
	d.mu.Lock()
	d.setDefLocked(next, saved)
	d.mu.Unlock()
	return nil
}

// setDiskImage points the disks of def that read from at to, of format.
func setDiskImage(def *libvirtxml.Domain, from, to, format string) {
	if def == nil || def.Devices == nil {
		return
	}
	for i := range def.Devices.Disks {
		dd := &def.Devices.Disks[i]
		if diskSource(dd) != from {
			continue
		}
		dd.Source = &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: to}}
		if dd.Driver == nil {
			dd.Driver = &libvirtxml.DomainDiskDriver{}
		}
		dd.Driver.Type = format
	}
}

// mergedInto is a descendant's definition once merges are done: disks
// that read a merged overlay read its backing image
// (qemuSnapshotUpdateDisksSingle).
func mergedInto(def *dsnap.Def, merge []diskMerge) *dsnap.Def {
	nd := *def
	if def.Dom != nil {
		nd.Dom = domxml.Copy(def.Dom)
	}
	if def.InactiveDom != nil {
		nd.InactiveDom = domxml.Copy(def.InactiveDom)
	}
	for _, m := range merge {
		if m.overlay != "" {
			setDiskImage(nd.Dom, m.overlay, m.backing, m.format)
			setDiskImage(nd.InactiveDom, m.overlay, m.backing, m.format)
		}
	}
	return &nd
}

// targetDisk is def's disk with target dev, nil if none.
func targetDisk(def *libvirtxml.Domain, dev string) *libvirtxml.DomainDisk {
	if def == nil {
		return nil
	}
	if i := diskByTarget(def, dev); i >= 0 {
		return &def.Devices.Disks[i]
	}
	return nil
}
