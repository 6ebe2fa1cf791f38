//go:build libxl

package libxl

import (
	"context"
	"fmt"
	"io"

	"virtxend/internal/backend"
)

// The I/O limits of a running guest's disks: QEMU's block throttling, which
// only the disks the device model serves (libxl's qdisk backend) have.

var _ backend.DiskThrottler = (*Backend)(nil)

// DiskThrottle implements backend.DiskThrottler: the limits query-block
// shows for the xen-block device serving vdev.
func (b *Backend) DiskThrottle(ctx context.Context, id backend.DomID, vdev string) (backend.DiskThrottle, error) {
	_, d, closer, err := b.throttleSession(ctx, id, vdev)
	if err != nil {
		return backend.DiskThrottle{}, err
	}
	closer.Close()
	return backend.DiskThrottle(d.Throttle), nil
}

// SetDiskThrottle implements backend.DiskThrottler: block_set_io_throttle
// of the xen-block device serving vdev, named by its QOM path (it has no
// BlockBackend name).
func (b *Backend) SetDiskThrottle(ctx context.Context, id backend.DomID, vdev string, t backend.DiskThrottle) error {
	s, d, closer, err := b.throttleSession(ctx, id, vdev)
	if err != nil {
		return err
	}
	defer closer.Close()
	return s.setThrottle(d.QDev, qmpThrottle(t))
}

// throttleSession is a QMP session to domain id's device model, which must
// serve its disk vdev (a qdisk disk), and that disk as QEMU shows it.
func (b *Backend) throttleSession(ctx context.Context, id backend.DomID, vdev string) (*qmpSession, qemuDisk, io.Closer, error) {
	served, err := b.servedDisk(id, vdev)
	if err != nil {
		return nil, qemuDisk{}, nil, err
	}
	if served.backend != "qdisk" {
		return nil, qemuDisk{}, nil, fmt.Errorf("%w: disk %s of domain %d is served by libxl's %s backend (blkback, in the kernel), which has no I/O limits: "+
			"only a disk QEMU serves (qdisk: a qcow2 image, or driver name='qemu') can be throttled", backend.ErrUnsupported, vdev, id, served.backend)
	}
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return nil, qemuDisk{}, nil, b.guestErr(id, err)
	}
	disks, err := s.disks()
	if err == nil {
		var d qemuDisk
		if d, err = findXenDisk(disks, vdev); err == nil {
			return s, d, closer, nil
		}
	}
	closer.Close()
	return nil, qemuDisk{}, nil, err
}
