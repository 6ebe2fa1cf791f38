package qemuimg

import (
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// While another process writes an image (as a running guest's QEMU does),
// reading it works (-U) and writing it is ErrLocked; an overlay on it can
// still be made.
func TestLocked(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0)
	img := filepath.Join(dir, "disk.qcow2")
	if err := tool.CreateOverlay(ctx, img, base, "raw"); err != nil {
		t.Fatal(err)
	}
	hold(t, tool, img)

	if _, err := tool.Info(ctx, img); err != nil {
		t.Errorf("Info of a held image: %v", err)
	}
	if _, err := tool.Chain(ctx, img); err != nil {
		t.Errorf("Chain of a held image: %v", err)
	}
	for name, err := range map[string]error{
		"SnapshotCreate": tool.SnapshotCreate(ctx, img, "a"),
		"Commit":         tool.Commit(ctx, img),
		"Rebase":         tool.Rebase(ctx, img, base, "raw", true),
	} {
		if !errors.Is(err, ErrLocked) {
			t.Errorf("%s of a held image: %v, want ErrLocked", name, err)
		}
	}
	if err := tool.CreateOverlay(ctx, filepath.Join(dir, "top.qcow2"), img, "qcow2"); err != nil {
		t.Errorf("overlay on a held image: %v", err)
	}
}

// hold opens img for writing in a qemu-io that waits on its stdin until
// the test ends, and waits until qemu-img sees the lock.
func hold(t *testing.T, tool *Tool, img string) {
	t.Helper()
	cmd := exec.Command("qemu-io", "-f", "qcow2", img)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		io.WriteString(stdin, "quit\n")
		stdin.Close()
		cmd.Wait()
	})
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		_, err := tool.run(testCtx(t), "info", img) // without -U: sees the lock
		if errors.Is(err, ErrLocked) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatal("qemu-io never took the image's lock")
}
