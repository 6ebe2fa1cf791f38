package libxl

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// imageFile is a save image as the driver makes it: created write-only in
// dir, libvirt's header written, the offset at its end.
func imageFile(t *testing.T, dir string) *os.File {
	t.Helper()
	f, err := os.OpenFile(filepath.Join(dir, "img"), os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	if _, err := f.WriteString("libvirt's header"); err != nil {
		t.Fatal(err)
	}
	return f
}

// directDir is a directory on a filesystem fileStream writes directly
// (the test is skipped elsewhere).
func directDir(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	f := imageFile(t, dir)
	if _, ok := directable(f); !ok {
		t.Skipf("%s is on a filesystem fileStream does not write directly", dir)
	}
	return dir
}

// TestSaveOutputFileDirect: libxl gets a regular file itself, writes the
// stream from its offset, and the last progress report is the stream's
// size (beyond the estimate).
func TestSaveOutputFileDirect(t *testing.T) {
	f := imageFile(t, directDir(t))
	var p lastProgress
	out, err := newSaveOutput(context.Background(), f, 10, p.report)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := out.(*fileStream); !ok || out.FD() != int(f.Fd()) {
		t.Fatalf("a regular file goes through %T", out)
	}
	want := append(libxlStart(recLibxcContext), bytes.Repeat([]byte("stream "), 1000)...)
	if _, err := unix.Write(out.FD(), want); err != nil {
		t.Fatal(err)
	}
	if err := out.End(context.Background(), true); err != nil {
		t.Fatal(err)
	}
	got, err := os.ReadFile(f.Name())
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, append([]byte("libvirt's header"), want...)) {
		t.Fatalf("the file holds %d octets, want %d", len(got), 16+len(want))
	}
	if p.done != uint64(len(want)) || p.total != p.done {
		t.Fatalf("last progress %d of %d, written %d", p.done, p.total, len(want))
	}
}

// TestFileStreamStarted: once ctx has ended (an abort waits for Started),
// the stream counts as started when the file holds the LIBXC_CONTEXT
// record's header, not before.
func TestFileStreamStarted(t *testing.T) {
	f := imageFile(t, directDir(t))
	ctx, cancel := context.WithCancel(context.Background())
	out, err := newSaveOutput(ctx, f, 10, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer out.End(context.Background(), false)
	start := libxlStart(2, recLibxcContext) // a record before LIBXC_CONTEXT
	unix.Write(out.FD(), start[:16])
	cancel()
	for _, b := range [][]byte{nil, start[16:30]} {
		unix.Write(out.FD(), b)
		select {
		case <-out.Started():
			t.Fatalf("started with %d octets of the stream's %d-octet start", 16+len(b), len(start))
		case <-time.After(100 * time.Millisecond):
		}
	}
	unix.Write(out.FD(), start[30:])
	select {
	case <-out.Started():
	case <-time.After(5 * time.Second):
		t.Fatal("not started after the LIBXC_CONTEXT record")
	}
}

// TestSaveOutputRelayed: what libxl cannot safely be given goes through
// the relay: a socket, a pipe, a file opened read-only (libxl's first
// write would fail), a file with data past its offset (its growth would
// not show the stream), a file opened O_SYNC.
func TestSaveOutputRelayed(t *testing.T) {
	sock, _ := socketpair(t)
	_, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	dir := directDir(t)
	ro, err := os.Open(filepath.Join(dir, "img"))
	if err != nil {
		t.Fatal(err)
	}
	defer ro.Close()
	past := imageFile(t, t.TempDir())
	past.Seek(4, 0)
	syncf, err := os.OpenFile(filepath.Join(dir, "sync"), os.O_CREATE|os.O_WRONLY|os.O_SYNC, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	defer syncf.Close()
	for _, f := range []*os.File{sock, w, ro, past, syncf} {
		out, err := newSaveOutput(context.Background(), f, 10, nil)
		if err != nil {
			t.Fatalf("%s: %v", f.Name(), err)
		}
		if _, ok := out.(*saveStream); !ok {
			t.Errorf("%s goes through %T", f.Name(), out)
		}
		out.End(context.Background(), false)
	}
}

// TestSaveOutputDiskFull: on a full filesystem the save fails before
// libxl is called (its first write would have crashed it): the stream's
// start cannot be reserved. Needs a tmpfs of its own (root).
func TestSaveOutputDiskFull(t *testing.T) {
	dir := t.TempDir()
	if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=256k"); err != nil {
		t.Skipf("cannot mount a tmpfs (%v)", err)
	}
	defer unix.Unmount(dir, unix.MNT_DETACH)
	f := imageFile(t, dir)
	if _, ok := directable(f); !ok {
		t.Fatal("a file on tmpfs is not written directly")
	}
	fill, err := os.Create(filepath.Join(dir, "fill"))
	if err != nil {
		t.Fatal(err)
	}
	defer fill.Close()
	for err == nil {
		_, err = fill.Write(make([]byte, 4096))
	}
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("filling the tmpfs: %v", err)
	}
	out, err := newSaveOutput(context.Background(), f, 10, nil)
	if !errors.Is(err, syscall.ENOSPC) {
		t.Fatalf("on a full disk: %T, %v", out, err)
	}
	t.Log(err)
}

// TestSaveOutputSizeLimit: a file size limit below the stream's start
// fails the save before libxl is called too (run in a child, whose limit
// is lowered).
func TestSaveOutputSizeLimit(t *testing.T) {
	if os.Getenv("VIRTXEND_TEST_FSIZE_CHILD") != "" {
		if err := unix.Setrlimit(unix.RLIMIT_FSIZE, &unix.Rlimit{Cur: 1 << 16, Max: unix.RLIM_INFINITY}); err != nil {
			t.Fatal(err)
		}
		f := imageFile(t, os.Getenv("VIRTXEND_TEST_FSIZE_CHILD"))
		if _, err := newSaveOutput(context.Background(), f, 10, nil); !errors.Is(err, syscall.EFBIG) {
			t.Fatalf("beyond the file size limit: %v", err)
		}
		return
	}
	cmd := exec.Command(os.Args[0], "-test.run", "^TestSaveOutputSizeLimit$")
	cmd.Env = append(os.Environ(), "VIRTXEND_TEST_FSIZE_CHILD="+directDir(t))
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%v\n%s", err, b)
	}
}
