//go:build libxl

package libxl

import (
	"context"
	"fmt"
	"io"

	"virtxend/internal/backend"
)

// Block jobs of a running guest's qdisk disks: QEMU's block-commit and
// block-stream, one job a disk, named after it. Each call is a QMP session of its own, as
// libxl shares the socket; the caller follows the job.

var _ backend.DiskJobs = (*Backend)(nil)

func blockJobID(vdev string) string { return "vx-block-" + vdev }

// StartCommit implements backend.DiskJobs: block-commit of top's node
// into base's, under the disk's root node. With top the root the commit is
// active: QEMU mirrors top into base until the job is completed. Below the
// root, QEMU rewrites the backing file of the image above top to base.
func (b *Backend) StartCommit(ctx context.Context, id backend.DomID, vdev, top, base string, speed uint64) error {
	s, d, closer, err := b.rootSession(ctx, id, vdev)
	if err != nil {
		return err
	}
	defer closer.Close()
	nodes, err := s.imageNodes()
	if err != nil {
		return err
	}
	topNode, baseNode := nodes[top], nodes[base]
	if topNode == "" || baseNode == "" {
		return fmt.Errorf("%w: disk %s of domain %d: %s over %s is not in the chain its device model has open", backend.ErrInvalid, vdev, id, top, base)
	}
	return s.execute("block-commit", commitArgs(blockJobID(vdev), d.Node, topNode, baseNode, speed), nil)
}

// StartPull implements backend.DiskJobs: block-stream into the disk's
// root node from the images above base's node (the whole chain without
// one).
func (b *Backend) StartPull(ctx context.Context, id backend.DomID, vdev, base string, speed uint64) error {
	s, d, closer, err := b.rootSession(ctx, id, vdev)
	if err != nil {
		return err
	}
	defer closer.Close()
	args := map[string]any{"job-id": blockJobID(vdev), "device": d.Node, "auto-dismiss": false}
	if speed > 0 {
		args["speed"] = speed
	}
	if base != "" {
		nodes, err := s.imageNodes()
		if err != nil {
			return err
		}
		if nodes[base] == "" {
			return fmt.Errorf("%w: disk %s of domain %d: %s is not in the chain its device model has open", backend.ErrInvalid, vdev, id, base)
		}
		args["base-node"] = nodes[base]
	}
	return s.execute("block-stream", args, nil)
}

// StartCopy implements backend.DiskJobs: drive-mirror of the disk's root
// node into the target (made by QEMU in mode absolute-paths, backed as the
// root is for a shallow copy; mode existing for one reused).
func (b *Backend) StartCopy(ctx context.Context, id backend.DomID, vdev string, to backend.CopyTarget, speed uint64) error {
	s, d, closer, err := b.rootSession(ctx, id, vdev)
	if err != nil {
		return err
	}
	defer closer.Close()
	return s.execute("drive-mirror", mirrorArgs(blockJobID(vdev), d.Node, to, speed), nil)
}

// JobStatus implements backend.DiskJobs: the job in query-jobs. A
// concluded one is dismissed; when it succeeded, libxl's configuration of
// the domain and xenstore name the image the disk's root node reads (base,
// after an active commit's completion), as SwitchDisks named an overlay.
func (b *Backend) JobStatus(ctx context.Context, id backend.DomID, vdev string) (backend.DiskJob, bool, error) {
	var out backend.DiskJob
	var found bool
	var root qemuDisk
	err := b.withQMP(ctx, id, func(s *qmpSession) error {
		j, ok, err := s.job(blockJobID(vdev))
		if err != nil || !ok {
			return err
		}
		found = true
		out = backend.DiskJob{Ready: j.Status == "ready", Cur: j.Cur, End: j.End}
		if j.Status != "concluded" {
			return nil
		}
		out.Done, out.Err = true, j.Error
		if err := s.execute("job-dismiss", map[string]string{"id": blockJobID(vdev)}, nil); err != nil {
			return err
		}
		if j.Error != "" {
			return nil
		}
		disks, err := s.disks()
		if err == nil {
			root, err = findXenDisk(disks, vdev)
		}
		return err
	})
	if err != nil || !out.Done || out.Err != "" {
		return out, found, err
	}
	if err := b.c.repointStoredDisks(uint32(id), []backend.DiskOverlay{{Vdev: vdev, Path: root.File, Format: root.Format}}); err != nil {
		return out, true, fmt.Errorf("%w: domain %d's disk %s reads %s, but libxl's configuration of the domain still names its old image: %v", backend.ErrFailed, id, vdev, root.File, err)
	}
	if err := xsDiskParams(uint32(id), vdev, root.Format+":"+root.File); err != nil {
		b.log.Warn("xenstore still names the disk's old image", "domid", id, "disk", vdev, "err", err)
	}
	return out, true, nil
}

// CompleteJob implements backend.DiskJobs: block-job-complete.
func (b *Backend) CompleteJob(ctx context.Context, id backend.DomID, vdev string) error {
	return b.jobCommand(ctx, id, "block-job-complete", map[string]any{"device": blockJobID(vdev)})
}

// CancelJob implements backend.DiskJobs: block-job-cancel, which
// ends a ready active commit with the disk on its image.
func (b *Backend) CancelJob(ctx context.Context, id backend.DomID, vdev string) error {
	return b.jobCommand(ctx, id, "block-job-cancel", map[string]any{"device": blockJobID(vdev)})
}

// SetJobSpeed implements backend.DiskJobs: block-job-set-speed.
func (b *Backend) SetJobSpeed(ctx context.Context, id backend.DomID, vdev string, speed uint64) error {
	return b.jobCommand(ctx, id, "block-job-set-speed", map[string]any{"device": blockJobID(vdev), "speed": speed})
}

// rootSession is a QMP session with domain id's device model, which must
// serve disk vdev (xenDisk), and that disk.
func (b *Backend) rootSession(ctx context.Context, id backend.DomID, vdev string) (*qmpSession, qemuDisk, io.Closer, error) {
	s, disks, closer, err := b.qdiskSession(ctx, id, []string{vdev})
	if err != nil {
		return nil, qemuDisk{}, nil, err
	}
	d, err := xenDisk(disks, vdev)
	if err != nil {
		closer.Close()
		return nil, qemuDisk{}, nil, err
	}
	return s, d, closer, nil
}

// jobCommand sends one command about a job.
func (b *Backend) jobCommand(ctx context.Context, id backend.DomID, command string, args any) error {
	return b.withQMP(ctx, id, func(s *qmpSession) error { return s.execute(command, args, nil) })
}

// withQMP runs fn in a QMP session of its own with domain id's device model.
func (b *Backend) withQMP(ctx context.Context, id backend.DomID, fn func(*qmpSession) error) error {
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return b.guestErr(id, err)
	}
	defer closer.Close()
	return fn(s)
}
