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

// Block jobs of a running guest's disks, as QEMU's block layer runs them,
// with qemu-img doing the work: a pull, or a commit below the disk's own
// image, is done when first looked at, unless held below slowJobSpeed; an
// active commit is ready at once and merges when completed.

// slowJobSpeed is the speed below which a pull or a commit below the
// disk's own image makes no progress until its speed is raised: a job that
// runs for as long as a test needs (across a restart of the daemon).
const slowJobSpeed = 1 << 20

var _ backend.DiskJobs = (*Host)(nil)

// diskJob is one disk's block job: a commit, a pull or a copy.
type diskJob struct {
	Pull       bool                `json:"pull,omitempty"`
	Copy       *backend.CopyTarget `json:"copy,omitempty"`
	Top        string              `json:"top"`
	Base       string              `json:"base"`
	BaseFormat string              `json:"base_format"`
	Above      string              `json:"above,omitempty"` // the image over top, for a commit below the disk's own
	Active     bool                `json:"active,omitempty"`
	Completed  bool                `json:"completed,omitempty"`
	Cancelled  bool                `json:"cancelled,omitempty"`
	Speed      uint64              `json:"speed,omitempty"`
}

// StartCommit implements backend.DiskJobs.
func (h *Host) StartCommit(ctx context.Context, id backend.DomID, vdev, top, base string, speed uint64) error {
	return h.startJob(ctx, id, vdev, func(chain []qemuimg.Image) (*diskJob, error) {
		k, b := imageIndex(chain, top), imageIndex(chain, base)
		if k < 0 || b <= k {
			return nil, fmt.Errorf("%w: disk %s: %s over %s is not in its chain", backend.ErrInvalid, vdev, top, base)
		}
		j := &diskJob{Top: top, Base: base, BaseFormat: chain[b].Format, Active: k == 0, Speed: speed}
		if k > 0 {
			j.Above = chain[k-1].Filename
		}
		return j, nil
	})
}

// StartCopy implements backend.DiskJobs: a copy is ready at once, and
// made when completed.
func (h *Host) StartCopy(ctx context.Context, id backend.DomID, vdev string, to backend.CopyTarget, speed uint64) error {
	return h.startJob(ctx, id, vdev, func(chain []qemuimg.Image) (*diskJob, error) {
		j := &diskJob{Copy: &to, Top: chain[0].Filename, Active: true, Speed: speed}
		if to.Shallow && len(chain) > 1 {
			j.Base, j.BaseFormat = chain[1].Filename, chain[1].Format
		}
		return j, nil
	})
}

// StartPull implements backend.DiskJobs.
func (h *Host) StartPull(ctx context.Context, id backend.DomID, vdev, base string, speed uint64) error {
	return h.startJob(ctx, id, vdev, func(chain []qemuimg.Image) (*diskJob, error) {
		j := &diskJob{Pull: true, Top: chain[0].Filename, Base: base, Speed: speed}
		if base == "" {
			return j, nil
		}
		b := imageIndex(chain, base)
		if b <= 0 {
			return nil, fmt.Errorf("%w: disk %s: %s is not below its image", backend.ErrInvalid, vdev, base)
		}
		j.BaseFormat = chain[b].Format
		return j, nil
	})
}

// startJob gives guest id's disk vdev, which QEMU must serve and which has
// no job, the job newJob makes from the disk's chain (its image first).
func (h *Host) startJob(ctx context.Context, id backend.DomID, vdev string, newJob func([]qemuimg.Image) (*diskJob, error)) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		cfg := g.devices()
		i, err := qdiskOf(cfg, vdev)
		if err != nil {
			return err
		}
		if g.Jobs[vdev] != nil {
			return fmt.Errorf("%w: disk %s has a job already", backend.ErrInvalid, vdev)
		}
		var tool qemuimg.Tool
		chain, err := tool.Chain(ctx, cfg.Disks[i].PdevPath)
		if err != nil {
			return fmt.Errorf("%w: disk %s: %v", backend.ErrFailed, vdev, err)
		}
		j, err := newJob(chain)
		if err != nil {
			return err
		}
		if g.Jobs == nil {
			g.Jobs = map[string]*diskJob{}
		}
		g.Jobs[vdev] = j
		return nil
	})
}

func imageIndex(chain []qemuimg.Image, path string) int {
	return slices.IndexFunc(chain, func(img qemuimg.Image) bool { return img.Filename == path })
}

// JobStatus implements backend.DiskJobs.
func (h *Host) JobStatus(ctx context.Context, id backend.DomID, vdev string) (backend.DiskJob, bool, error) {
	var out backend.DiskJob
	var ok bool
	err := h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		j := g.Jobs[vdev]
		if ok = j != nil; !ok {
			return nil
		}
		out = backend.DiskJob{Cur: 1, End: 1}
		if j.Active && !j.Completed && !j.Cancelled {
			out.Ready = true
			return nil
		}
		if !j.Active && !j.Cancelled && j.Speed > 0 && j.Speed < slowJobSpeed {
			out.Cur = 0
			return nil
		}
		delete(g.Jobs, vdev)
		out.Done = true
		if !j.Cancelled {
			if err := j.run(ctx, g.devices(), vdev); err != nil {
				out.Err = err.Error()
			}
		}
		return nil
	})
	return out, ok, err
}

// run does what the job did: a pull's data copied into top, which then
// reads base; a copy made, which the disk then reads; a commit's top
// merged into base, and the disk or the image above top reading base.
func (j *diskJob) run(ctx context.Context, cfg *libxltypes.DomainConfig, vdev string) error {
	var tool qemuimg.Tool
	switch {
	case j.Pull:
		return tool.Rebase(ctx, j.Top, j.Base, j.BaseFormat, false)
	case j.Copy != nil:
		to := j.Copy
		if err := tool.Convert(ctx, j.Top, to.Path, to.Format, j.Base, j.BaseFormat, to.Reuse); err != nil {
			return err
		}
		if i := findDisk(cfg, vdev); i >= 0 {
			cfg.Disks[i].PdevPath, cfg.Disks[i].Format = to.Path, to.Format
		}
		return nil
	}
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

// CompleteJob implements backend.DiskJobs.
func (h *Host) CompleteJob(ctx context.Context, id backend.DomID, vdev string) error {
	return h.onCommit(ctx, id, vdev, func(j *diskJob) error {
		if !j.Active {
			return fmt.Errorf("%w: disk %s's job is no active commit", backend.ErrInvalid, vdev)
		}
		j.Completed = true
		return nil
	})
}

// CancelJob implements backend.DiskJobs.
func (h *Host) CancelJob(ctx context.Context, id backend.DomID, vdev string) error {
	return h.onCommit(ctx, id, vdev, func(j *diskJob) error {
		j.Cancelled = true
		return nil
	})
}

// SetJobSpeed implements backend.DiskJobs.
func (h *Host) SetJobSpeed(ctx context.Context, id backend.DomID, vdev string, speed uint64) error {
	return h.onCommit(ctx, id, vdev, func(j *diskJob) error {
		j.Speed = speed
		return nil
	})
}

// onCommit runs fn on the job of guest id's disk vdev.
func (h *Host) onCommit(ctx context.Context, id backend.DomID, vdev string, fn func(*diskJob) error) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		j := g.Jobs[vdev]
		if j == nil {
			return fmt.Errorf("%w: disk %s has no job", backend.ErrInvalid, vdev)
		}
		return fn(j)
	})
}
