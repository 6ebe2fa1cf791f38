package libxl

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func socketpair(t *testing.T) (a, b *os.File) {
	t.Helper()
	fds, err := syscall.Socketpair(syscall.AF_UNIX, syscall.SOCK_STREAM|syscall.SOCK_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	a, b = os.NewFile(uintptr(fds[0]), "a"), os.NewFile(uintptr(fds[1]), "b")
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// lastProgress keeps the last report.
type lastProgress struct {
	mu          sync.Mutex
	done, total uint64
}

func (p *lastProgress) report(done, total uint64) {
	p.mu.Lock()
	p.done, p.total = done, total
	p.mu.Unlock()
}

func started(s *saveStream, within time.Duration) bool {
	select {
	case <-s.Started():
		return true
	case <-time.After(within):
		return false
	}
}

// TestSaveStreamCounts: a stream for a socket goes through whole, the
// last report is its size (beyond the estimate), and the helper counts
// as started once the LIBXC_CONTEXT record has gone by, not before.
func TestSaveStreamCounts(t *testing.T) {
	src, dst := socketpair(t)
	var p lastProgress
	s, err := newSaveStream(src, 1000, p.report)
	if err != nil {
		t.Fatal(err)
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(dst); got <- b }()
	start := libxlStart(recLibxcContext)
	s.in.Write(start[:16])
	if started(s, 100*time.Millisecond) {
		t.Fatal("started with the stream's header only")
	}
	s.in.Write(start[16:])
	if !started(s, 5*time.Second) {
		t.Fatal("not started after the LIBXC_CONTEXT record")
	}
	want := append(start, bytes.Repeat([]byte("stream "), 100_000)...)
	if _, err := s.in.Write(want[len(start):]); err != nil {
		t.Fatal(err)
	}
	if err := s.End(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("%d octets arrived of %d", len(b), len(want))
	}
	if p.done != uint64(len(want)) || p.total != p.done {
		t.Fatalf("last progress %d of %d, sent %d", p.done, p.total, len(want))
	}
}

// TestSaveStreamPeerGone: when the stream's reader is gone from the
// start, libxl's own first records still go (nowhere), as libxl would
// crash on failing them; from its helper's start, writes fail rather than
// block, and End says the stream did not arrive.
func TestSaveStreamPeerGone(t *testing.T) {
	src, dst := socketpair(t)
	s, err := newSaveStream(src, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	dst.Close()
	start := libxlStart(recLibxcContext)
	for _, b := range [][]byte{start[:16], start[16:]} {
		time.Sleep(50 * time.Millisecond)
		if _, err := s.in.Write(b); err != nil {
			t.Fatalf("libxl's own record failed: %v", err)
		}
	}
	chunk := make([]byte, 64<<10)
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		_, werr = s.in.Write(chunk)
	}
	if !errors.Is(werr, syscall.EPIPE) {
		t.Fatalf("the helper's writes after the reader went: %v", werr)
	}
	if err := s.End(context.Background(), true); err == nil {
		t.Fatal("End reports the stream whole")
	}
}

// TestSaveStreamAbort: after a failure End returns at once, though the
// reader reads nothing.
func TestSaveStreamAbort(t *testing.T) {
	src, _ := socketpair(t)
	s, err := newSaveStream(src, 1000, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	go s.in.Write(append(libxlStart(recLibxcContext), make([]byte, 8<<20)...)) // fills the socket and the pipe, then blocks
	time.Sleep(100 * time.Millisecond)
	begin := time.Now()
	if err := s.End(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(begin); d > time.Second {
		t.Fatalf("End after a failure took %v", d)
	}
}

// TestSaveStreamContextEnds: while the copy waits for a slow reader, an
// abort ends the wait.
func TestSaveStreamContextEnds(t *testing.T) {
	src, _ := socketpair(t)
	s, err := newSaveStream(src, 1000, nil)
	if err != nil {
		t.Fatal(err)
	}
	go s.in.Write(make([]byte, 8<<20))
	waitBlocked(t, s)
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := s.End(ctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("End: %v", err)
	}
}

// waitBlocked waits until s's copy is stuck on its reader: the pipe holds
// octets and nothing more was sent for a while. (A fixed sleep was not
// enough on a loaded machine: the writer had not filled the buffers yet.
// Nothing sent is no sign: the copy's first write of a pipe's worth may
// be the one that blocks.)
func waitBlocked(t *testing.T, s *saveStream) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		before := s.sent.Load()
		time.Sleep(100 * time.Millisecond)
		if now := s.sent.Load(); now == before && pipeHolds(t, s.out) > 0 {
			return
		}
	}
	t.Fatal("the copy never blocked")
}

// pipeHolds is how many octets wait in the pipe whose reading end is r
// (FIONREAD, which Linux calls TIOCINQ).
func pipeHolds(t *testing.T, r *os.File) int {
	t.Helper()
	c, err := r.SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	var n int
	c.Control(func(fd uintptr) { n, err = unix.IoctlGetInt(int(fd), unix.TIOCINQ) })
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestSaveStreamFile: a regular file gets the stream from its offset.
func TestSaveStreamFile(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	f.WriteString("libvirt's header")
	var p lastProgress
	s, err := newSaveStream(f, 10, p.report)
	if err != nil {
		t.Fatal(err)
	}
	s.in.Write(make([]byte, 100))
	if err := s.End(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	if st, _ := f.Stat(); st.Size() != 116 || p.done != 100 || p.total != 100 {
		t.Fatalf("file of %d octets, last progress %d of %d", st.Size(), p.done, p.total)
	}
}

// TestRelayPipeSize: the relays' pipes hold relayPipeSize octets (unless
// the kernel refuses so much to a user that is not root).
func TestRelayPipeSize(t *testing.T) {
	r, w, err := relayPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	defer w.Close()
	n, err := unix.FcntlInt(w.Fd(), unix.F_GETPIPE_SZ, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n < relayPipeSize {
		if os.Geteuid() != 0 {
			t.Skipf("the pipe holds %d octets: the kernel refused %d to this user", n, relayPipeSize)
		}
		t.Fatalf("the pipe holds %d octets, want %d", n, relayPipeSize)
	}
}
