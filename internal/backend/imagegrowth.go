package backend

import (
	"fmt"
	"os"
)

// CheckRawGrowth is the rule for a raw image blkback serves, on every
// backend: only a regular file can be grown here (a block device is grown
// as a device, lvextend, and blkback follows it by itself), and only
// grown (blkback has no way to take blocks from under the guest).
func CheckRawGrowth(path string, bytes uint64) error {
	st, err := os.Stat(path)
	switch {
	case err != nil:
		return fmt.Errorf("%w: %v", ErrFailed, err)
	case !st.Mode().IsRegular():
		return fmt.Errorf("%w: %s is no regular file: grow the device itself, and blkback shows the guest its new size", ErrUnsupported, path)
	case bytes < uint64(st.Size()):
		return fmt.Errorf("%w: %s is %d bytes: blkback's disks can only grow", ErrUnsupported, path, st.Size())
	}
	return nil
}
