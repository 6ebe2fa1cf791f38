package driver

import (
	"context"
	"errors"
	"math"
	"os"
	"regexp"
	"strconv"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/events"
	"virtxend/internal/job"
	"virtxend/internal/qemuimg"
)

// Block jobs (virsh blockcommit, blockjob), which libvirt's libxl driver
// lacks, as libvirt's QEMU driver runs them: a commit of a running
// guest's disk images, by its device model (QEMU's block-commit, for the
// disks Xen's device model serves), started by one call and followed in
// the background until it is done. An active commit (of the disk's own
// image) mirrors it into the base and waits, ready, for blockjob --pivot
// (the disk then reads the base) or --abort. Each change of a job's state
// sends libvirt's BLOCK_JOB and BLOCK_JOB_2 events.

// blockJobPoll is how often a job's state is read from the device model.
const blockJobPoll = 200 * time.Millisecond

// The job types and states of libvirt's events and job info.
const (
	blockJobPull         = int32(libvirt.DomainBlockJobTypePull)
	blockJobCopy         = int32(libvirt.DomainBlockJobTypeCopy)
	blockJobCommit       = int32(libvirt.DomainBlockJobTypeCommit)
	blockJobActiveCommit = int32(libvirt.DomainBlockJobTypeActiveCommit)
	blockJobCompleted    = int32(libvirt.DomainBlockJobCompleted)
	blockJobFailed       = int32(libvirt.DomainBlockJobFailed)
	blockJobCanceled     = int32(libvirt.DomainBlockJobCanceled)
	blockJobReady        = int32(libvirt.DomainBlockJobReady)
)

// blockJob is one disk's block job (libvirt's qemuBlockJobData). Its
// state fields are the domain's, under its mu.
type blockJob struct {
	disk       string // the disk's target
	path       string // the disk's image when the job began: the BLOCK_JOB event's path
	active     bool   // an active commit
	pull       bool   // a pull (block-stream), not a commit
	copy       bool   // a copy (drive-mirror) into base
	top, base  string
	baseFormat string
	speed      uint64   // bytes a second; 0 no limit
	remove     []string // the images merged, deleted once done (--delete)
	cur, end   uint64   // its progress at the follower's last look
	ready      bool
	pivot      bool // completed by blockjob --pivot
	cancel     bool // cancelled by blockjob --abort
	done       chan struct{}
	failure    string // why it failed, once done
}

// mirrors is whether the job mirrors the disk until it is completed (an
// active commit, a copy): it gets ready, shows a <mirror>, and pivots.
func (j *blockJob) mirrors() bool { return j.active || j.copy }

func (j *blockJob) kind() int32 {
	switch {
	case j.pull:
		return blockJobPull
	case j.copy:
		return blockJobCopy
	}
	if j.active {
		return blockJobActiveCommit
	}
	return blockJobCommit
}

// committer is the backend's commit jobs.
func (drv *Driver) diskJobs(api string) (backend.DiskJobs, error) {
	bc, ok := drv.be.(backend.DiskJobs)
	if !ok {
		return nil, domainErr(libvirt.ErrNoSupport, "%s", api)
	}
	return bc, nil
}

// BlockCommit is virDomainBlockCommit (flags: VIR_DOMAIN_BLOCK_COMMIT_*),
// with the checks of libvirt's QEMU driver (qemuDomainBlockCommit,
// qemuBlockCommit): top (the disk's own image when empty or the disk's
// target) is merged into base (the bottom of the chain when empty, the
// image below top with SHALLOW), each named by path or as "TARGET[INDEX]".
// The job runs on after the call; BLOCK_JOB events follow it.
func (drv *Driver) BlockCommit(ctx context.Context, dom Domain, disk, base, top string, bandwidth uint64, flags uint32) error {
	shallow, del := uint32(libvirt.DomainBlockCommitShallow), uint32(libvirt.DomainBlockCommitDelete)
	active, relative := uint32(libvirt.DomainBlockCommitActive), uint32(libvirt.DomainBlockCommitRelative)
	bytesFlag := uint32(libvirt.DomainBlockCommitBandwidthBytes)
	if err := checkFlags(flags, shallow|del|active|relative|bytesFlag, "libxlDomainBlockCommit"); err != nil {
		return err
	}
	return drv.startBlockJob(ctx, dom, disk, bandwidth, flags&bytesFlag != 0, func(d *domain, dd *libvirtxml.DomainDisk, speed uint64) (*blockJob, error) {
		src := diskSource(dd)
		if src == "" {
			return nil, libxlErr(libvirt.ErrConfigUnsupported, "disk %s has no source file to be committed", dd.Target.Dev)
		}
		chain, err := drv.qemuImg.Chain(ctx, src)
		if err != nil {
			return nil, qemuImgErr(err)
		}
		t, b, err := commitRange(chain, dd.Target.Dev, top, base, flags&shallow != 0)
		if err != nil {
			return nil, err
		}
		switch {
		case t == 0 && flags&active == 0:
			return nil, libxlErr(libvirt.ErrInvalidArg, "commit of '%s' active layer requires active flag", dd.Target.Dev)
		case t > 0 && flags&active != 0:
			return nil, libxlErr(libvirt.ErrInvalidArg, "active commit requested but '%s' is not active", chain[t].Filename)
		case t > 0 && flags&relative != 0:
			return nil, libxlErr(libvirt.ErrOperationUnsupported, "can't keep relative backing relationship")
		}
		bc, err := drv.diskJobs("virDomainBlockCommit")
		if err != nil {
			return nil, err
		}
		j := &blockJob{disk: dd.Target.Dev, path: src, active: t == 0, top: chain[t].Filename, base: chain[b].Filename,
			baseFormat: chain[b].Format, speed: speed, done: make(chan struct{})}
		if flags&del != 0 {
			for _, img := range chain[t:b] {
				j.remove = append(j.remove, img.Filename)
			}
		}
		if err := bc.StartCommit(ctx, backend.DomID(d.snap().ref.ID), j.disk, j.top, j.base, speed); err != nil {
			return nil, backendJobErr(err, "Failed to start the commit of disk '%s'", j.disk)
		}
		return j, nil
	})
}

// startBlockJob takes the running domain's job, finds its disk named disk,
// which must have no block job, and follows the job start starts on it at
// bandwidth (MiB a second unless inBytes).
func (drv *Driver) startBlockJob(ctx context.Context, dom Domain, disk string, bandwidth uint64, inBytes bool,
	start func(d *domain, dd *libvirtxml.DomainDisk, speed uint64) (*blockJob, error)) error {
	speed, err := bandwidthBytes(bandwidth, inBytes)
	if err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	dd, err := liveDisk(d, disk)
	if err != nil {
		return err
	}
	if err := noBlockJobOn(d, dd.Target.Dev); err != nil {
		return err
	}
	j, err := start(d, dd, speed)
	if err != nil {
		return err
	}
	drv.addBlockJob(d, j)
	return nil
}

// BlockPull is virDomainBlockPull (flags:
// VIR_DOMAIN_BLOCK_PULL_BANDWIDTH_BYTES): the disk's own image gets the
// data of its whole backing chain, and then stands alone.
func (drv *Driver) BlockPull(ctx context.Context, dom Domain, disk string, bandwidth uint64, flags uint32) error {
	inBytes := uint32(libvirt.DomainBlockPullBandwidthBytes)
	if err := checkFlags(flags, inBytes, "libxlDomainBlockPull"); err != nil {
		return err
	}
	return drv.blockPull(ctx, dom, disk, "", bandwidth, flags&inBytes != 0)
}

// BlockRebase is virDomainBlockRebase (flags: VIR_DOMAIN_BLOCK_REBASE_*)
// as libvirt's QEMU driver serves it: with COPY a block copy into base
// (blockcopy.go); without, a pull into the disk's own image of what it
// reads from the images above base, an image of its chain (none: the
// whole chain).
func (drv *Driver) BlockRebase(ctx context.Context, dom Domain, disk, base string, bandwidth uint64, flags uint32) error {
	copyFlag, relative := uint32(libvirt.DomainBlockRebaseCopy), uint32(libvirt.DomainBlockRebaseRelative)
	inBytes := uint32(libvirt.DomainBlockRebaseBandwidthBytes)
	all := uint32(libvirt.DomainBlockRebaseShallow|libvirt.DomainBlockRebaseReuseExt|libvirt.DomainBlockRebaseCopyRaw|libvirt.DomainBlockRebaseCopyDev) |
		copyFlag | relative | inBytes
	if err := checkFlags(flags, all, "libxlDomainBlockRebase"); err != nil {
		return err
	}
	if flags&copyFlag != 0 {
		if flags&relative != 0 {
			return libxlErr(libvirt.ErrArgumentUnsupported, "Relative backing during copy not supported yet")
		}
		return drv.blockCopyFromRebase(ctx, dom, disk, base, bandwidth, flags)
	}
	if err := checkFlags(flags, relative|inBytes, "libxlDomainBlockPullCommon"); err != nil {
		return err
	}
	switch {
	case flags&relative != 0 && base == "":
		return libxlErr(libvirt.ErrInvalidArg, "flag VIR_DOMAIN_BLOCK_REBASE_RELATIVE is valid only with non-null base")
	case flags&relative != 0:
		return libxlErr(libvirt.ErrOperationUnsupported, "can't keep relative backing relationship")
	}
	return drv.blockPull(ctx, dom, disk, base, bandwidth, flags&inBytes != 0)
}

// blockPull is qemuDomainBlockPullCommon: a pull job down to base ("" the
// whole chain) on the running domain's disk.
func (drv *Driver) blockPull(ctx context.Context, dom Domain, disk, base string, bandwidth uint64, inBytes bool) error {
	return drv.startBlockJob(ctx, dom, disk, bandwidth, inBytes, func(d *domain, dd *libvirtxml.DomainDisk, speed uint64) (*blockJob, error) {
		src := diskSource(dd)
		j := &blockJob{disk: dd.Target.Dev, path: src, pull: true, top: src, speed: speed, done: make(chan struct{})}
		if base != "" {
			chain, err := drv.qemuImg.Chain(ctx, src)
			if err != nil {
				return nil, qemuImgErr(err)
			}
			b, err := chainLookup(chain, j.disk, base, 1)
			if err != nil {
				return nil, err
			}
			j.base, j.baseFormat = chain[b].Filename, chain[b].Format
		}
		bc, err := drv.diskJobs("virDomainBlockPull")
		if err != nil {
			return nil, err
		}
		if err := bc.StartPull(ctx, backend.DomID(d.snap().ref.ID), j.disk, j.base, speed); err != nil {
			return nil, backendJobErr(err, "Failed to start the pull of disk '%s'", j.disk)
		}
		return j, nil
	})
}

// bandwidthBytes is a bandwidth in bytes a second, from MiB a second
// unless inBytes.
func bandwidthBytes(bandwidth uint64, inBytes bool) (uint64, error) {
	if inBytes {
		return bandwidth, nil
	}
	if bandwidth > math.MaxInt64>>20 {
		return 0, libxlErr(libvirt.ErrOverflow, "bandwidth must be less than %d", uint64(math.MaxInt64>>20))
	}
	return bandwidth << 20, nil
}

// backendJobErr is the client's error for the backend's refusal of a job.
func backendJobErr(err error, format string, args ...any) error {
	if errors.Is(err, backend.ErrUnsupported) {
		return hostUnsupported(err)
	}
	return libxlFailed(err, format+": %v", append(args, err)...)
}

// liveDisk is the running domain's disk named name (qemuDomainDiskByName).
func liveDisk(d *domain, name string) (*libvirtxml.DomainDisk, error) {
	dd := diskByName(d.snap().def.parsed(), name)
	if dd == nil {
		return nil, libxlErr(libvirt.ErrInvalidArg, "disk '%s' not found in domain", name)
	}
	return dd, nil
}

// noBlockJobOn is qemuDomainDiskBlockJobIsActive.
func noBlockJobOn(d *domain, disk string) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.blockJobs[disk] != nil {
		return libxlErr(libvirt.ErrBlockCopyActive, "disk '%s' already in active block job", disk)
	}
	return nil
}

// noBlockJobs is qemuDomainHasBlockjob's refusal: what would change a
// disk's images under a job waits until it is done.
func noBlockJobs(d *domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if len(d.blockJobs) > 0 {
		return libxlErr(libvirt.ErrOperationInvalid, "domain has active block job")
	}
	return nil
}

// chainIndex is a "TARGET[INDEX]" name of an image in a disk's chain.
var chainIndex = regexp.MustCompile(`^([^\[]+)\[([0-9]+)\]$`)

// commitRange is the indexes in chain (the disk's image first) of top
// and base as virStorageSourceChainLookup finds them: by path or by
// "TARGET[INDEX]" (0 the disk's own image); top empty or the target is
// the disk's image; base empty is the bottom, or with shallow the image
// below top.
func commitRange(chain []qemuimg.Image, target, top, base string, shallow bool) (t, b int, err error) {
	if top != "" && top != target {
		if t, err = chainLookup(chain, target, top, 0); err != nil {
			return 0, 0, err
		}
	}
	if t+1 >= len(chain) {
		return 0, 0, libxlErr(libvirt.ErrInvalidArg, "top '%s' in chain for '%s' has no backing file", chain[t].Filename, chain[0].Filename)
	}
	switch {
	case base == "" && shallow:
		b = t + 1
	case base == "":
		b = len(chain) - 1
	default:
		if b, err = chainLookup(chain, target, base, t+1); err != nil {
			return 0, 0, err
		}
	}
	if shallow && b != t+1 {
		return 0, 0, libxlErr(libvirt.ErrInvalidArg, "base '%s' is not immediately below '%s' in chain for '%s'", chain[b].Filename, chain[t].Filename, chain[0].Filename)
	}
	return t, b, nil
}

// chainLookup is virStorageSourceChainLookup: the index of the image
// called name (a path, or "TARGET[INDEX]") in chain, at from or below; a
// lookup below the top (from > 0) says so when it fails.
func chainLookup(chain []qemuimg.Image, target, name string, from int) (int, error) {
	if m := chainIndex.FindStringSubmatch(name); m != nil && m[1] == target {
		i, err := strconv.Atoi(m[2])
		if err != nil || i < from || i >= len(chain) {
			return 0, libxlErr(libvirt.ErrInvalidArg, "could not find backing store index '%s' in chain for '%s'", m[2], target)
		}
		return i, nil
	}
	for i := from; i < len(chain); i++ {
		if chain[i].Filename == name {
			return i, nil
		}
	}
	if from > 0 {
		return 0, libxlErr(libvirt.ErrInvalidArg, "could not find image '%s' beneath '%s' in chain for '%s'", name, chain[from-1].Filename, target)
	}
	return 0, libxlErr(libvirt.ErrInvalidArg, "could not find image '%s' in chain for '%s'", name, target)
}

// addBlockJob records j, shows an active commit's mirror in the live
// definition (and the status file), and follows the job.
func (drv *Driver) addBlockJob(d *domain, j *blockJob) {
	d.mu.Lock()
	if d.blockJobs == nil {
		d.blockJobs = map[string]*blockJob{}
	}
	d.blockJobs[j.disk] = j
	if j.end == 0 {
		// none of it done until the follower's first look: virsh
		// prints a job of 0 of 0 as 100 %
		j.end = 1
	}
	d.recordBlockJobsLocked()
	d.mu.Unlock()
	if j.mirrors() {
		drv.showMirror(d, j) // and saves the status
	} else {
		drv.saveBlockJobStatus(d, j.disk)
	}
	drv.handlers.Add(1)
	go drv.followBlockJob(d, j)
}

// changeBlockJob makes change to j under the domain's mu, then saves
// what the status file records of it.
func (drv *Driver) changeBlockJob(d *domain, j *blockJob, change func()) {
	d.mu.Lock()
	change()
	d.recordBlockJobsLocked()
	d.mu.Unlock()
	drv.saveBlockJobStatus(d, j.disk)
}

// saveBlockJobStatus saves the status of d, whose disk's block job changed.
func (drv *Driver) saveBlockJobStatus(d *domain, disk string) {
	if err := drv.saveStatusIfActive(d); err != nil {
		drv.log.Warn("cannot save the status of a block job", "domain", d.ref().Name, "disk", disk, "err", err)
	}
}

// resumeBlockJobs follows again the block jobs a reconnected domain's
// status file records, as libvirt reconnects its block jobs from its
// status XML; and, from a status file written before the records, the
// active commits and copies its disks' <mirror> show.
func (drv *Driver) resumeBlockJobs(d *domain) {
	s := d.snap()
	recorded := map[string]bool{}
	for _, r := range s.blockJobRecs {
		j, err := r.job()
		if err != nil {
			drv.log.Warn("cannot follow a block job again", "domain", s.ref.Name, "err", err)
			continue
		}
		recorded[j.disk] = true
		drv.followAgain(d, j)
	}
	def := s.def.parsed()
	if def.Devices == nil {
		return
	}
	for _, dd := range def.Devices.Disks {
		m := dd.Mirror
		if m == nil || (m.Job != "active-commit" && m.Job != "copy") || m.Source == nil || m.Source.File == nil || dd.Target == nil || recorded[dd.Target.Dev] {
			continue
		}
		j := &blockJob{disk: dd.Target.Dev, path: diskSource(&dd), active: m.Job == "active-commit", copy: m.Job == "copy",
			top: diskSource(&dd), base: m.Source.File.File, done: make(chan struct{})}
		if m.Format != nil {
			j.baseFormat = m.Format.Type
		}
		drv.followAgain(d, j)
	}
}

// followAgain follows j, a job the last daemon left running. A mirroring
// job ready then (its disk's <mirror ready='yes'>) counts as ready until
// the first look.
func (drv *Driver) followAgain(d *domain, j *blockJob) {
	if j.mirrors() {
		if dd := targetDisk(d.snap().def.parsed(), j.disk); dd != nil && dd.Mirror != nil && dd.Mirror.Ready == "yes" {
			j.ready, j.cur, j.end = true, 1, 1
		}
	}
	drv.log.Info("following the block job again", "domain", d.ref().Name, "disk", j.disk, "job", blockJobTypes[j.kind()])
	drv.addBlockJob(d, j)
}

// showMirror is an active commit's <mirror> in the disk's live definition
// (libvirt's disk->mirror, job='active-commit'), none for another job;
// the status file keeps it, as libvirt's does.
func (drv *Driver) showMirror(d *domain, j *blockJob) {
	var m *libvirtxml.DomainDiskMirror
	if j.mirrors() {
		m = &libvirtxml.DomainDiskMirror{Job: "active-commit", Format: &libvirtxml.DomainDiskFormat{Type: j.baseFormat},
			Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: j.base}}}
		if j.copy {
			m.Job = "copy"
		}
		d.mu.Lock()
		if j.ready {
			m.Ready = "yes"
		}
		d.mu.Unlock()
	}
	disk := j.disk
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if dd := targetDisk(def, disk); dd != nil {
			dd.Mirror = m
		}
	})
	drv.saveBlockJobStatus(d, disk)
}

// followBlockJob reads j's state from the device model until it is done,
// or the domain stops, or the driver closes.
func (drv *Driver) followBlockJob(d *domain, j *blockJob) {
	defer drv.handlers.Done()
	bc, _ := drv.be.(backend.DiskJobs)
	t := time.NewTicker(blockJobPoll)
	defer t.Stop()
	id := d.snap().ref.ID
	warned := false
	for {
		select {
		case <-drv.stop:
			return
		case <-t.C:
		}
		if s := d.snap(); !s.active() || s.ref.ID != id {
			drv.failBlockJob(d, j, "the domain stopped")
			return
		}
		st, ok, err := bc.JobStatus(context.Background(), backend.DomID(id), j.disk)
		switch {
		case errors.Is(err, backend.ErrNoGuest):
			drv.failBlockJob(d, j, "the domain stopped")
			return
		case err != nil:
			if !warned { // once: the look is retried five times a second
				drv.log.Warn("cannot read a block job's state", "domain", d.ref().Name, "disk", j.disk, "err", err)
				warned = true
			}
		case !ok:
			drv.finishBlockJob(d, j, "the device model has no such job any more")
			return
		case st.Done:
			drv.finishBlockJob(d, j, st.Err)
			return
		default:
			d.mu.Lock()
			j.cur, j.end = st.Cur, st.End
			d.mu.Unlock()
			if st.Ready {
				drv.markReady(d, j)
			}
		}
	}
}

// failBlockJob ends j without its end from the device model (its guest
// stopped, or its changes could not be made): whoever waits for it learns
// why, and a pivot waited for did not happen. libvirt sends no event for
// it.
func (drv *Driver) failBlockJob(d *domain, j *blockJob, why string) {
	d.mu.Lock()
	j.failure = why
	d.mu.Unlock()
	drv.dropBlockJob(d, j)
}

// markReady is an active commit's first READY.
func (drv *Driver) markReady(d *domain, j *blockJob) {
	d.mu.Lock()
	was := j.ready
	j.ready = true
	d.mu.Unlock()
	if was {
		return
	}
	drv.showMirror(d, j)
	drv.emitBlockJob(d.ref(), j, blockJobReady)
}

// finishBlockJob ends j as the device model ended it (failure "" if it did
// not fail): a pivoted active commit's disk reads the base in both
// definitions, the merged images go if asked, the mirror goes, and the
// events say how it ended. It takes the domain's job for the changes.
func (drv *Driver) finishBlockJob(d *domain, j *blockJob, failure string) {
	ctx := context.Background()
	if err := drv.beginJobOf(ctx, d, job.Modify); err != nil {
		drv.log.Warn("cannot end a block job", "domain", d.ref().Name, "disk", j.disk, "err", err)
		drv.failBlockJob(d, j, err.Error())
		return
	}
	defer drv.endJob(d)
	d.mu.Lock()
	cancelled, pivoted := j.cancel, j.pivot
	d.mu.Unlock()
	status := blockJobCompleted
	switch {
	case failure != "":
		status = blockJobFailed
	case cancelled:
		status = blockJobCanceled
	}
	if status == blockJobCompleted && j.mirrors() && pivoted {
		drv.editLive(d, func(def *libvirtxml.Domain) { setDiskImage(def, j.top, j.base, j.baseFormat) })
		if d.snap().persistent {
			if err := drv.editPersistent(d, func(def *libvirtxml.Domain) { setDiskImage(def, j.top, j.base, j.baseFormat) }); err != nil {
				drv.log.Warn("cannot point the persistent definition at the committed image", "domain", d.ref().Name, "disk", j.disk, "err", err)
			}
		}
	}
	if status == blockJobCompleted && (!j.mirrors() || pivoted) {
		for _, img := range j.remove {
			if err := os.Remove(img); err != nil && !errors.Is(err, os.ErrNotExist) {
				drv.log.Warn("cannot delete a committed image", "path", img, "err", err)
			}
		}
	}
	d.mu.Lock()
	j.failure = failure
	if status == blockJobCompleted && j.mirrors() && pivoted {
		j.path = j.base // the events name the disk's image after the change, as libvirt's
	}
	d.mu.Unlock()
	drv.dropBlockJob(d, j)
	drv.emitBlockJob(d.ref(), j, status)
}

// dropBlockJob forgets j and its mirror, and wakes whoever waits for it.
func (drv *Driver) dropBlockJob(d *domain, j *blockJob) {
	d.mu.Lock()
	if d.blockJobs[j.disk] != j {
		d.mu.Unlock()
		return
	}
	delete(d.blockJobs, j.disk)
	d.recordBlockJobsLocked()
	d.mu.Unlock()
	if j.mirrors() && d.snap().active() {
		drv.showMirror(d, &blockJob{disk: j.disk}) // and saves the status
	} else {
		drv.saveBlockJobStatus(d, j.disk)
	}
	close(j.done)
}

// emitBlockJob sends libvirt's two events of a block job's state: BLOCK_JOB
// names the disk by its image, BLOCK_JOB_2 by its target.
func (drv *Driver) emitBlockJob(ref Domain, j *blockJob, status int32) {
	drv.broker.Publish(events.NewBlockJob(events.IDBlockJob, ref, j.path, j.kind(), status))
	drv.broker.Publish(events.NewBlockJob(events.IDBlockJob2, ref, j.disk, j.kind(), status))
}

// BlockJobInfo is virDomainBlockJobInfo.
type BlockJobInfo struct {
	Type      int32
	Bandwidth uint64
	Cur, End  uint64
}

// GetBlockJobInfo is virDomainGetBlockJobInfo (flags:
// VIR_DOMAIN_BLOCK_JOB_INFO_BANDWIDTH_BYTES): the disk's job, with its
// progress as the device model counted it at the follower's last look;
// false when the disk has none.
func (drv *Driver) GetBlockJobInfo(ctx context.Context, dom Domain, disk string, flags uint32) (BlockJobInfo, bool, error) {
	inBytes := uint32(libvirt.DomainBlockJobInfoBandwidthBytes)
	if err := checkFlags(flags, inBytes, "libxlDomainGetBlockJobInfo"); err != nil {
		return BlockJobInfo{}, false, err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Query)
	if err != nil {
		return BlockJobInfo{}, false, err
	}
	defer drv.endJob(d)
	dd, err := liveDisk(d, disk)
	if err != nil {
		return BlockJobInfo{}, false, err
	}
	d.mu.Lock()
	j := d.blockJobs[dd.Target.Dev]
	d.mu.Unlock()
	if j == nil {
		return BlockJobInfo{}, false, nil
	}
	d.mu.Lock()
	info := BlockJobInfo{Type: j.kind(), Bandwidth: j.speed, Cur: j.cur, End: j.end}
	d.mu.Unlock()
	if flags&inBytes == 0 {
		info.Bandwidth >>= 20
	}
	return info, true, nil
}

// BlockJobSetSpeed is virDomainBlockJobSetSpeed (flags:
// VIR_DOMAIN_BLOCK_JOB_SPEED_BANDWIDTH_BYTES).
func (drv *Driver) BlockJobSetSpeed(ctx context.Context, dom Domain, disk string, bandwidth uint64, flags uint32) error {
	inBytes := uint32(libvirt.DomainBlockJobSpeedBandwidthBytes)
	if err := checkFlags(flags, inBytes, "libxlDomainBlockJobSetSpeed"); err != nil {
		return err
	}
	speed, err := bandwidthBytes(bandwidth, flags&inBytes != 0)
	if err != nil {
		return err
	}
	d, j, err := drv.diskJob(ctx, dom, disk)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	bc, err := drv.diskJobs("virDomainBlockJobSetSpeed")
	if err != nil {
		return err
	}
	if err := bc.SetJobSpeed(ctx, backend.DomID(d.snap().ref.ID), j.disk, speed); err != nil {
		return backendJobErr(err, "Failed to set the speed of the block job of disk '%s'", j.disk)
	}
	drv.changeBlockJob(d, j, func() { j.speed = speed })
	return nil
}

// diskJob takes the running domain's job and finds the block job of its
// disk named disk.
func (drv *Driver) diskJob(ctx context.Context, dom Domain, disk string) (*domain, *blockJob, error) {
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return nil, nil, err
	}
	dd, err := liveDisk(d, disk)
	if err == nil {
		d.mu.Lock()
		j := d.blockJobs[dd.Target.Dev]
		d.mu.Unlock()
		if j != nil {
			return d, j, nil
		}
		err = libxlErr(libvirt.ErrInvalidArg, "disk %s does not have an active block job", dd.Target.Dev)
	}
	drv.endJob(d)
	return nil, nil, err
}

// BlockJobAbort is virDomainBlockJobAbort (flags:
// VIR_DOMAIN_BLOCK_JOB_ABORT_ASYNC, _PIVOT): PIVOT completes a ready active
// commit (the disk then reads the base), else the job is cancelled. Unless
// ASYNC, it returns once the job is over, without holding the domain's
// job meanwhile.
func (drv *Driver) BlockJobAbort(ctx context.Context, dom Domain, disk string, flags uint32) error {
	async, pivot := uint32(libvirt.DomainBlockJobAbortAsync), uint32(libvirt.DomainBlockJobAbortPivot)
	if err := checkFlags(flags, async|pivot, "libxlDomainBlockJobAbort"); err != nil {
		return err
	}
	d, j, err := drv.diskJob(ctx, dom, disk)
	if err != nil {
		return err
	}
	err = drv.stopBlockJob(ctx, d, j, flags&pivot != 0)
	drv.endJob(d)
	if err != nil || flags&async != 0 {
		return err
	}
	select {
	case <-j.done:
	case <-ctx.Done():
		return ctx.Err()
	}
	d.mu.Lock()
	failure := j.failure
	d.mu.Unlock()
	if failure != "" {
		return libxlErr(libvirt.ErrOperationFailed, "block job failed: %s", failure)
	}
	return nil
}

// stopBlockJob asks the device model to complete (pivot) or cancel j.
func (drv *Driver) stopBlockJob(ctx context.Context, d *domain, j *blockJob, pivot bool) error {
	bc, err := drv.diskJobs("virDomainBlockJobAbort")
	if err != nil {
		return err
	}
	d.mu.Lock()
	ready := j.ready
	d.mu.Unlock()
	id := backend.DomID(d.snap().ref.ID)
	if !pivot {
		drv.changeBlockJob(d, j, func() { j.cancel = true })
		if err := bc.CancelJob(ctx, id, j.disk); err != nil {
			return backendJobErr(err, "Failed to cancel the block job of disk '%s'", j.disk)
		}
		return nil
	}
	if !j.mirrors() || !ready {
		return libxlErr(libvirt.ErrBlockCopyActive, "disk '%s' not ready for pivot yet", j.disk)
	}
	drv.changeBlockJob(d, j, func() { j.pivot = true })
	if err := bc.CompleteJob(ctx, id, j.disk); err != nil {
		return backendJobErr(err, "Failed to pivot disk '%s'", j.disk)
	}
	return nil
}
