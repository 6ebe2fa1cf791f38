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
	// CommitDisk merges image top of disk vdev's backing chain into base,
	// the image below it (of format baseFormat), while the guest runs
	// (QEMU's block-commit). When top is the disk's active image, the disk
	// writes to base afterwards, and the guest's configuration as the
	// hypervisor keeps it names base; otherwise the image above top reads
	// from base. top is left for the caller to remove. It returns once the
	// merge is done; ctx's end cancels it, top still in the chain.
	CommitDisk(ctx context.Context, id DomID, vdev, top, base, baseFormat string) error
}
