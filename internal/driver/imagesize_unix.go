package driver

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// allocated is what a file occupies on its filesystem: st_blocks in
// units of 512 bytes.
func allocated(fi os.FileInfo) uint64 {
	if st, ok := fi.Sys().(*syscall.Stat_t); ok && st.Blocks > 0 {
		return uint64(st.Blocks) * 512
	}
	return 0
}

// statID is the identity of path's current version, from one stat(2).
func statID(path string) (fileID, bool) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileID{}, false
	}
	id := fileID{mode: fi.Mode(), size: fi.Size(), mtime: fi.ModTime().UnixNano()}
	if st, ok := fi.Sys().(*syscall.Stat_t); ok {
		id.dev, id.ino, id.rdev = uint64(st.Dev), st.Ino, uint64(st.Rdev)
		id.ctime = st.Ctim.Nano()
	}
	return id, true
}

// dropCache asks the kernel to drop f's pages from the page cache, what
// VIR_DOMAIN_SAVE_BYPASS_CACHE is for: a saved image is not read again
// soon, and should not push the host's other pages out.
func dropCache(f *os.File) {
	unix.Fadvise(int(f.Fd()), 0, 0, unix.FADV_DONTNEED)
}
