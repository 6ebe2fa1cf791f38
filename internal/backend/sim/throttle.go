package sim

import (
	"context"
	"fmt"
	"time"

	"virtxend/internal/backend"
)

// The I/O limits of a running guest's disks, which the simulated device
// model keeps as QEMU's block layer does: only for the disks it serves.

var _ backend.DiskThrottler = (*Host)(nil)

// DiskThrottle implements backend.DiskThrottler.
func (h *Host) DiskThrottle(ctx context.Context, id backend.DomID, vdev string) (backend.DiskThrottle, error) {
	var t backend.DiskThrottle
	err := h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		if err := throttledDisk(g, vdev); err != nil {
			return err
		}
		t = g.Throttles[vdev]
		return nil
	})
	return t, err
}

// SetDiskThrottle implements backend.DiskThrottler, with QEMU's checks
// (throttle_is_valid) that a burst has a rate to rise from and is no lower
// than it, and a burst's length a burst.
func (h *Host) SetDiskThrottle(ctx context.Context, id backend.DomID, vdev string, t backend.DiskThrottle) error {
	for _, b := range [][3]uint64{
		{t.TotalBytesSec, t.TotalBytesSecMax, t.TotalBytesSecMaxLength},
		{t.ReadBytesSec, t.ReadBytesSecMax, t.ReadBytesSecMaxLength},
		{t.WriteBytesSec, t.WriteBytesSecMax, t.WriteBytesSecMaxLength},
		{t.TotalIopsSec, t.TotalIopsSecMax, t.TotalIopsSecMaxLength},
		{t.ReadIopsSec, t.ReadIopsSecMax, t.ReadIopsSecMaxLength},
		{t.WriteIopsSec, t.WriteIopsSecMax, t.WriteIopsSecMaxLength},
	} {
		rate, burst, length := b[0], b[1], b[2]
		switch {
		case burst != 0 && (rate == 0 || burst < rate):
			return fmt.Errorf("%w: bps_max/iops_max require corresponding bps/iops values, and no lower", backend.ErrInvalid)
		case burst == 0 && length > 1:
			return fmt.Errorf("%w: burst length set without burst rate", backend.ErrInvalid)
		}
	}
	return h.onGuest(ctx, id, func(_ *hostState, g *guest, _ time.Time) error {
		if err := throttledDisk(g, vdev); err != nil {
			return err
		}
		if t == (backend.DiskThrottle{}) {
			delete(g.Throttles, vdev)
			return nil
		}
		if g.Throttles == nil {
			g.Throttles = map[string]backend.DiskThrottle{}
		}
		g.Throttles[vdev] = t
		return nil
	})
}

// throttledDisk checks that g has disk vdev and that QEMU serves it.
func throttledDisk(g *guest, vdev string) error {
	cfg := g.devices()
	i := findDisk(cfg, vdev)
	switch {
	case i < 0:
		return fmt.Errorf("%w: domain %d has no disk %s", backend.ErrNoDevice, g.DomID, vdev)
	case !servedByQEMU(cfg.Disks[i]):
		return fmt.Errorf("%w: disk %s of domain %d is served by blkback, which has no I/O limits: only a disk QEMU serves (a qcow2 image, or driver name='qemu') can be throttled",
			backend.ErrUnsupported, vdev, g.DomID)
	}
	return nil
}
