package qemuimg

import (
	"encoding/json"
	"reflect"
	"testing"
	"time"
)

// FuzzParseInfo: whatever qemu-img info prints, parseInfo and parseChain
// either refuse it with ErrBadInfo or read images that, written back as
// qemu-img would, read back the same. Seeded with qemu-img 7.2's own
// output (testdata/info) and a snapshot saved with a guest's state, which
// only a running QEMU makes.
func FuzzParseInfo(f *testing.F) {
	for _, name := range infoFiles {
		b, err := readFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"format": "qcow2", "virtual-size": 21474836480, "snapshots": [{"id": "3",
		"name": "running", "vm-state-size": 536870912, "date-sec": 1700000000,
		"date-nsec": 999999999, "vm-clock-sec": 3600, "vm-clock-nsec": 5}]}`))
	f.Add([]byte(`[{"format": "raw", "virtual-size": 0}]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if img, err := parseInfo(data); err == nil {
			roundTrip(t, img)
		} else if !errorsIsBadInfo(err) {
			t.Fatalf("parseInfo(%q): %v is not ErrBadInfo", data, err)
		}
		if chain, err := parseChain(data); err == nil {
			if len(chain) == 0 {
				t.Fatalf("parseChain(%q): empty chain", data)
			}
			for _, img := range chain {
				roundTrip(t, img)
			}
		} else if !errorsIsBadInfo(err) {
			t.Fatalf("parseChain(%q): %v is not ErrBadInfo", data, err)
		}
	})
}

// roundTrip writes img as qemu-img would and checks it reads back.
func roundTrip(t *testing.T, img Image) {
	t.Helper()
	format, size := img.Format, img.VirtualSize
	j := imageJSON{Filename: img.Filename, Format: &format, VirtualSize: &size,
		ActualSize: img.ActualSize, BackingFilename: img.BackingFilename,
		FullBackingFilename: img.FullBackingFilename, BackingFormat: img.BackingFormat}
	for _, s := range img.Snapshots {
		j.Snapshots = append(j.Snapshots, snapshotJSON{ID: s.ID, Name: s.Name,
			VMStateSize: s.VMStateSize, DateSec: s.Date.Unix(), DateNsec: int64(s.Date.Nanosecond()),
			VMClockSec: int64(s.VMClock / time.Second), VMClockNsec: int64(s.VMClock % time.Second)})
	}
	b, err := json.Marshal(j)
	if err != nil {
		t.Fatal(err)
	}
	again, err := parseInfo(b)
	if err != nil || !reflect.DeepEqual(again, img) {
		t.Fatalf("%+v\nwritten as %s\nreads back as %+v, %v", img, b, again, err)
	}
}
