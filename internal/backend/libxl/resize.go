package libxl

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"golang.org/x/sys/unix"

	"virtxend/internal/backend"
)

// A raw image file that blkback serves (libxl's phy backend for a regular
// file) is a loop device that the block hotplug script set up over it.
// It grows as losetup -c grows one: the file first, then the loop
// device's capacity (LOOP_SET_CAPACITY). blkback sees the device's new
// size and tells the frontend (xen_vbd_resize).

// sysBlock is where the kernel lists block devices; a variable for tests.
var sysBlock = "/sys/block"

// loopsOver lists the loop devices (/dev/loopN) whose backing file is path.
func loopsOver(path string) ([]string, error) {
	want, err := filepath.EvalSymlinks(path)
	if err != nil {
		return nil, err
	}
	files, err := filepath.Glob(filepath.Join(sysBlock, "loop*", "loop", "backing_file"))
	if err != nil {
		return nil, err
	}
	var loops []string
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			continue // detached meanwhile
		}
		if strings.TrimSpace(string(b)) == want {
			loops = append(loops, "/dev/"+filepath.Base(filepath.Dir(filepath.Dir(f))))
		}
	}
	return loops, nil
}

// growLoopFile grows the raw image path to bytes, and the loop devices over
// it with it (backend.CheckRawGrowth says which images can grow).
func growLoopFile(path string, bytes uint64) error {
	if err := backend.CheckRawGrowth(path, bytes); err != nil {
		return err
	}
	loops, err := loopsOver(path)
	if err != nil {
		return fmt.Errorf("%w: the loop devices over %s: %v", backend.ErrFailed, path, err)
	}
	if len(loops) == 0 {
		return fmt.Errorf("%w: no loop device serves %s", backend.ErrFailed, path)
	}
	if err := os.Truncate(path, int64(bytes)); err != nil {
		return fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	for _, l := range loops {
		if err := setLoopCapacity(l); err != nil {
			return fmt.Errorf("%w: %s grew to %d bytes, but its loop device %s did not: %v", backend.ErrFailed, path, bytes, l, err)
		}
	}
	return nil
}

// setLoopCapacity has loop device dev read its backing file's size again.
func setLoopCapacity(dev string) error {
	f, err := os.OpenFile(dev, os.O_RDONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.IoctlSetInt(int(f.Fd()), unix.LOOP_SET_CAPACITY, 0)
}

// blockResize has QEMU give the disk whose root node is node the size
// bytes (QMP block_resize); its xen-block device tells the frontend.
func (s *qmpSession) blockResize(node string, bytes uint64) error {
	return s.execute("block_resize", map[string]any{"node-name": node, "size": bytes}, nil)
}
