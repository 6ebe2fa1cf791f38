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

// TestRelayCounts: a stream for a socket goes through the relay whole,
// and the last report is its size, beyond the estimate.
func TestRelayCounts(t *testing.T) {
	src, dst := socketpair(t)
	var p lastProgress
	to, end, err := watchStream(src, 1000, p.report)
	if err != nil {
		t.Fatal(err)
	}
	if to == src {
		t.Fatal("a socket is written directly")
	}
	got := make(chan []byte)
	go func() { b, _ := io.ReadAll(dst); got <- b }()
	want := bytes.Repeat([]byte("stream "), 100_000)
	if _, err := to.Write(want); err != nil {
		t.Fatal(err)
	}
	if err := end(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	src.Close()
	if b := <-got; !bytes.Equal(b, want) {
		t.Fatalf("%d bytes arrived of %d", len(b), len(want))
	}
	if p.done != uint64(len(want)) || p.total != p.done {
		t.Fatalf("last progress %d of %d, sent %d", p.done, p.total, len(want))
	}
}

// TestRelayPeerGone: when the stream's reader goes, the writer's next
// writes fail rather than block, and end says the stream did not arrive.
func TestRelayPeerGone(t *testing.T) {
	src, dst := socketpair(t)
	to, end, err := watchStream(src, 1000, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	dst.Close()
	chunk := make([]byte, 64<<10)
	var werr error
	for i := 0; i < 1000 && werr == nil; i++ {
		_, werr = to.Write(chunk)
	}
	if !errors.Is(werr, syscall.EPIPE) {
		t.Fatalf("writes into the relay of a closed socket: %v", werr)
	}
	if err := end(context.Background(), true); err == nil {
		t.Fatal("end reports the stream whole")
	}
}

// TestRelayAbort: after a failure end returns at once, though the reader
// reads nothing.
func TestRelayAbort(t *testing.T) {
	src, _ := socketpair(t)
	to, end, err := watchStream(src, 1000, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	go to.Write(make([]byte, 8<<20)) // fills the socket and the pipe, then blocks
	time.Sleep(100 * time.Millisecond)
	start := time.Now()
	if err := end(context.Background(), false); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > time.Second {
		t.Fatalf("end after a failure took %v", d)
	}
}

// TestRelayContextEnds: while the relay waits for a slow reader, an
// abort ends the wait.
func TestRelayContextEnds(t *testing.T) {
	src, _ := socketpair(t)
	to, end, err := watchStream(src, 1000, func(uint64, uint64) {})
	if err != nil {
		t.Fatal(err)
	}
	go to.Write(make([]byte, 8<<20))
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	time.Sleep(100 * time.Millisecond)
	if err := end(ctx, true); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("end: %v", err)
	}
}

// TestRegularFileDirect: a regular file is written directly, its growth
// reported.
func TestRegularFileDirect(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "img"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var p lastProgress
	to, end, err := watchStream(f, 10, p.report)
	if err != nil || to != f {
		t.Fatalf("%v, %v", to, err)
	}
	f.Write(make([]byte, 100))
	end(context.Background(), true)
	if p.done != 100 || p.total != 100 {
		t.Fatalf("last progress %d of %d", p.done, p.total)
	}
}
