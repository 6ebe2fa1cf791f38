package qemuimg

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
)

// overlayMode is the mode of an overlay file created here: it holds the
// guest's data from now on, readable by its owner only (the device model
// runs as root). qemu-img itself would make it 0644.
const overlayMode = 0o600

// CheckNewOverlay says whether a new overlay may be made at path, as
// libvirt's QEMU driver checks each disk of an external snapshot before it
// touches any: the path must not exist, or be a block device (which is
// formatted). A path that exists otherwise is ErrExists; libvirt accepts
// it only with VIR_DOMAIN_SNAPSHOT_CREATE_REUSE_EXT, when the caller uses
// the file as it is and does not call CreateOverlay.
func CheckNewOverlay(path string) error {
	if err := checkAbs(path); err != nil {
		return err
	}
	_, err := newOverlayTarget(path)
	return err
}

// newOverlayTarget looks at path for CheckNewOverlay and CreateOverlay: it
// reports whether path is an existing block device, or why it is refused.
// It follows a symlink, as LVM's /dev/VG/LV are, but refuses a dangling
// one, whose target qemu-img would create.
func newOverlayTarget(path string) (blockdev bool, err error) {
	st, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err == nil && st.Mode()&fs.ModeSymlink != 0 {
		st, err = os.Stat(path)
		if errors.Is(err, fs.ErrNotExist) {
			return false, fmt.Errorf("qemuimg: %s: %w", path, ErrExists)
		}
	}
	if err != nil {
		return false, err
	}
	if st.Mode()&fs.ModeDevice != 0 && st.Mode()&fs.ModeCharDevice == 0 {
		return true, nil
	}
	return false, fmt.Errorf("qemuimg: %s: %w", path, ErrExists)
}

// CreateOverlay makes a new qcow2 image at path whose backing file is
// backing, of format backingFormat, recorded as given (both absolute):
// qemu-img create -f qcow2 -F backingFormat -b backing path. The overlay
// has the backing file's virtual size and holds no data of its own yet.
//
// qemu-img create overwrites an existing file without a word, so path is
// first created here with O_EXCL: a file that exists, or appears since
// CheckNewOverlay, is ErrExists, never overwritten (a block device is
// formatted, as CheckNewOverlay says). If qemu-img fails, the file made
// here is removed.
//
// qemu-img opens the backing file only to read its size, sharing it, so
// this works on a disk a running guest's QEMU holds.
func (t *Tool) CreateOverlay(ctx context.Context, path, backing, backingFormat string) error {
	if err := checkAbsAll(path, backing); err != nil {
		return err
	}
	if backingFormat == "" {
		return fmt.Errorf("qemuimg: backing file %s: %w", backing, ErrNoFormat)
	}
	blockdev, err := newOverlayTarget(path)
	if err != nil {
		return err
	}
	if !blockdev {
		if err := createExcl(path); err != nil {
			return err
		}
	}
	_, err = t.run(ctx, "create", "-q", "-f", "qcow2", "-F", backingFormat, "-b", backing, path)
	if err != nil && !blockdev {
		os.Remove(path)
	}
	return err
}

// createExcl creates path, empty, refusing it if anything is there.
func createExcl(path string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, overlayMode)
	if errors.Is(err, fs.ErrExist) {
		return fmt.Errorf("qemuimg: %s: %w", path, ErrExists)
	}
	if err != nil {
		return err
	}
	return f.Close()
}

// qcow2Magic starts every qcow2 image ("QFI\xfb").
var qcow2Magic = []byte{'Q', 'F', 'I', 0xfb}

// CheckQcow2 reads the first bytes of the image at path, without running
// qemu-img: nil if it is a qcow2 image, ErrNotQcow2 if not. Internal
// snapshots need qcow2; this confirms what the domain declares before
// qemu-img is run on it. A read error is returned as is.
func CheckQcow2(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	magic := make([]byte, len(qcow2Magic))
	if _, err := io.ReadFull(f, magic); err != nil && !errors.Is(err, io.ErrUnexpectedEOF) && err != io.EOF {
		return err
	}
	if !bytes.Equal(magic, qcow2Magic) {
		return fmt.Errorf("qemuimg: %s: %w", path, ErrNotQcow2)
	}
	return nil
}
