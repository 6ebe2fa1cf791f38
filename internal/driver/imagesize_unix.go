package driver

import (
	"os"
	"syscall"
)

// allocated is what a file occupies on its filesystem: st_blocks in
// units of 512 bytes.
func allocated(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks > 0 {
		return uint64(st.Blocks) * 512
	}
	return 0
}
