package qemuimg

import (
	"errors"
	"testing"
	"time"
)

// Create, apply and delete, by name, on a qcow2 image; a snapshot named
// like another's ID ("1") is the one applied, not the other.
func TestSnapshotRoundTrip(t *testing.T) {
	tool := needQemuImg(t)
	ctx := testCtx(t)
	img := newImage(t, t.TempDir(), "disk.qcow2", "qcow2", 0xaa)
	start := time.Now().Add(-time.Second)
	if err := tool.SnapshotCreate(ctx, img, "a"); err != nil {
		t.Fatal(err)
	}
	write(t, img, "qcow2", 0x01, 0, mib)
	if err := tool.SnapshotCreate(ctx, img, "1"); err != nil {
		t.Fatal(err)
	}
	write(t, img, "qcow2", 0xff, 0, mib)
	if err := tool.SnapshotCreate(ctx, img, "a"); !errors.Is(err, ErrSnapshotExists) {
		t.Errorf("second snapshot called a: %v", err)
	}
	if err := tool.SnapshotCreate(ctx, img, ""); !errors.Is(err, ErrSnapshotName) {
		t.Errorf("snapshot without a name: %v", err)
	}
	snaps, err := tool.SnapshotList(ctx, img)
	if err != nil || len(snaps) != 2 {
		t.Fatalf("SnapshotList: %+v, %v", snaps, err)
	}
	for i, want := range []Snapshot{{ID: "1", Name: "a"}, {ID: "2", Name: "1"}} {
		s := snaps[i]
		if s.ID != want.ID || s.Name != want.Name || s.VMStateSize != 0 || s.VMClock != 0 ||
			s.Date.Before(start) || s.Date.After(time.Now()) {
			t.Errorf("snapshot %d: %+v, want %+v taken just now", i, s, want)
		}
	}

	if err := tool.SnapshotApply(ctx, img, "1"); err != nil {
		t.Fatal(err)
	}
	mustHold(t, img, "qcow2", 0x01, 0, mib) // qemu-img -a 1 would give a's 0xaa
	if err := tool.SnapshotApply(ctx, img, "a"); err != nil {
		t.Fatal(err)
	}
	mustHold(t, img, "qcow2", 0xaa, 0, mib)
	if err := tool.SnapshotApply(ctx, img, "b"); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("applying a snapshot that is not there: %v", err)
	}

	if err := tool.SnapshotDelete(ctx, img, "a"); err != nil {
		t.Fatal(err)
	}
	if err := tool.SnapshotDelete(ctx, img, "a"); !errors.Is(err, ErrNoSnapshot) {
		t.Errorf("deleting a twice: %v", err)
	}
	mustHold(t, img, "qcow2", 0xaa, 0, mib)
	snaps, err = tool.SnapshotList(ctx, img)
	if err != nil || len(snaps) != 1 || snaps[0].Name != "1" {
		t.Errorf("after deleting a: %+v, %v", snaps, err)
	}
}

// A raw image has no internal snapshots: qemu-img says so.
func TestSnapshotRaw(t *testing.T) {
	tool := needQemuImg(t)
	img := newImage(t, t.TempDir(), "disk.raw", "raw", 0)
	err := tool.SnapshotCreate(testCtx(t), img, "a")
	var qe *Error
	if !errors.As(err, &qe) || qe.ExitCode != 1 {
		t.Errorf("snapshot of a raw image: %v", err)
	}
}
