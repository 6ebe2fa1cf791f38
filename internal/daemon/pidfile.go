package daemon

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"syscall"

	"golang.org/x/sys/unix"
)

// ErrAlreadyRunning means another daemon holds the pid file or the sockets.
var ErrAlreadyRunning = errors.New("another instance of virtxend is already running")

// PidFile is a pid file held locked for the daemon's life, as libvirt's
// virPidFileAcquirePath: the lock, not the file's existence, is what keeps a
// second daemon out, so a stale file left by kill -9 does no harm.
type PidFile struct {
	path string
	f    *os.File
}

// AcquirePidFile creates (0644) and locks path and writes our pid into it,
// without a newline. It retries if the file was replaced while locking.
func AcquirePidFile(path string) (*PidFile, error) {
	if err := mkdirRunDir(filepath.Dir(path)); err != nil {
		return nil, fmt.Errorf("cannot create directory for pid file %s: %w", path, err)
	}
	for attempt := 0; attempt < 5; attempt++ {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE, 0o644)
		if err != nil {
			return nil, fmt.Errorf("failed to open pid file %s: %w", path, err)
		}
		lk := unix.Flock_t{Type: unix.F_WRLCK, Whence: 0, Start: 0, Len: 1}
		if err := unix.FcntlFlock(f.Fd(), unix.F_SETLK, &lk); err != nil {
			f.Close()
			if errors.Is(err, unix.EAGAIN) || errors.Is(err, unix.EACCES) {
				return nil, fmt.Errorf("failed to acquire pid file %s: %w", path, ErrAlreadyRunning)
			}
			return nil, fmt.Errorf("failed to lock pid file %s: %w", path, err)
		}
		if !sameFile(f, path) {
			f.Close() // replaced between open and lock: try the new one
			continue
		}
		if err := writePid(f); err != nil {
			f.Close()
			return nil, fmt.Errorf("failed to write pid file %s: %w", path, err)
		}
		return &PidFile{path: path, f: f}, nil
	}
	return nil, fmt.Errorf("failed to acquire pid file %s: it keeps being replaced", path)
}

func sameFile(f *os.File, path string) bool {
	a, err1 := f.Stat()
	b, err2 := os.Stat(path)
	if err1 != nil || err2 != nil {
		return false
	}
	sa, sb := a.Sys().(*syscall.Stat_t), b.Sys().(*syscall.Stat_t)
	return sa.Dev == sb.Dev && sa.Ino == sb.Ino
}

// writePid writes the pid into the locked file, which is 0644 whatever the
// umask, as the man page shows it.
func writePid(f *os.File) error {
	if err := f.Chmod(0o644); err != nil {
		return err
	}
	if err := f.Truncate(0); err != nil {
		return err
	}
	if _, err := f.WriteAt([]byte(strconv.Itoa(os.Getpid())), 0); err != nil {
		return err
	}
	return f.Sync()
}

// Release removes the file, then drops the lock, so that no one can lock
// the old inode after a new daemon created a fresh file.
func (p *PidFile) Release() {
	if p == nil {
		return
	}
	os.Remove(p.path)
	p.f.Close()
}

// mkdirRunDir creates dir and its parents as libvirt's privileged daemon
// creates its run directory: under umask 022, so that the directory is
// 0755 and the read-only socket in it reachable, whatever the umask the
// daemon was started with.
func mkdirRunDir(dir string) error {
	old := unix.Umask(0o022)
	defer unix.Umask(old)
	return os.MkdirAll(dir, 0o755)
}
