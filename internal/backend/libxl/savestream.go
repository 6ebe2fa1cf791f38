package libxl

import (
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"

	"virtxend/internal/backend"
)

// relayPipeSize is the buffer of the relays' pipes. With a pipe's default
// 64 KiB a 128 MiB save took libxl 2.3 to 3.4 s under TCG, 1.5 to 1.7 s
// with 1 MiB: its save helper waited on the full pipe every 64 KiB, and
// each wait was a switch to the relay's goroutine and back.
const relayPipeSize = 1 << 20

// relayPipe is os.Pipe with a buffer of relayPipeSize, or of the default
// size when the kernel refuses it (beyond /proc/sys/fs/pipe-max-size, 1
// MiB by default, or the user's share of pipe buffers).
func relayPipe() (r, w *os.File, err error) {
	r, w, err = os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	if c, err := r.SyscallConn(); err == nil {
		c.Control(func(fd uintptr) { unix.FcntlInt(fd, unix.F_SETPIPE_SZ, relayPipeSize) })
	}
	return r, w, nil
}

// saveStream is the way a save stream goes from libxl to an f that
// libxl cannot be given directly (a socket, a pipe, a file fileStream
// cannot take): libxl writes into a pipe and a goroutine copies it to f.
// On the way it counts the octets, the save's progress (libxl has no
// progress callback, and a socket or pipe no size to poll), and
// watches for the LIBXC_CONTEXT record: once that has gone by
// libxl's save helper runs, and only from then can libxl abort the save
// or see its stream fail without crashing (stream.go). Until then a
// failure of f is kept from libxl: the copy goes on into nothing.
type saveStream struct {
	in, out   *os.File // the pipe: libxl writes in, the copy reads out
	started   chan struct{}
	startOnce sync.Once
	copied    chan error
	sent      atomic.Int64
	stopPoll  func()
}

// newSaveStream starts the copy to f and the progress reports against
// total (the guest's memory; raised if the stream outgrows it).
func newSaveStream(f *os.File, total uint64, progress backend.Progress) (*saveStream, error) {
	out, in, err := relayPipe()
	if err != nil {
		return nil, err
	}
	s := &saveStream{in: in, out: out, started: make(chan struct{}), copied: make(chan error, 1)}
	go s.copy(f)
	s.stopPoll = poll(func() (int64, error) { return s.sent.Load(), nil }, total, progress)
	return s, nil
}

func (s *saveStream) FD() int { return int(s.in.Fd()) }

// Started is closed once libxl has handed the stream to its save helper
// (or the stream turned out not to be the libxl format this knows, in
// which case nothing better can be done than to go on as if it had).
func (s *saveStream) Started() <-chan struct{} { return s.started }

func (s *saveStream) start() { s.startOnce.Do(func() { close(s.started) }) }

func (s *saveStream) copy(f *os.File) {
	buf := make([]byte, relayPipeSize)
	var head []byte // the stream's start, until its LIBXC_CONTEXT record
	var werr error
	for {
		n, err := s.out.Read(buf)
		head = s.watch(head, buf[:n])
		if werr == nil && n > 0 {
			k, e := f.Write(buf[:n])
			s.sent.Add(int64(k))
			werr = e
		}
		// Once the helper runs, the pipe's end fails it as f failed.
		if werr != nil && s.isStarted() {
			break
		}
		if err != nil {
			if !errors.Is(err, io.EOF) && werr == nil {
				werr = err
			}
			break
		}
	}
	s.out.Close()
	s.start()
	s.copied <- werr
}

// watch adds p to the stream's start until it holds the LIBXC_CONTEXT
// record's header, then says the helper started; it returns what is
// still kept (nil once done).
func (s *saveStream) watch(head, p []byte) []byte {
	if s.isStarted() {
		return nil
	}
	head = append(head, p...)
	if end, _, err := libxcContextEnd(head); end > 0 || err != nil {
		s.start()
		return nil
	}
	return head
}

func (s *saveStream) isStarted() bool {
	select {
	case <-s.started:
		return true
	default:
		return false
	}
}

// End is called once libxl is done with the stream (ok: it succeeded).
// It then waits until every octet is in f, and returns the error that
// kept them from it, or ctx's when ctx ends first. After a failure (ok
// false) it waits for nothing, so that an abort is not held up by a slow
// reader: the copy may still be writing its last octets to f, which the
// caller closes anyway.
func (s *saveStream) End(ctx context.Context, ok bool) error {
	defer s.stopPoll()
	s.in.Close() // the copy ends at the pipe's end
	if !ok {
		s.out.Close()
		return nil
	}
	select {
	case err := <-s.copied:
		return err
	case <-ctx.Done():
		s.out.Close()
		return ctx.Err()
	}
}
