package libxl

import (
	"errors"
	"io"
	"strings"
	"testing"

	"virtxend/internal/backend"
)

// FuzzQMPAnswers: whatever a device model sends, the session reads the
// disks from it or fails with a backend error, without a panic; a disk it
// reads that xenDisk picks has a root node; then the image nodes, a
// block job and the disks' counters are read from what follows, without a
// panic, the counters of a disk QEMU names.
func FuzzQMPAnswers(f *testing.F) {
	f.Add(qmpGreeting + "\n" + `{"return": {}, "id": 1}` + "\n" + `{"return": ` + pvBlock + `, "id": 2}` + "\n" + `{"return": "xvda0", "id": 3}` + "\n")
	f.Add(qmpGreeting + "\n" + `{"event": "X"}{"return": {}, "id": 1}{"return": [{"qdev": "a", "inserted": {"node-name": "n", "file": "f"}}], "id": 2}{"error": {"class": "GenericError", "desc": "no vdev"}, "id": 3}`)
	f.Add(qmpGreeting + "\n" + `{"return": {}, "id": 1}{"return": [{"qdev": "a"}, {"qdev": "b", "inserted": null}], "id": 2}{"return": 5, "id": 3}`)
	f.Add(`{"QMP": {}}{"return": {}, "id": "1"}`)
	f.Add(qmpGreeting + "\n" + `{"return": {}, "id": 1}{"return": ` + pvBlock + `, "id": 2}{"return": "xvda0", "id": 3}` +
		`{"return": [{"node-name": "xvda-qcow2", "drv": "qcow2", "file": "/i.qcow2"}, {"node-name": "#b", "drv": "file", "file": "/i.qcow2"}], "id": 4}` +
		`{"return": [{"id": "vx-block-xvda", "status": "ready", "current-progress": 3, "total-progress": 3}], "id": 5}`)
	f.Add(qmpGreeting + "\n" + `{"return": {}, "id": 1}{"return": ` + pvBlock + `, "id": 2}{"return": "xvda0", "id": 3}` +
		`{"return": [], "id": 4}{"return": [], "id": 5}{"return": ` + pvBlockStats + `, "id": 6}`)
	f.Fuzz(func(t *testing.T, stream string) {
		s, err := newQMPSession(struct {
			io.Reader
			io.Writer
		}{strings.NewReader(stream), io.Discard})
		if err != nil {
			var qe *QMPError
			if !errors.Is(err, backend.ErrFailed) && !errors.As(err, &qe) {
				t.Fatalf("error of no kind: %v", err)
			}
			return
		}
		disks, err := s.disks()
		if err != nil {
			return
		}
		for _, d := range disks {
			if got, err := xenDisk(disks, d.Vdev); err == nil && got.Node == "" {
				t.Fatalf("picked %+v with no root node", got)
			}
		}
		if _, err := s.imageNodes(); err != nil {
			return
		}
		if j, ok, err := s.job("vx-block-xvda"); err == nil && ok && j.ID != "vx-block-xvda" {
			t.Fatalf("found job %+v", j)
		}
		stats, err := s.blockStats()
		if err != nil {
			return
		}
		for _, d := range xenDiskStats(disks, stats) {
			if n, ok := vdevNumber(d.Vdev); !ok || d.Errors != -1 {
				t.Fatalf("counters of %+v (vdev number %d, %v)", d, n, ok)
			}
		}
	})
}
