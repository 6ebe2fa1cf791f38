package qemuimg

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestErrorText(t *testing.T) {
	e := &Error{
		Args:     []string{"qemu-img", "snapshot", "-q", "-c", "my snap", "/var/lib/a.qcow2"},
		ExitCode: 1,
		Stderr:   "qemu-img: Could not create snapshot 'my snap': -95 (Operation not supported)",
	}
	want := `qemu-img snapshot -q -c "my snap" /var/lib/a.qcow2: exit status 1: ` + e.Stderr
	if e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
	e = &Error{Args: []string{"qemu-img", "info", ""}, ExitCode: -1, Err: context.Canceled}
	if want := `qemu-img info "": context canceled`; e.Error() != want {
		t.Errorf("got  %s\nwant %s", e.Error(), want)
	}
}

// What Is recognizes, in qemu-img 7.2's words.
func TestErrorIs(t *testing.T) {
	locked := "qemu-img: Could not open '/a.qcow2': Failed to get \"write\" lock\nIs another process using the image [/a.qcow2]?"
	missing := "qemu-img: Could not open '/a': Could not open '/a': No such file or directory"
	cases := []struct {
		stderr string
		code   int
		target error
		want   bool
	}{
		{locked, 1, ErrLocked, true},
		{locked, 1, fs.ErrNotExist, false},
		{missing, 1, fs.ErrNotExist, true},
		{missing, 1, ErrLocked, false},
		{missing, -1, fs.ErrNotExist, false},
	}
	for _, c := range cases {
		e := &Error{Args: []string{"qemu-img"}, ExitCode: c.code, Stderr: c.stderr, Err: errors.New("x")}
		if got := errors.Is(e, c.target); got != c.want {
			t.Errorf("errors.Is(%q (exit %d), %v) = %v", c.stderr, c.code, c.target, got)
		}
	}
}

// A qemu-img that cannot be run is ErrStart, never the image missing.
func TestNoQemuImg(t *testing.T) {
	for _, p := range []string{"/nonexistent/qemu-img", "no-such-qemu-img-in-path"} {
		tool := &Tool{Path: p}
		_, err := tool.run(testCtx(t), "info", "/x")
		var qe *Error
		if !errors.As(err, &qe) || !errors.Is(err, ErrStart) || errors.Is(err, fs.ErrNotExist) || qe.ExitCode != -1 {
			t.Errorf("%s: %#v", p, err)
		}
	}
}

// qemu-img's own failure carries its exit status and words.
func TestQemuImgFails(t *testing.T) {
	tool := needQemuImg(t)
	missing := filepath.Join(t.TempDir(), "missing.qcow2")
	_, err := tool.run(testCtx(t), "info", "-U", missing)
	var qe *Error
	if !errors.As(err, &qe) {
		t.Fatalf("got %#v, want *Error", err)
	}
	if qe.ExitCode != 1 || !strings.HasPrefix(qe.Stderr, "qemu-img: Could not open") || !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("%#v", qe)
	}
	if !strings.Contains(err.Error(), "info -U "+missing+": exit status 1: qemu-img: ") {
		t.Errorf("error text: %s", err)
	}
}

// A context that ends kills qemu-img, and says so.
func TestContext(t *testing.T) {
	sleep, err := exec.LookPath("sleep")
	if err != nil {
		t.Skip("no sleep in PATH")
	}
	slow := filepath.Join(t.TempDir(), "qemu-img")
	// sh's sleep outlives sh and holds the pipes: WaitDelay ends the wait.
	if err := os.WriteFile(slow, []byte("#!/bin/sh\n"+sleep+" 30\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	tool := &Tool{Path: slow}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	start := time.Now()
	_, err = tool.run(ctx, "info", "/x")
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("got %v, want the deadline", err)
	}
	if d := time.Since(start); d > 10*time.Second {
		t.Errorf("took %v to give up", d)
	}
	ctx, cancel = context.WithCancel(context.Background())
	cancel()
	if _, err := tool.run(ctx, "info", "/x"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: got %v", err)
	}
}
