package qemuimg

import (
	"bufio"
	"errors"
	"io"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
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
	hold(t, img)

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

// hold keeps img open for writing in qemu-io, as a running guest's QEMU
// does, until the test ends. It returns once qemu-io has the image open:
// it answers its "info" command only then. (Probing with qemu-img info
// instead raced with qemu-io's open: the probe's shared lock made qemu-io
// fail to take its write lock, 1 run in 20, and exit.)
func hold(t *testing.T, img string) {
	t.Helper()
	cmd := exec.Command("qemu-io", "-f", "qcow2", img)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		io.WriteString(stdin, "quit\n")
		stdin.Close()
		cmd.Wait()
	})
	io.WriteString(stdin, "info\n")
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if strings.Contains(sc.Text(), "format name: qcow2") {
			go io.Copy(io.Discard, stdout) // the rest, until quit
			return
		}
	}
	t.Fatalf("qemu-io did not open %s: %s", img, stderr.String())
}
