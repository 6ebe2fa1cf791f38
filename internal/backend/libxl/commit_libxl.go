//go:build libxl

package libxl

import (
	"context"
	"fmt"
	"time"

	"virtxend/internal/backend"
)

// commitPoll is how often a commit job is looked at: each look is a QMP
// session of its own, as libxl shares the socket.
const commitPoll = 100 * time.Millisecond

// CommitDisk implements backend.DiskSnapshotter: QEMU's block-commit of
// image top of disk vdev's chain into base. With top the disk's root (its
// active image) the commit is active: QEMU mirrors top into base, and once
// the job is ready block-job-complete makes the disk write to base; libxl's
// configuration of the domain and xenstore then name base again, as
// SwitchDisks named the overlay. Below the root, QEMU rewrites the
// backing file of the image above top to base.
func (b *Backend) CommitDisk(ctx context.Context, id backend.DomID, vdev, top, base, baseFormat string) error {
	t0 := time.Now()
	s, disks, closer, err := b.qdiskSession(ctx, id, []string{vdev})
	if err != nil {
		return err
	}
	defer closer.Close()
	d, err := xenDisk(disks, vdev)
	if err != nil {
		return err
	}
	nodes, err := s.imageNodes()
	if err != nil {
		return err
	}
	topNode, baseNode := nodes[top], nodes[base]
	if topNode == "" || baseNode == "" {
		return fmt.Errorf("%w: disk %s of domain %d: %s over %s is not in the chain its device model has open", backend.ErrInvalid, vdev, id, top, base)
	}
	job := "vx-commit-" + vdev
	if err := s.execute("block-commit", commitArgs(job, d.Node, topNode, baseNode), nil); err != nil {
		return err
	}
	closer.Close()
	active := topNode == d.Node
	if err := b.waitCommit(ctx, id, job, active); err != nil {
		return err
	}
	b.log.Info("disk image committed", "domid", id, "disk", vdev, "top", top, "base", base, "active", active, "took", time.Since(t0))
	if !active {
		return nil
	}
	if err := b.c.repointStoredDisks(uint32(id), []backend.DiskOverlay{{Vdev: vdev, Path: base, Format: baseFormat}}); err != nil {
		return fmt.Errorf("%w: domain %d's disk %s writes to %s, but libxl's configuration of the domain still names %s: %v", backend.ErrFailed, id, vdev, base, top, err)
	}
	if err := xsDiskParams(uint32(id), vdev, baseFormat+":"+base); err != nil {
		b.log.Warn("xenstore still names the disk's old image", "domid", id, "disk", vdev, "err", err)
	}
	return nil
}

// waitCommit follows commit job job of domain id to its end: an active
// commit is completed once ready; the concluded job is dismissed and its
// error returned. ctx's end cancels the job.
func (b *Backend) waitCommit(ctx context.Context, id backend.DomID, job string, active bool) error {
	completed := false
	for {
		select {
		case <-ctx.Done():
			b.jobCommand(context.WithoutCancel(ctx), id, "block-job-cancel", map[string]any{"device": job, "force": true})
			return ctx.Err()
		case <-time.After(commitPoll):
		}
		var j qmpJob
		var found bool
		err := b.withQMP(ctx, id, func(s *qmpSession) (err error) {
			j, found, err = s.job(job)
			switch {
			case err != nil || !found:
			case j.Status == "ready" && active && !completed:
				completed = true
				err = s.execute("block-job-complete", map[string]string{"device": job}, nil)
			case j.Status == "concluded":
				err = s.execute("job-dismiss", map[string]string{"id": job}, nil)
			}
			return err
		})
		switch {
		case err != nil:
			return err
		case !found:
			return fmt.Errorf("%w: QEMU has no commit job %s any more", backend.ErrFailed, job)
		case j.Status == "concluded" && j.Error != "":
			return &QMPError{Command: "block-commit", Class: "GenericError", Desc: j.Error}
		case j.Status == "concluded":
			return nil
		}
	}
}

// jobCommand sends one command about a job, its failure only logged.
func (b *Backend) jobCommand(ctx context.Context, id backend.DomID, command string, args any) {
	if err := b.withQMP(ctx, id, func(s *qmpSession) error { return s.execute(command, args, nil) }); err != nil {
		b.log.Warn("QMP command about a job failed", "domid", id, "command", command, "err", err)
	}
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
