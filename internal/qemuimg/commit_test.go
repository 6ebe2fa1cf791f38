package qemuimg

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// Commit merges the overlay into its base and, in qemu-img 7.2, empties
// the overlay, which still reads the same through its base.
func TestCommit(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0x11)
	ov := filepath.Join(dir, "ov.qcow2")
	if err := tool.CreateOverlay(ctx, ov, base, "raw"); err != nil {
		t.Fatal(err)
	}
	write(t, ov, "qcow2", 0xab, 0, 4096)
	if err := tool.Commit(ctx, ov); err != nil {
		t.Fatal(err)
	}
	mustHold(t, base, "raw", 0xab, 0, 4096)
	mustHold(t, base, "raw", 0x11, 4096, mib-4096)
	mustHold(t, ov, "qcow2", 0xab, 0, 4096)
	img, err := tool.Info(ctx, ov)
	if err != nil || img.FullBackingFilename != base {
		t.Errorf("overlay after commit: %+v, %v; want it still over %s", img, err, base)
	}
	// Emptied: cut from its base, the overlay reads zeros.
	if err := tool.Rebase(ctx, ov, "", "", true); err != nil {
		t.Fatal(err)
	}
	mustHold(t, ov, "qcow2", 0, 0, mib)

	if err := tool.Commit(ctx, ov); err == nil {
		t.Error("commit of an image without a backing file succeeded")
	}
	if err := tool.Commit(ctx, "ov.qcow2"); !errors.Is(err, ErrRelativePath) {
		t.Errorf("commit of a relative path: %v", err)
	}
}

// A safe rebase keeps what the image reads, an unsafe one only renames.
func TestRebase(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	dir := t.TempDir()
	base := newImage(t, dir, "base.raw", "raw", 0x11)
	mid := filepath.Join(dir, "mid.qcow2")
	top := filepath.Join(dir, "top.qcow2")
	if err := tool.CreateOverlay(ctx, mid, base, "raw"); err != nil {
		t.Fatal(err)
	}
	write(t, mid, "qcow2", 0x22, 64<<10, 64<<10)
	if err := tool.CreateOverlay(ctx, top, mid, "qcow2"); err != nil {
		t.Fatal(err)
	}
	write(t, top, "qcow2", 0x33, 128<<10, 64<<10)
	reads := func(what string) {
		t.Helper()
		for _, r := range []struct {
			p   byte
			off int
		}{{0x11, 0}, {0x22, 64 << 10}, {0x33, 128 << 10}, {0x11, 192 << 10}} {
			if !holds(t, top, "qcow2", r.p, r.off, 64<<10) {
				t.Errorf("%s: top does not read 0x%02x at %d", what, r.p, r.off)
			}
		}
	}
	reads("before")

	// Safe: mid's data moves into top, which then skips mid.
	if err := tool.Rebase(ctx, top, base, "raw", false); err != nil {
		t.Fatal(err)
	}
	reads("rebased onto base")
	chainIs(t, tool, top, top, base)

	// Unsafe: a copy of base, same data, named instead.
	copyFile(t, base, filepath.Join(dir, "copy.raw"))
	if err := tool.Rebase(ctx, top, filepath.Join(dir, "copy.raw"), "raw", true); err != nil {
		t.Fatal(err)
	}
	reads("renamed to the copy")
	chainIs(t, tool, top, top, filepath.Join(dir, "copy.raw"))

	// Safe to nothing: top stands alone.
	if err := tool.Rebase(ctx, top, "", "", false); err != nil {
		t.Fatal(err)
	}
	reads("standing alone")
	chainIs(t, tool, top, top)

	for _, c := range []struct {
		path, backing, format string
		want                  error
	}{
		{"top.qcow2", base, "raw", ErrRelativePath},
		{top, "base.raw", "raw", ErrRelativePath},
		{top, base, "", ErrNoFormat},
		{top, filepath.Join(dir, "missing"), "raw", os.ErrNotExist},
	} {
		if err := tool.Rebase(ctx, c.path, c.backing, c.format, false); !errors.Is(err, c.want) {
			t.Errorf("Rebase(%q, %q, %q) = %v, want %v", c.path, c.backing, c.format, err, c.want)
		}
	}
}

// chainIs checks the backing chain of img, by file name.
func chainIs(t *testing.T, tool *Tool, img string, want ...string) {
	t.Helper()
	chain, err := tool.Chain(testCtx(t), img)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, i := range chain {
		got = append(got, i.Filename)
	}
	if len(got) != len(want) {
		t.Fatalf("chain of %s: %q, want %q", img, got, want)
	}
	for i := range got {
		if got[i] != want[i] {
			t.Fatalf("chain of %s: %q, want %q", img, got, want)
		}
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	if err == nil {
		err = os.WriteFile(to, b, 0o600)
	}
	if err != nil {
		t.Fatal(err)
	}
}
