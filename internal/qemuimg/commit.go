package qemuimg

import (
	"context"
	"fmt"
)

// Commit merges the overlay's data into its backing file: qemu-img commit
// -q overlay. The backing file then holds what the overlay showed.
//
// qemu-img 7.2 then empties the overlay (it does so unless given -d): its
// clusters are discarded and the file shrinks, but it keeps its backing
// file, so it still reads the same, now all through the backing file; it
// may be used on or deleted. A commit killed part way (the context ended)
// leaves the backing file half merged and the overlay whole: the chain
// still reads right, the backing file alone does not.
//
// It needs the write lock on both files, so it fails with ErrLocked on a
// running guest's disks.
func (t *Tool) Commit(ctx context.Context, overlay string) error {
	if err := checkAbs(overlay); err != nil {
		return err
	}
	_, err := t.run(ctx, "commit", "-q", overlay)
	return err
}

// Rebase makes newBacking, of format backingFormat, the backing file of
// the image at path (qemu-img rebase -F backingFormat -b newBacking path).
//
// Safe (unsafe false), qemu-img first copies into the image every cluster
// where the old backing chain and the new one differ, so that the image
// reads the same afterwards; both chains must open. An empty newBacking
// then makes the image stand alone, holding all its chain's data.
//
// Unsafe (-u), only the name and format recorded in the image change: for
// when the backing file was moved or renamed, or the new one is known to
// hold the same data. An empty newBacking then drops the backing file and
// what the image read through it.
func (t *Tool) Rebase(ctx context.Context, path, newBacking, backingFormat string, unsafe bool) error {
	if err := checkAbs(path); err != nil {
		return err
	}
	args := []string{"rebase", "-q"}
	if unsafe {
		args = append(args, "-u")
	}
	if newBacking != "" {
		if err := checkAbs(newBacking); err != nil {
			return err
		}
		if backingFormat == "" {
			return fmt.Errorf("qemuimg: backing file %s: %w", newBacking, ErrNoFormat)
		}
		args = append(args, "-F", backingFormat)
	}
	args = append(args, "-b", newBacking, path)
	_, err := t.run(ctx, args...)
	return err
}

// Convert writes what the image at src reads into a new image at dest of
// format (qemu-img convert -O format). With backing set, dest is backed
// by it (of backingFormat) and gets only what src reads differently (-B),
// a shallow copy; with existing, dest is an image already made, written
// over (-n).
func (t *Tool) Convert(ctx context.Context, src, dest, format, backing, backingFormat string, existing bool) error {
	if err := checkAbsAll(src, dest); err != nil {
		return err
	}
	args := []string{"convert", "-q", "-O", format}
	if backing != "" {
		args = append(args, "-B", backing, "-F", backingFormat)
	}
	if existing {
		args = append(args, "-n")
	}
	_, err := t.run(ctx, append(args, src, dest)...)
	return err
}
