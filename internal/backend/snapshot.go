package backend

import "context"

// DiskOverlay is one disk of a running guest switching to a new image: an
// existing qcow2 overlay at Path whose backing file is the disk's current
// image, made by the caller (qemu-img create -b). Vdev names the disk as
// libxl does (xvda, hda).
type DiskOverlay struct {
	Vdev   string
	Path   string
	Format string // the overlay's format: "qcow2"
}

// DiskSnapshotter is the optional feature of snapshotting the disks of a
// running guest while it is paused: the disks its device model serves
// (libxl's qdisk backend, QEMU's block layer) switch to overlays, or take
// an internal qcow2 snapshot, without the guest seeing its disks go. The
// caller pauses the guest first, so that the switch falls between two of
// the guest's requests; QEMU drains what is in flight before it switches.
// Disks another backend serves (blkback's phy) cannot, and are refused
// with ErrUnsupported.
type DiskSnapshotter interface {
	// SwitchDisks makes each disk of the guest named by an overlay's Vdev
	// write to that overlay from now on (QEMU's blockdev-snapshot-sync in
	// mode existing), all or, on failure, as many as were switched before
	// it: the error says which. The guest's configuration as the
	// hypervisor keeps it names the overlays afterwards.
	SwitchDisks(ctx context.Context, id DomID, overlays []DiskOverlay) error
	// SnapshotDisksInternal takes an internal snapshot called name in each
	// qcow2 disk vdevs names (QEMU's blockdev-snapshot-internal-sync).
	SnapshotDisksInternal(ctx context.Context, id DomID, vdevs []string, name string) error
	// DeleteDisksInternal deletes the internal snapshot called name from
	// each qcow2 disk vdevs names (QEMU's
	// blockdev-snapshot-delete-internal-sync); a disk without it is not
	// an error. The guest may run.
	DeleteDisksInternal(ctx context.Context, id DomID, vdevs []string, name string) error
}

// DiskJob is a disk's block job as the device model reports it.
type DiskJob struct {
	// Ready: an active commit (of the disk's own image) or a copy has
	// mirrored everything and may be completed.
	Ready bool
	// Done: the job is over, with Err why it failed ("" if it did not).
	// The report of a finished job is its last: the device model forgets
	// it.
	Done bool
	Err  string
	// Cur and End are the job's progress, in bytes of its own count.
	Cur, End uint64
}

// DiskJobs is the optional feature of block jobs on a running guest's
// disk, which the device model runs and the caller follows: a commit
// (block-commit) or a pull (block-stream), one job a disk. Disks its
// device model does not serve are ErrUnsupported.
type DiskJobs interface {
	// StartCommit starts merging image top of disk vdev's backing chain
	// into base, an image below it, at speed bytes a second (0: no
	// limit).
	StartCommit(ctx context.Context, id DomID, vdev, top, base string, speed uint64) error
	// StartPull starts copying into the disk's own image what it reads
	// from the images above base, an image of its chain ("": the whole
	// chain); the image then reads from base (or stands alone).
	StartPull(ctx context.Context, id DomID, vdev, base string, speed uint64) error
	// StartCopy starts copying the disk into a new image (drive-mirror),
	// which it mirrors from then on, ready once copied, until the job is
	// completed (the disk then writes to the copy) or cancelled.
	StartCopy(ctx context.Context, id DomID, vdev string, to CopyTarget, speed uint64) error
	// JobStatus reports the disk's job; ok is false when it has none.
	// Once an active commit completed, the guest's configuration as the
	// hypervisor keeps it names the image the disk then writes to.
	JobStatus(ctx context.Context, id DomID, vdev string) (j DiskJob, ok bool, err error)
	// CompleteJob has a ready active commit or copy switch the disk to
	// base or the copy; JobStatus then reports it done.
	CompleteJob(ctx context.Context, id DomID, vdev string) error
	// CancelJob stops the job; the disk keeps its image (an active
	// commit's data copied so far stays in base). JobStatus then reports
	// it done.
	CancelJob(ctx context.Context, id DomID, vdev string) error
	// SetJobSpeed changes the job's speed limit.
	SetJobSpeed(ctx context.Context, id DomID, vdev string, speed uint64) error
}

// CopyTarget is where a block copy writes: an image at Path of Format,
// made by the device model unless Reuse (an existing one, written over).
// Shallow copies only the disk's own image, the copy backed by the image
// below it; SyncWrites has the guest's writes wait for the copy's
// (write-blocking). Granularity and BufSize tune the mirror (0: QEMU's).
type CopyTarget struct {
	Path, Format               string
	Shallow, Reuse, SyncWrites bool
	Granularity                uint32
	BufSize                    uint64
}
