package store

import (
	"errors"
	"fmt"
	"os"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrLocked is returned by AcquirePidFile when another live process holds
// the lock.
var ErrLocked = errors.New("locked by another process")

// PidFile is a held pid-file lock, as libvirt's virPidFileAcquirePath takes
// it: a non-blocking fcntl write lock on byte 0, held while the file is open. The
// kernel drops it when the process dies, so a kill -9 never leaves a stale
// lock behind.
type PidFile struct {
	path string
	f    *os.File
}

// AcquirePidFile opens path, locks it without waiting and writes pid. It
// fails with an error wrapping ErrLocked if another process holds it.
func AcquirePidFile(path string, pid int) (*PidFile, error) {
	for {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o644)
		if err != nil {
			return nil, err
		}
		// An open-file-description lock: it conflicts with libvirt's
		// classic fcntl lock on the same byte, and unlike one it also
		// excludes a second holder inside the same process (tests).
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 1}
		if err := unix.FcntlFlock(f.Fd(), unix.F_OFD_SETLK, &lk); err != nil {
			f.Close()
			if errors.Is(err, syscall.EAGAIN) || errors.Is(err, syscall.EACCES) {
				return nil, fmt.Errorf("%s: %w", path, ErrLocked)
			}
			return nil, err
		}
		// The holder before us may have unlinked the file between our
		// open and lock; then our lock guards nothing. Retry on a new inode.
		a, errA := f.Stat()
		b, errB := os.Stat(path)
		if errA != nil || errB != nil || !os.SameFile(a, b) {
			f.Close()
			continue
		}
		if err := f.Truncate(0); err != nil {
			f.Close()
			return nil, err
		}
		if _, err := f.WriteString(strconv.Itoa(pid)); err != nil {
			f.Close()
			return nil, err
		}
		return &PidFile{path: path, f: f}, nil
	}
}

// Release unlinks the file, then closes it (dropping the lock), in libvirt's order.
func (p *PidFile) Release() error {
	if p == nil || p.f == nil {
		return nil
	}
	err := os.Remove(p.path)
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	p.f = nil
	return err
}
