package qemuimg

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math"
	"time"
)

// Image is what qemu-img info says of one image.
type Image struct {
	// Filename is the image's name as qemu-img opened it.
	Filename string
	// Format is the image's format as qemu-img probed it: "qcow2", "raw".
	Format string
	// VirtualSize is the size of the disk the guest sees, in bytes.
	VirtualSize uint64
	// ActualSize is what the image takes on the host, in bytes (0 when
	// qemu-img cannot tell).
	ActualSize uint64
	// BackingFilename is the backing file's name as the image records it,
	// empty when the image has none; FullBackingFilename is that name
	// resolved against the image's directory.
	BackingFilename     string
	FullBackingFilename string
	// BackingFormat is the backing file's format as the image records it.
	BackingFormat string
	// Snapshots are the image's internal snapshots, oldest first.
	Snapshots []Snapshot
}

// Snapshot is one internal snapshot of a qcow2 image.
type Snapshot struct {
	// ID is the number qcow2 gave the snapshot; Name is the caller's.
	ID   string
	Name string
	// VMStateSize is the size of the guest's saved state (memory and
	// devices) kept with the snapshot, 0 for a disk-only one, which is
	// all qemu-img itself makes.
	VMStateSize uint64
	// Date is when the snapshot was taken.
	Date time.Time
	// VMClock is the guest's clock when the snapshot was taken.
	VMClock time.Duration
}

// Info reads what qemu-img info says of the image at path alone (its
// backing file is not opened, so it works on a broken chain). It is run
// with -U (--force-share), so it works on an image a running guest's QEMU
// holds, whose lock would otherwise refuse it; what it then reads of a
// qcow2 image that QEMU is writing may be a moment out of date.
//
// The format is probed: before trusting a backing file name read from an
// image, compare Format with the format the domain declares for it (a
// guest can write a qcow2 header into its raw disk).
func (t *Tool) Info(ctx context.Context, path string) (Image, error) {
	if err := checkAbs(path); err != nil {
		return Image{}, err
	}
	out, err := t.run(ctx, "info", "--output=json", "-U", path)
	if err != nil {
		return Image{}, err
	}
	return parseInfo(out)
}

// Chain reads the image at path and each of its backing files, the image
// first and the base last, as Info does each (-U included). It fails if a
// backing file cannot be opened.
func (t *Tool) Chain(ctx context.Context, path string) ([]Image, error) {
	if err := checkAbs(path); err != nil {
		return nil, err
	}
	out, err := t.run(ctx, "info", "--output=json", "--backing-chain", "-U", path)
	if err != nil {
		return nil, err
	}
	return parseChain(out)
}

// SnapshotList lists the internal snapshots of the image at path, oldest
// first (Info's Snapshots).
func (t *Tool) SnapshotList(ctx context.Context, path string) ([]Snapshot, error) {
	img, err := t.Info(ctx, path)
	return img.Snapshots, err
}

// imageJSON is one image in qemu-img info's output (QAPI's ImageInfo), of
// which only the fields read here are named. Required fields are pointers
// so that their absence is seen.
type imageJSON struct {
	Filename            string         `json:"filename"`
	Format              *string        `json:"format"`
	VirtualSize         *uint64        `json:"virtual-size"`
	ActualSize          uint64         `json:"actual-size,omitempty"`
	BackingFilename     string         `json:"backing-filename,omitempty"`
	FullBackingFilename string         `json:"full-backing-filename,omitempty"`
	BackingFormat       string         `json:"backing-filename-format,omitempty"`
	Snapshots           []snapshotJSON `json:"snapshots,omitempty"`
}

// snapshotJSON is QAPI's SnapshotInfo.
type snapshotJSON struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	VMStateSize uint64 `json:"vm-state-size"`
	DateSec     int64  `json:"date-sec"`
	DateNsec    int64  `json:"date-nsec"`
	VMClockSec  int64  `json:"vm-clock-sec"`
	VMClockNsec int64  `json:"vm-clock-nsec"`
}

// parseInfo reads qemu-img info --output=json's object for one image.
func parseInfo(data []byte) (Image, error) {
	var j imageJSON
	if err := decode(data, &j); err != nil {
		return Image{}, err
	}
	return j.image()
}

// parseChain reads qemu-img info --backing-chain's array, image first.
func parseChain(data []byte) ([]Image, error) {
	var js []imageJSON
	if err := decode(data, &js); err != nil {
		return nil, err
	}
	if len(js) == 0 {
		return nil, fmt.Errorf("%w: empty backing chain", ErrBadInfo)
	}
	chain := make([]Image, len(js))
	for i := range js {
		img, err := js[i].image()
		if err != nil {
			return nil, fmt.Errorf("image %d of the chain: %w", i, err)
		}
		chain[i] = img
	}
	return chain, nil
}

// decode reads one JSON value and nothing after it.
func decode(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("%w: %v", ErrBadInfo, err)
	}
	if dec.More() {
		return fmt.Errorf("%w: data after the JSON value", ErrBadInfo)
	}
	return nil
}

// image checks what qemu-img always writes and converts.
func (j *imageJSON) image() (Image, error) {
	if j.Format == nil || *j.Format == "" {
		return Image{}, fmt.Errorf("%w: no format", ErrBadInfo)
	}
	if j.VirtualSize == nil {
		return Image{}, fmt.Errorf("%w: no virtual-size", ErrBadInfo)
	}
	img := Image{
		Filename:            j.Filename,
		Format:              *j.Format,
		VirtualSize:         *j.VirtualSize,
		ActualSize:          j.ActualSize,
		BackingFilename:     j.BackingFilename,
		FullBackingFilename: j.FullBackingFilename,
		BackingFormat:       j.BackingFormat,
	}
	for i := range j.Snapshots {
		s, err := j.Snapshots[i].snapshot()
		if err != nil {
			return Image{}, err
		}
		img.Snapshots = append(img.Snapshots, s)
	}
	return img, nil
}

// maxClockSec keeps a snapshot's clock within a time.Duration.
const maxClockSec = math.MaxInt64/int64(time.Second) - 1

// snapshot checks the ranges qcow2 stores them in (seconds as 32 bits,
// nanoseconds below a second, the clock as 64 bits of nanoseconds) and
// converts.
func (j *snapshotJSON) snapshot() (Snapshot, error) {
	switch {
	case j.ID == "":
		return Snapshot{}, fmt.Errorf("%w: snapshot without id", ErrBadInfo)
	case j.DateSec < 0 || j.DateSec > math.MaxUint32 || j.DateNsec < 0 || j.DateNsec >= 1e9:
		return Snapshot{}, fmt.Errorf("%w: snapshot %s: bad date %d.%d", ErrBadInfo, j.ID, j.DateSec, j.DateNsec)
	case j.VMClockSec < 0 || j.VMClockSec > maxClockSec || j.VMClockNsec < 0 || j.VMClockNsec >= 1e9:
		return Snapshot{}, fmt.Errorf("%w: snapshot %s: bad clock %d.%d", ErrBadInfo, j.ID, j.VMClockSec, j.VMClockNsec)
	}
	return Snapshot{
		ID:          j.ID,
		Name:        j.Name,
		VMStateSize: j.VMStateSize,
		Date:        time.Unix(j.DateSec, j.DateNsec),
		VMClock:     time.Duration(j.VMClockSec)*time.Second + time.Duration(j.VMClockNsec),
	}, nil
}
