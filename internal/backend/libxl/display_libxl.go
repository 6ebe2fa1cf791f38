//go:build libxl

package libxl

import (
	"context"

	"virtxend/internal/backend"
)

// The device model's display and keyboard, through its QMP socket, and
// the resizing of a running guest's disk.

// Screenshot implements backend.Screenshotter: the screendump of the
// guest's device model (an HVM guest's, or a PV guest's that serves its
// vfb), over libxl's QMP socket to it.
func (b *Backend) Screenshot(ctx context.Context, id backend.DomID, path string) (string, error) {
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return "", b.guestErr(id, err)
	}
	defer closer.Close()
	return s.screendump(path)
}

// SendKeys implements backend.KeySender: QMP send-key to the guest's
// device model, whose emulated keyboard (an HVM guest's PS/2, a PV guest's
// vkb) the guest reads.
func (b *Backend) SendKeys(ctx context.Context, id backend.DomID, keys []uint32, holdMs uint32) error {
	s, closer, err := dialQMP(ctx, uint32(id))
	if err != nil {
		return b.guestErr(id, err)
	}
	defer closer.Close()
	return s.sendKeys(keys, holdMs)
}

// ResizeDisk implements backend.DiskResizer for the disks the running
// guest's dom0 serves: a qdisk disk through its device model's QMP
// (block_resize), a raw file blkback serves through its loop device.
func (b *Backend) ResizeDisk(ctx context.Context, id backend.DomID, vdev, path string, bytes uint64) error {
	served, err := b.servedDisk(id, vdev)
	if err != nil {
		return err
	}
	if served.backend == "phy" {
		return growLoopFile(path, bytes)
	}
	s, d, closer, err := b.rootSession(ctx, id, vdev)
	if err != nil {
		return err
	}
	defer closer.Close()
	return s.blockResize(d.Node, bytes)
}
