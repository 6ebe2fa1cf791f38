package qemuimg

import (
	"context"
	"fmt"
)

// Internal snapshots live inside a qcow2 image. qemu-img 7.2 takes a
// snapshot's ID and name in the one argument, and its subcommands read it
// differently:
//   - -c accepts any name, the empty one and one the image already has:
//     two snapshots may share a name;
//   - -a looks for an ID first, then a name: "-a 1" applies the snapshot
//     whose ID is 1 even when another is named "1";
//   - -d looks for a name only, the first that matches.
//
// So the operations here speak of names only and keep them unique:
// SnapshotCreate refuses an empty or taken name, and SnapshotApply finds
// the name's ID first and applies that. Each runs without -U: they write
// the image, and a running guest's QEMU holding it makes them fail with
// ErrLocked (the guest's own QEMU must take such snapshots).

// SnapshotCreate takes an internal snapshot of the image at path, called
// name: qemu-img snapshot -c name path. The image keeps changing after
// it; the snapshot keeps what it held now.
func (t *Tool) SnapshotCreate(ctx context.Context, path, name string) error {
	if name == "" {
		return fmt.Errorf("qemuimg: %s: %w", path, ErrSnapshotName)
	}
	_, found, err := t.findSnapshot(ctx, path, name)
	if err != nil {
		return err
	}
	if found {
		return fmt.Errorf("qemuimg: %s: %q: %w", path, name, ErrSnapshotExists)
	}
	_, err = t.run(ctx, "snapshot", "-q", "-c", name, path)
	return err
}

// SnapshotApply reverts the image at path to its internal snapshot called
// name (qemu-img snapshot -a, given the snapshot's ID): what was written
// since is lost; the snapshot stays.
func (t *Tool) SnapshotApply(ctx context.Context, path, name string) error {
	s, err := t.snapshot(ctx, path, name)
	if err != nil {
		return err
	}
	_, err = t.run(ctx, "snapshot", "-q", "-a", s.ID, path)
	return err
}

// SnapshotDelete deletes the internal snapshot called name from the image
// at path (qemu-img snapshot -d): the image's data now is untouched.
func (t *Tool) SnapshotDelete(ctx context.Context, path, name string) error {
	if _, err := t.snapshot(ctx, path, name); err != nil {
		return err
	}
	_, err := t.run(ctx, "snapshot", "-q", "-d", name, path)
	return err
}

// snapshot is the image's first snapshot called name, or ErrNoSnapshot.
func (t *Tool) snapshot(ctx context.Context, path, name string) (Snapshot, error) {
	s, found, err := t.findSnapshot(ctx, path, name)
	if err == nil && !found {
		err = fmt.Errorf("qemuimg: %s: %q: %w", path, name, ErrNoSnapshot)
	}
	return s, err
}

// findSnapshot is the image's first snapshot called name, as qemu-img's
// own name lookup finds it.
func (t *Tool) findSnapshot(ctx context.Context, path, name string) (Snapshot, bool, error) {
	snaps, err := t.SnapshotList(ctx, path)
	if err != nil {
		return Snapshot{}, false, err
	}
	for _, s := range snaps {
		if s.Name == name {
			return s, true, nil
		}
	}
	return Snapshot{}, false, nil
}
