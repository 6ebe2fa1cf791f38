package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
	"virtxend/internal/qemuimg"
)

// Commit jobs of a running guest's disks, as QEMU's block layer runs them,
// with qemu-img doing the merge: a commit below the disk's own image is
// done when first looked at; an active commit is ready at once and merges
// when completed.

var _ backend.DiskCommitter = (*Host)(nil)

// commitJob is one disk's commit job.
type commitJob struct {
	Top        string `json:"top"`
	Base       string `json:"base"`
	BaseFormat string `json:"base_format"`
	Above      string `json:"above,omitempty"` // the image over top, for a commit below the disk's own
	Active     bool   `json:"active,omitempty"`
	Completed  bool   `json:"completed,omitempty"`
	Cancelled  bool   `json:"cancelled,omitempty"`
	Speed      uint64 `json:"speed,omitempty"`
}

// StartCommit implements backend.DiskCommitter.
func (h *Host) StartCommit(ctx context.Context, id backend.DomID, vdev, top, base string, speed uint64) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		cfg := g.devices()
		i, err := qdiskOf(cfg, vdev)
		if err != nil {
			return err
		}
		if g.Commits[vdev] != nil {
			return fmt.Errorf("%w: disk %s has a job already", backend.ErrInvalid, vdev)
		}
		var tool qemuimg.Tool
		chain, err := tool.Chain(ctx, cfg.Disks[i].PdevPath)
		if err != nil {
			return fmt.Errorf("%w: disk %s: %v", backend.ErrFailed, vdev, err)
		}
		k := slices.IndexFunc(chain, func(img qemuimg.Image) bool { return img.Filename == top })
		b := slices.IndexFunc(chain, func(img qemuimg.Image) bool { return img.Filename == base })
		if k < 0 || b <= k {
			return fmt.Errorf("%w: disk %s: %s over %s is not in its chain", backend.ErrInvalid, vdev, top, base)
		}
		j := &commitJob{Top: top, Base: base, BaseFormat: chain[b].Format, Active: k == 0, Speed: speed}
		if k > 0 {
			j.Above = chain[k-1].Filename
		}
		if g.Commits == nil {
			g.Commits = map[string]*commitJob{}
		}
		g.Commits[vdev] = j
		return nil
	})
}

// CommitStatus implements backend.DiskCommitter.
func (h *Host) CommitStatus(ctx context.Context, id backend.DomID, vdev string) (backend.CommitJob, bool, error) {
	var out backend.CommitJob
	var ok bool
	err := h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		j := g.Commits[vdev]
		if ok = j != nil; !ok {
			return nil
		}
		out = backend.CommitJob{Cur: 1, End: 1}
		if j.Active && !j.Completed && !j.Cancelled {
			out.Ready = true
			return nil
		}
		delete(g.Commits, vdev)
		out.Done = true
		if !j.Cancelled {
			if err := j.merge(ctx, g.devices(), vdev); err != nil {
				out.Err = err.Error()
			}
		}
		return nil
	})
	return out, ok, err
}

// merge does what the job did: top's data into base, and the disk or the
// image above top reading base.
func (j *commitJob) merge(ctx context.Context, cfg *libxltypes.DomainConfig, vdev string) error {
	var tool qemuimg.Tool
	if err := tool.Commit(ctx, j.Top); err != nil {
		return err
	}
	if !j.Active {
		return tool.Rebase(ctx, j.Above, j.Base, j.BaseFormat, true)
	}
	if i := findDisk(cfg, vdev); i >= 0 {
		cfg.Disks[i].PdevPath, cfg.Disks[i].Format = j.Base, j.BaseFormat
	}
	return nil
}

// CompleteCommit implements backend.DiskCommitter.
func (h *Host) CompleteCommit(ctx context.Context, id backend.DomID, vdev string) error {
	return h.onCommit(ctx, id, vdev, func(j *commitJob) error {
		if !j.Active {
			return fmt.Errorf("%w: disk %s's job is no active commit", backend.ErrInvalid, vdev)
		}
		j.Completed = true
		return nil
	})
}

// CancelCommit implements backend.DiskCommitter.
func (h *Host) CancelCommit(ctx context.Context, id backend.DomID, vdev string) error {
	return h.onCommit(ctx, id, vdev, func(j *commitJob) error {
		j.Cancelled = true
		return nil
	})
}

// SetCommitSpeed implements backend.DiskCommitter.
func (h *Host) SetCommitSpeed(ctx context.Context, id backend.DomID, vdev string, speed uint64) error {
	return h.onCommit(ctx, id, vdev, func(j *commitJob) error {
		j.Speed = speed
		return nil
	})
}

// onCommit runs fn on the job of guest id's disk vdev.
func (h *Host) onCommit(ctx context.Context, id backend.DomID, vdev string, fn func(*commitJob) error) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		j := g.Commits[vdev]
		if j == nil {
			return fmt.Errorf("%w: disk %s has no job", backend.ErrInvalid, vdev)
		}
		return fn(j)
	})
}
