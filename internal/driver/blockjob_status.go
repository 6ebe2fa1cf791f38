package driver

import (
	"encoding/xml"
	"fmt"
	"slices"
	"sort"
	"strings"
)

// A domain's block jobs as its status file keeps them (libvirt's
// <blockjobs> in its status XML): the device model runs a job on when the
// daemon stops, and the next daemon follows it from here, ends it as it
// ended (the images --delete named, a pivot asked for) and sends its
// events.

// blockJobRecord is one job in the status file.
type blockJobRecord struct {
	XMLName    xml.Name `xml:"blockjob"`
	Disk       string   `xml:"disk,attr"`
	Type       string   `xml:"type,attr"` // pull, commit, active-commit or copy
	Path       string   `xml:"path,attr"`
	Top        string   `xml:"top,attr,omitempty"`
	Base       string   `xml:"base,attr,omitempty"`
	BaseFormat string   `xml:"baseFormat,attr,omitempty"`
	Speed      uint64   `xml:"speed,attr,omitempty"`
	Pivot      bool     `xml:"pivot,attr,omitempty"`
	Cancel     bool     `xml:"cancel,attr,omitempty"`
	Delete     []string `xml:"delete"`
}

// The types of blockJobRecord, as libvirt names them
// (virDomainBlockJobType).
var blockJobTypes = map[int32]string{
	blockJobPull: "pull", blockJobCommit: "commit", blockJobActiveCommit: "active-commit", blockJobCopy: "copy",
}

// recordOf is j's record; the caller holds the domain's mu.
func recordOf(j *blockJob) blockJobRecord {
	return blockJobRecord{Disk: j.disk, Type: blockJobTypes[j.kind()], Path: j.path, Top: j.top, Base: j.base,
		BaseFormat: j.baseFormat, Speed: j.speed, Pivot: j.pivot, Cancel: j.cancel, Delete: j.remove}
}

// job is the block job r records, not yet followed.
func (r blockJobRecord) job() (*blockJob, error) {
	j := &blockJob{disk: r.Disk, path: r.Path, top: r.Top, base: r.Base, baseFormat: r.BaseFormat, speed: r.Speed,
		pivot: r.Pivot, cancel: r.Cancel, remove: r.Delete, done: make(chan struct{})}
	switch r.Type {
	case "pull":
		j.pull = true
	case "copy":
		j.copy = true
	case "active-commit":
		j.active = true
	case "commit":
	default:
		return nil, fmt.Errorf("block job of disk %s: unknown type %q", r.Disk, r.Type)
	}
	return j, nil
}

// recordBlockJobsLocked remakes d.blockJobRecs from d.blockJobs; the
// caller holds d.mu, and saves the status after.
func (d *domain) recordBlockJobsLocked() {
	recs := make([]blockJobRecord, 0, len(d.blockJobs))
	for _, j := range d.blockJobs {
		recs = append(recs, recordOf(j))
	}
	sort.Slice(recs, func(a, b int) bool { return recs[a].Disk < recs[b].Disk })
	d.blockJobRecs = recs
}

// blockJobsXML is the status file's elements of recs.
func blockJobsXML(recs []blockJobRecord) (string, error) {
	var b strings.Builder
	for _, r := range recs {
		x, err := xml.Marshal(r)
		if err != nil {
			return "", fmt.Errorf("cannot format the block job of disk %s: %w", r.Disk, err)
		}
		b.Write(x)
		b.WriteByte('\n')
	}
	return b.String(), nil
}

// sameBlockJobRecords reports whether a and b record the same jobs.
func sameBlockJobRecords(a, b []blockJobRecord) bool {
	return slices.EqualFunc(a, b, func(x, y blockJobRecord) bool {
		return x.Disk == y.Disk && x.Type == y.Type && x.Path == y.Path && x.Top == y.Top && x.Base == y.Base &&
			x.BaseFormat == y.BaseFormat && x.Speed == y.Speed && x.Pivot == y.Pivot && x.Cancel == y.Cancel &&
			slices.Equal(x.Delete, y.Delete)
	})
}
