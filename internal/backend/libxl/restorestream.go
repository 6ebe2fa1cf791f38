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

// restoreInput is what libxl reads a restore stream of the given version
// from. For a version 2 stream the start, up to its LIBXC_CONTEXT record,
// is looked at here first, and a stream that ends or is not libxl's
// before that record is refused (stream.go says why libxl must not see
// one). A regular file is read at its offset and a socket peeked at, and
// f itself is given to libxl; a pipe or the like cannot be looked into,
// so its start is read here and libxl gets a pipe with that start and
// then the rest of f, which is then read to its end. done is called once
// libxl is done. A version 1 stream goes through libxl's conversion
// helper and is not looked at.
func restoreInput(ctx context.Context, f *os.File, version uint32) (in *os.File, done func(), err error) {
	nothing := func() {}
	if version != streamVersion {
		return f, nothing, nil
	}
	st, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	switch {
	case st.Mode().IsRegular():
		off, err := f.Seek(0, io.SeekCurrent)
		if err != nil {
			return nil, nil, err
		}
		_, err = streamStart(func(b []byte) (int, error) { return f.ReadAt(b, off) })
		return f, nothing, err
	case st.Mode()&os.ModeSocket != 0:
		_, err := streamStart(peeker(ctx, int(f.Fd())))
		return f, nothing, err
	}
	return relayRestore(f)
}

// streamStart reads the stream's start with read, which gives the first
// len(b) octets of the stream, fewer only at its end, until the start
// holds the LIBXC_CONTEXT record's header, and returns it.
func streamStart(read func(b []byte) (int, error)) ([]byte, error) {
	need := streamHeaderLen
	for {
		b := make([]byte, need)
		n, err := read(b)
		if n < need {
			if err == nil || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, fmt.Errorf("%w: restore: the stream ends after %d octets, before its libxc part (LIBXC_CONTEXT record)", backend.ErrFailed, n)
			}
			return nil, err
		}
		end, more, err := libxcContextEnd(b)
		if err != nil {
			return nil, fmt.Errorf("%w: restore: %v", backend.ErrFailed, err)
		}
		if end > 0 {
			return b[:end], nil
		}
		need = more
	}
}

// peeker reads a socket's first octets without taking them, waiting
// (until ctx ends) for them to come or for the peer's end.
func peeker(ctx context.Context, fd int) func(b []byte) (int, error) {
	return func(b []byte) (int, error) {
		for {
			n, _, err := unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
			switch {
			case err == nil && n == len(b):
				return n, nil
			case err == nil && n == 0:
				return 0, io.EOF
			case err != nil && err != unix.EAGAIN && err != unix.EINTR:
				return 0, err
			}
			if peerDone(fd) {
				// What came with the end is all there is.
				n, _, _ = unix.Recvfrom(fd, b, unix.MSG_PEEK|unix.MSG_DONTWAIT)
				if n == len(b) {
					return n, nil
				}
				return max(n, 0), io.EOF
			}
			if err := pause(ctx, 20*time.Millisecond); err != nil {
				return 0, err
			}
		}
	}
}

// peerDone: the socket's peer will send nothing more.
func peerDone(fd int) bool {
	fds := []unix.PollFd{{Fd: int32(fd), Events: unix.POLLRDHUP}}
	n, err := unix.Poll(fds, 0)
	return err == nil && n > 0 && fds[0].Revents&(unix.POLLRDHUP|unix.POLLHUP|unix.POLLERR) != 0
}

func pause(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// relayRestore reads the stream's start from f and gives libxl a pipe
// with it, then the rest of f.
func relayRestore(f *os.File) (*os.File, func(), error) {
	var got []byte
	head, err := streamStart(func(b []byte) (int, error) {
		copy(b, got)
		n, err := io.ReadFull(f, b[len(got):])
		got = append(got, b[len(got):len(got)+n]...)
		return len(got), err
	})
	if err != nil {
		return nil, nil, err
	}
	r, w, err := relayPipe()
	if err != nil {
		return nil, nil, err
	}
	rest := got[len(head):]
	go func() {
		defer w.Close()
		if _, err := w.Write(head); err != nil {
			return
		}
		if _, err := w.Write(rest); err != nil {
			return
		}
		io.Copy(w, f)
	}()
	return r, func() { r.Close() }, nil
}
