package libxl

import (
	"context"
	"io"
	"os"
	"sync/atomic"
	"time"

	"virtxend/internal/backend"
)

// progressEvery is how often a save's or dump's progress is looked at.
const progressEvery = 200 * time.Millisecond

// watchStream arranges for a save stream bound for f to report its
// progress against total (raised if the stream outgrows it): libxl has no
// progress callback for a save, its helper just writes the fd it is given.
// It returns the file to give libxl and end, to call once libxl is done
// (ok: it succeeded). A regular file is given as it is and its growth
// polled. Anything else (a socket, a pipe, a fifo) has no size to poll:
// libxl then writes into a pipe, and a goroutine counts the bytes on
// their way to f. end then waits until they are all in f, and returns
// the error that kept them from it, or ctx's when it ends first; after a
// failure (ok false) it waits for nothing, so that an abort is not held
// up by a slow reader: the goroutine may still be writing its last bytes
// to f, which the caller closes anyway. Without progress libxl writes f.
func watchStream(f *os.File, total uint64, progress backend.Progress) (to *os.File, end func(ctx context.Context, ok bool) error, err error) {
	if progress == nil {
		return f, func(context.Context, bool) error { return nil }, nil
	}
	if st, err := f.Stat(); err == nil && st.Mode().IsRegular() {
		stop := watchGrowth(f, total, progress)
		return f, func(context.Context, bool) error { stop(); return nil }, nil
	}
	return relay(f, total, progress)
}

// relay is watchStream's pipe and counting goroutine.
func relay(f *os.File, total uint64, progress backend.Progress) (*os.File, func(ctx context.Context, ok bool) error, error) {
	pr, pw, err := os.Pipe()
	if err != nil {
		return nil, nil, err
	}
	var sent atomic.Int64
	copied := make(chan error, 1)
	go func() {
		_, err := io.Copy(countingWriter{f, &sent}, pr)
		// When f fails, libxl's next write fails too, where it would
		// block on a pipe nobody reads.
		pr.Close()
		copied <- err
	}()
	stop := poll(func() (int64, error) { return sent.Load(), nil }, total, progress)
	end := func(ctx context.Context, ok bool) error {
		defer stop()
		// libxl is done with pw: the copy ends at the pipe's end.
		pw.Close()
		if !ok {
			pr.Close()
			return nil
		}
		select {
		case err := <-copied:
			return err
		case <-ctx.Done():
			pr.Close()
			return ctx.Err()
		}
	}
	return pw, end, nil
}

// countingWriter adds to n what it writes to w.
type countingWriter struct {
	w io.Writer
	n *atomic.Int64
}

func (c countingWriter) Write(p []byte) (int, error) {
	k, err := c.w.Write(p)
	c.n.Add(int64(k))
	return k, err
}

// watchGrowth reports, until stopped, how much f has grown from its
// current offset against total.
func watchGrowth(f *os.File, total uint64, progress backend.Progress) (stop func()) {
	if progress == nil {
		return func() {}
	}
	start, _ := f.Seek(0, io.SeekCurrent)
	return poll(func() (int64, error) {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		return st.Size() - start, nil
	}, total, progress)
}

func watchPathGrowth(path string, total uint64, progress backend.Progress) (stop func()) {
	return poll(func() (int64, error) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}, total, progress)
}

// poll reports size against total every progressEvery, and once more
// when stopped, so that the last report is the final size.
func poll(size func() (int64, error), total uint64, progress backend.Progress) (stop func()) {
	report := func() {
		if n, err := size(); err == nil && n > 0 {
			progress(uint64(n), max(total, uint64(n)))
		}
	}
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				report()
				return
			case <-t.C:
				report()
			}
		}
	}()
	return func() { close(quit); <-done }
}
