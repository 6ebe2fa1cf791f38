package libxl

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"golang.org/x/sys/unix"

	"virtxend/internal/backend"
)

// saveOutput is what libxl writes a save stream into: a regular file
// directly (fileStream), anything else through the relay (saveStream).
type saveOutput interface {
	// FD is the descriptor libxl writes the stream to.
	FD() int
	// Started is closed once libxl may be aborted: it has handed the
	// stream to its save helper (stream.go).
	Started() <-chan struct{}
	// End is called once libxl is done with the stream (ok: it
	// succeeded); it returns what kept the stream from its destination.
	End(ctx context.Context, ok bool) error
}

// newSaveOutput gives libxl f itself when f is a regular file it can
// write without risking its crash (newFileStream), else the relay. An
// error means f cannot take the stream's start: the save fails before
// libxl is called.
func newSaveOutput(ctx context.Context, f *os.File, total uint64, progress backend.Progress) (saveOutput, error) {
	s, err := newFileStream(ctx, f, total, progress)
	switch {
	case err != nil:
		return nil, err
	case s != nil:
		return s, nil
	}
	return newSaveStream(f, total, progress)
}

// startPoll is how often, while an abort waits for it, the file is
// looked at for the stream's start.
const startPoll = 10 * time.Millisecond

// fileStream is a save stream libxl writes straight into a regular file
// f at its offset, as libvirt's libxl driver and xl do. Through the relay
// a save of a 128 MiB PV guest took libxl 2.3 to 3.4 s under TCG, written
// directly 0.9 to 1.2 s: libxl's save helper waited on the relay's pipe
// every 64 KiB (2,090 wake-ups of the copy, each a switch between two
// processes), and the stream crossed the pipe and the daemon's memory.
// What the relay guards against (stream.go) is kept out another way:
//
//   - libxl's own writes, the stream's start, cannot fail: the space
//     they take is reserved first (fallocate, FALLOC_FL_KEEP_SIZE), on a
//     filesystem where a write into reserved space does not fail for want
//     of room (tmpfs, ext2/3/4, xfs), through a descriptor without
//     O_DIRECT (libxl's 16-octet writes would fail) or O_SYNC (a write
//     would reach the disk, and could fail there), within the file size
//     limit. A full disk or quota thus fails the save here, before libxl
//     starts, where libxl's first write would have crashed it;
//   - Started is closed once the file holds the stream's start up to the
//     LIBXC_CONTEXT record's header, which is read back from it: it is
//     looked for only once ctx ends, the one time it matters (an abort).
//
// f's offset must be its end, so that the stream is all that grows it:
// the progress is that growth.
type fileStream struct {
	f        *os.File
	r        *os.File // f again, for reading (f may be write-only)
	off      int64
	started  chan struct{}
	quit     chan struct{} // End closes it
	watched  chan struct{} // closed when watch returns
	stopPoll func()
}

// newFileStream makes the fileStream for f, or nil when f is no regular
// file libxl can safely be given: the relay is then used. It fails (and
// libxl must not start) when the stream's start does not fit in f.
func newFileStream(ctx context.Context, f *os.File, total uint64, progress backend.Progress) (*fileStream, error) {
	off, ok := directable(f)
	if !ok {
		return nil, nil
	}
	if err := fitsSizeLimit(off + maxStreamStart); err != nil {
		return nil, &os.PathError{Op: "write", Path: f.Name(), Err: err}
	}
	fd := int(f.Fd())
	r, err := os.Open(fmt.Sprintf("/proc/self/fd/%d", fd))
	if err != nil {
		return nil, nil
	}
	if err := reserve(fd, off, maxStreamStart); err != nil {
		r.Close()
		if errors.Is(err, unix.EOPNOTSUPP) || errors.Is(err, unix.ENOSYS) || errors.Is(err, unix.EINVAL) {
			return nil, nil
		}
		return nil, &os.PathError{Op: "fallocate", Path: f.Name(), Err: err}
	}
	s := &fileStream{f: f, r: r, off: off, started: make(chan struct{}), quit: make(chan struct{}), watched: make(chan struct{})}
	go s.watch(ctx)
	s.stopPoll = poll(s.written, total, progress)
	return s, nil
}

// directable says whether libxl can write f directly, and from where.
func directable(f *os.File) (off int64, ok bool) {
	st, err := f.Stat()
	if err != nil || !st.Mode().IsRegular() {
		return 0, false
	}
	var fs unix.Statfs_t
	if err := unix.Fstatfs(int(f.Fd()), &fs); err != nil {
		return 0, false
	}
	switch fs.Type {
	case unix.TMPFS_MAGIC, unix.EXT4_SUPER_MAGIC, unix.XFS_SUPER_MAGIC:
	default:
		return 0, false
	}
	fl, err := unix.FcntlInt(f.Fd(), unix.F_GETFL, 0)
	if err != nil || fl&unix.O_ACCMODE == unix.O_RDONLY || fl&(unix.O_DIRECT|unix.O_DSYNC) != 0 {
		return 0, false
	}
	off, err = f.Seek(0, io.SeekCurrent)
	if err != nil || off != st.Size() {
		return 0, false
	}
	return off, true
}

// fitsSizeLimit: a file may grow to size under this process's file size
// limit (RLIMIT_FSIZE; past it a write fails, with EFBIG, as Go ignores
// SIGXFSZ).
func fitsSizeLimit(size int64) error {
	var l unix.Rlimit
	if err := unix.Getrlimit(unix.RLIMIT_FSIZE, &l); err != nil || l.Cur == unix.RLIM_INFINITY || uint64(size) <= l.Cur {
		return nil
	}
	return unix.EFBIG
}

// reserve allocates n octets of fd from off, not changing its size.
func reserve(fd int, off, n int64) error {
	for {
		err := unix.Fallocate(fd, unix.FALLOC_FL_KEEP_SIZE, off, n)
		if err != unix.EINTR {
			return err
		}
	}
}

func (s *fileStream) FD() int { return int(s.f.Fd()) }

func (s *fileStream) Started() <-chan struct{} { return s.started }

// written is how much of the stream is in f.
func (s *fileStream) written() (int64, error) {
	st, err := s.f.Stat()
	if err != nil {
		return 0, err
	}
	return st.Size() - s.off, nil
}

// watch closes started, once ctx has ended, as soon as f holds the
// stream's start (or something that is not the libxl stream this knows,
// in which case nothing better can be done than to go on as if it had).
func (s *fileStream) watch(ctx context.Context) {
	defer close(s.watched)
	select {
	case <-ctx.Done():
	case <-s.quit:
		return
	}
	t := time.NewTicker(startPoll)
	defer t.Stop()
	for !s.headWritten() {
		select {
		case <-t.C:
		case <-s.quit:
			return
		}
	}
	close(s.started)
}

// headWritten reads the stream's start back from the file.
func (s *fileStream) headWritten() bool {
	need := streamHeaderLen
	for {
		b := make([]byte, need)
		if n, _ := s.r.ReadAt(b, s.off); n < need {
			return false
		}
		end, more, err := libxcContextEnd(b)
		if end > 0 || err != nil {
			return true
		}
		need = more
	}
}

// End stops watching f; libxl wrote it, and said how that went.
func (s *fileStream) End(ctx context.Context, ok bool) error {
	close(s.quit)
	<-s.watched
	s.stopPoll()
	s.r.Close()
	return nil
}
