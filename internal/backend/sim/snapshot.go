package sim

import (
	"context"
	"errors"
	"fmt"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
	"virtxend/internal/qemuimg"
)

// Disk snapshots of running guests on the simulated host. The images are
// real files: the simulated device model does to them what QEMU's block
// layer would (qemu-img stands in for it), so the chains and internal
// snapshots a test looks at with qemu-img are real. As on real Xen, only
// the disks QEMU serves (libxl's qdisk: every format but raw, or backend
// qdisk asked for) can; a raw file goes to blkback.

var _ backend.DiskSnapshotter = (*Host)(nil)

// SwitchDisks implements backend.DiskSnapshotter. The guest must be
// paused or suspended, as the driver promises; the sim checks it, so a
// driver that forgot fails its tests.
func (h *Host) SwitchDisks(ctx context.Context, id backend.DomID, overlays []backend.DiskOverlay) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		if err := stillGuest(g); err != nil {
			return err
		}
		cfg := g.devices()
		for _, o := range overlays {
			i, err := qdiskOf(cfg, o.Vdev)
			if err != nil {
				return err
			}
			if err := qemuimg.CheckQcow2(o.Path); err != nil {
				return fmt.Errorf("%w: %v", backend.ErrInvalid, err)
			}
			cfg.Disks[i].PdevPath, cfg.Disks[i].Format = o.Path, o.Format
		}
		return nil
	})
}

// SnapshotDisksInternal implements backend.DiskSnapshotter.
func (h *Host) SnapshotDisksInternal(ctx context.Context, id backend.DomID, vdevs []string, name string) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		if err := stillGuest(g); err != nil {
			return err
		}
		cfg := g.devices()
		for _, v := range vdevs {
			i, err := qdiskOf(cfg, v)
			if err != nil {
				return err
			}
			if cfg.Disks[i].Format != "qcow2" {
				return fmt.Errorf("%w: disk %s is not qcow2: no internal snapshot", backend.ErrInvalid, v)
			}
			var tool qemuimg.Tool
			if err := tool.SnapshotCreate(ctx, cfg.Disks[i].PdevPath, name); err != nil {
				return fmt.Errorf("%w: disk %s: %v", backend.ErrFailed, v, err)
			}
		}
		return nil
	})
}

// DeleteDisksInternal implements backend.DiskSnapshotter.
func (h *Host) DeleteDisksInternal(ctx context.Context, id backend.DomID, vdevs []string, name string) error {
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		cfg := g.devices()
		for _, v := range vdevs {
			i, err := qdiskOf(cfg, v)
			if err != nil {
				return err
			}
			var tool qemuimg.Tool
			if err := tool.SnapshotDelete(ctx, cfg.Disks[i].PdevPath, name); err != nil && !errors.Is(err, qemuimg.ErrNoSnapshot) {
				return fmt.Errorf("%w: disk %s: %v", backend.ErrFailed, v, err)
			}
		}
		return nil
	})
}

// stillGuest refuses a guest that runs: its disks would be written while
// they switch.
func stillGuest(g *guest) error {
	if !g.Paused && !(g.Shutdown && g.Reason == backend.ReasonSuspend) {
		return fmt.Errorf("%w: domain %d is running: pause it before its disks are snapshotted", backend.ErrInvalid, g.DomID)
	}
	return nil
}

// servedByQEMU is whether libxl serves d with QEMU (its qdisk backend):
// unless asked for blkback (phy) or blktap, any format but raw.
func servedByQEMU(d libxltypes.Disk) bool {
	return !(d.Backend == "phy" || d.Backend == "tap" || d.Backend == "" && (d.Format == "" || d.Format == "raw"))
}

// qdiskOf is the index of cfg's disk vdev, which QEMU must serve.
func qdiskOf(cfg *libxltypes.DomainConfig, vdev string) (int, error) {
	i := findDisk(cfg, vdev)
	if i < 0 {
		return -1, fmt.Errorf("%w: disk %s", backend.ErrNoDevice, vdev)
	}
	d := cfg.Disks[i]
	if !servedByQEMU(d) {
		return -1, fmt.Errorf("%w: disk %s is served by blkback, not QEMU (qdisk): only a qcow2 disk or one with driver name='qemu' can be snapshotted while the guest runs", backend.ErrUnsupported, vdev)
	}
	if d.IsCDROM != 0 {
		return -1, fmt.Errorf("%w: disk %s is a cdrom", backend.ErrInvalid, vdev)
	}
	return i, nil
}
