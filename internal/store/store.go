// Package store writes the daemon's persistent and live state files so that a
// crash at any instant leaves either the old or the new content on disk, never
// a mix: data goes to a temporary file in the same directory, is synced,
// renamed over the target, and the directory is synced so the rename itself
// survives a power cut. Loaders skip the temporary files a crash may leave.
//
// Each step that changes the disk is followed by a crash point: a test
// build (-tags killpoints) can die there on request, so a harness kills the
// daemon exactly between two steps (see killpoint_armed.go); in every other
// build a crash point is an empty function the compiler removes.
package store

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
)

// tempMarker is part of every temporary name. Temporary names start with a
// dot and do not end in ".xml", so no loader mistakes them for real files.
const tempMarker = ".tmp-"

// IsTemp reports whether a directory entry name is a leftover temporary file.
func IsTemp(name string) bool {
	return strings.HasPrefix(name, ".") && strings.Contains(name, tempMarker)
}

// WriteFile atomically replaces path with data: temp file, write, fsync,
// rename, fsync of the directory. On error the old content is untouched.
//
// It makes its system calls itself: an *os.File would also offer the file
// to the poller (which refuses a regular file, one call more) and
// os.CreateTemp would add a chmod for a file made 0600 anyway; a define is
// mostly these calls.
func WriteFile(path string, data []byte, perm fs.FileMode) error {
	dir, base := filepath.Split(path)
	if dir == "" {
		dir = "."
	}
	fd, tmp, err := createTemp(dir, base, perm)
	if err != nil {
		return err
	}
	crashPoint("write:temp-created", tmp)
	if err := writeSynced(fd, tmp, data, perm); err != nil {
		syscall.Close(fd)
		syscall.Unlink(tmp)
		return &fs.PathError{Op: "write", Path: tmp, Err: err}
	}
	if err := syscall.Close(fd); err != nil {
		syscall.Unlink(tmp)
		return &fs.PathError{Op: "close", Path: tmp, Err: err}
	}
	if err := rename(tmp, path); err != nil {
		syscall.Unlink(tmp)
		return err
	}
	crashPoint("write:renamed", path)
	return syncDirAfter("write:dir-synced", dir, path)
}

// tempSeq numbers this process's temporary files; pid is the process's
// (os.Getpid is a system call each time).
var (
	tempSeq atomic.Uint64
	pid     = os.Getpid()
)

// tempName is a new temporary name for base in dir.
func tempName(dir, base string) string {
	return filepath.Join(dir, fmt.Sprintf(".%s%s%d-%d", base, tempMarker, pid, tempSeq.Add(1)))
}

// createTemp creates a new temporary file for base in dir, named with the
// process and a sequence number, and returns its descriptor and path.
func createTemp(dir, base string, perm fs.FileMode) (int, string, error) {
	for attempt := 0; ; attempt++ {
		tmp := tempName(dir, base)
		fd, err := syscall.Open(tmp, syscall.O_WRONLY|syscall.O_CREAT|syscall.O_EXCL|syscall.O_CLOEXEC, uint32(perm.Perm()))
		if err == syscall.EINTR || (err == syscall.EEXIST && attempt < 100) {
			continue // EEXIST: a file of a killed process with this pid
		}
		if err != nil {
			return -1, "", &fs.PathError{Op: "open", Path: tmp, Err: err}
		}
		return fd, tmp, nil
	}
}

// writeSynced writes data to fd (the file tmp), gives it perm and syncs
// it. The umask takes bits away from the mode the file was created with;
// the owner's own read and write (all a 0600 file has) are never among
// them, as without them the daemon could not work at all, so only other
// modes are set again.
func writeSynced(fd int, tmp string, data []byte, perm fs.FileMode) error {
	for len(data) > 0 {
		n, err := syscall.Write(fd, data)
		if err == syscall.EINTR {
			continue
		}
		if err != nil {
			return err
		}
		data = data[n:]
	}
	crashPoint("write:data-written", tmp)
	if perm.Perm()&^0o600 != 0 {
		if err := syscall.Fchmod(fd, uint32(perm.Perm())); err != nil {
			return err
		}
	}
	if err := syscall.Fsync(fd); err != nil {
		return err
	}
	crashPoint("write:temp-synced", tmp)
	return nil
}

// syncDirAfter syncs dir, the last step of an operation on path, and
// passes the crash point that ends the operation.
func syncDirAfter(point, dir, path string) error {
	err := SyncDir(dir)
	crashPoint(point, path)
	return err
}

// Remove deletes path and syncs its directory. A missing file is not an error.
func Remove(path string) error {
	if err := os.Remove(path); err != nil {
		if errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR) {
			return nil
		}
		return err
	}
	crashPoint("remove:unlinked", path)
	return syncDirAfter("remove:dir-synced", filepath.Dir(path), path)
}

// Symlink makes link point at target, replacing whatever link was, and syncs
// the directory. The new link is made under a temporary name and renamed,
// so a crash leaves either no link, the old one or the new one.
func Symlink(target, link string) error {
	dir, base := filepath.Split(link)
	if dir == "" {
		dir = "."
	}
	for attempt := 0; ; attempt++ {
		tmp := tempName(dir, base)
		err := os.Symlink(target, tmp)
		if errors.Is(err, fs.ErrExist) && attempt < 100 {
			continue
		}
		if err != nil {
			return err
		}
		crashPoint("symlink:temp-created", tmp)
		if err := rename(tmp, link); err != nil {
			os.Remove(tmp)
			return err
		}
		crashPoint("symlink:renamed", link)
		return syncDirAfter("symlink:dir-synced", dir, link)
	}
}

// LinkPointsTo reports whether link is a symlink whose target is target
// (compared after cleaning, as libvirt's virFileLinkPointsTo compares the
// files they resolve to; a link to a missing file counts as not pointing).
func LinkPointsTo(link, target string) bool {
	a, err := os.Stat(link)
	if err != nil {
		return false
	}
	b, err := os.Stat(target)
	if err != nil {
		return false
	}
	return os.SameFile(a, b)
}

// SyncDir fsyncs a directory so that renames and unlinks in it are durable.
func SyncDir(dir string) error {
	// One syncer per directory however it is named: WriteFile's has the
	// trailing slash of filepath.Split, Remove's not, and a define and an
	// undefine shared no sync.
	dir = filepath.Clean(dir)
	v, ok := dirSyncers.Load(dir)
	if !ok {
		v, _ = dirSyncers.LoadOrStore(dir, newDirSyncer())
	}
	return v.(*dirSyncer).sync(dir)
}

// dirSyncers are the directories' syncers, by the path SyncDir was given.
var dirSyncers sync.Map

// A dirSyncer lets concurrent callers share the syncs of one directory (a
// group commit): a sync covers every change made in the directory before
// it began, so a caller waits for the next sync to begin after its call
// and end, which one caller makes for all that wait. Under concurrent
// defines this saves most of the directory syncs, each as costly as the
// file's own.
type dirSyncer struct {
	mu      sync.Mutex
	ended   *sync.Cond
	begun   uint64 // syncs begun
	done    uint64 // the latest sync that ended
	running bool
	err     error // of the latest sync that ended
}

func newDirSyncer() *dirSyncer {
	s := &dirSyncer{}
	s.ended = sync.NewCond(&s.mu)
	return s
}

func (s *dirSyncer) sync(dir string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	// A sync running now may have begun before this caller's change.
	want := s.begun + 1
	for s.done < want {
		if s.running {
			s.ended.Wait()
			continue
		}
		s.running = true
		s.begun++
		n := s.begun
		s.mu.Unlock()
		err := syncDirNow(dir)
		s.mu.Lock()
		s.running, s.done, s.err = false, n, err
		s.ended.Broadcast()
	}
	return s.err
}

// syncDirNow is the sync itself (a variable for the test of the sharing).
var syncDirNow = func(dir string) error {
	// Plain system calls: an *os.File would also stat the directory and
	// offer it to the poller, a third of a define's calls for nothing.
	fd, err := syscall.Open(dir, syscall.O_RDONLY|syscall.O_DIRECTORY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return &fs.PathError{Op: "open", Path: dir, Err: err}
	}
	defer syscall.Close(fd)
	if err := syscall.Fsync(fd); err != nil {
		return &fs.PathError{Op: "sync", Path: dir, Err: err}
	}
	return nil
}

// rename is rename(2): os.Rename first stats the target, to refuse a
// directory, which none of ours is (rename(2) refuses one too, EISDIR).
func rename(from, to string) error {
	if err := syscall.Rename(from, to); err != nil {
		return &os.LinkError{Op: "rename", Old: from, New: to, Err: err}
	}
	return nil
}

// MkdirAll creates dir and its parents, syncing each parent it had to create
// an entry in so the new directories survive a crash.
func MkdirAll(dir string, perm fs.FileMode) error {
	if fi, err := os.Stat(dir); err == nil && fi.IsDir() {
		return nil
	}
	parent := filepath.Dir(dir)
	if parent != dir {
		if err := MkdirAll(parent, perm); err != nil {
			return err
		}
	}
	if err := os.Mkdir(dir, perm); err != nil && !errors.Is(err, fs.ErrExist) {
		return err
	}
	crashPoint("mkdir:made", dir)
	return syncDirAfter("mkdir:dir-synced", parent, dir)
}

// ListNames returns the names, without the suffix, of the regular files or
// symlinks in dir that end in suffix (e.g. ".xml"), skipping temporaries and
// hidden files. A missing directory yields no names.
func ListNames(dir, suffix string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, nil
		}
		return nil, err
	}
	var names []string
	for _, e := range entries {
		n := e.Name()
		if strings.HasPrefix(n, ".") || e.IsDir() {
			continue
		}
		if stem, ok := strings.CutSuffix(n, suffix); ok && stem != "" {
			names = append(names, stem)
		}
	}
	return names, nil
}

// CleanTemp removes leftover temporary files in dir, as a crash mid-write
// leaves them. It is safe only while no writer is active in dir.
func CleanTemp(dir string) error {
	return cleanTemps(dir, IsTemp)
}

// CleanTempOf removes the leftover temporaries of the files named names in
// dir: for a directory shared with another process's files, whose writes
// may be in flight. It is safe only while no writer of those files is active.
func CleanTempOf(dir string, names ...string) error {
	return cleanTemps(dir, func(entry string) bool {
		return IsTemp(entry) && slices.ContainsFunc(names, func(n string) bool {
			return strings.HasPrefix(entry, "."+n+tempMarker)
		})
	})
}

func cleanTemps(dir string, isTemp func(name string) bool) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		return err
	}
	removed := false
	for _, e := range entries {
		if isTemp(e.Name()) {
			if err := os.Remove(filepath.Join(dir, e.Name())); err == nil {
				removed = true
				crashPoint("clean:removed", filepath.Join(dir, e.Name()))
			}
		}
	}
	if removed {
		return syncDirAfter("clean:dir-synced", dir, dir)
	}
	return nil
}
