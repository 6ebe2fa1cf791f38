package libxl

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"
	"testing"

	"virtxend/internal/backend"
)

// QEMU 7.2's answers on real Xen (test/xen, a PV guest whose xvda is a
// qcow2 image on libxl's qdisk backend), as its device model gave them.
const (
	qmpGreeting = `{"QMP": {"version": {"qemu": {"micro": 22, "minor": 2, "major": 7}, "package": "Debian 1:7.2+dfsg-7+deb12u18+b3"}, "capabilities": ["oob"]}}`
	pvBlock     = `[{"device": "", "locked": false, "removable": false, "inserted": {"iops_rd": 0, "detect_zeroes": "off", "image": {"virtual-size": 16777216, "filename": "/root/snap-base.qcow2", "cluster-size": 65536, "format": "qcow2", "actual-size": 200704, "format-specific": {"type": "qcow2", "data": {"compat": "1.1", "compression-type": "zlib", "lazy-refcounts": false, "refcount-bits": 16, "corrupt": false, "extended-l2": false}}, "dirty-flag": false}, "iops_wr": 0, "ro": false, "node-name": "xvda-qcow2", "backing_file_depth": 0, "drv": "qcow2", "iops": 0, "bps_wr": 0, "write_threshold": 0, "encrypted": false, "bps": 0, "bps_rd": 0, "cache": {"no-flush": false, "direct": false, "writeback": true}, "file": "/root/snap-base.qcow2"}, "qdev": "/machine/unattached/device[2]", "type": "unknown"}]`
)

// fakeQEMU answers QMP commands as a device model does, synchronously:
// what a Write asks, the next Reads answer.
type fakeQEMU struct {
	out    bytes.Buffer
	answer func(cmd string, args json.RawMessage) string // the answer's body: `"return": ...` or `"error": ...`
	events bool                                          // an event before each answer
	sent   []string                                      // each command with its arguments, as sent
}

func newFakeQEMU(answer func(string, json.RawMessage) string) *fakeQEMU {
	f := &fakeQEMU{answer: answer}
	f.out.WriteString(qmpGreeting + "\r\n")
	return f
}

func (f *fakeQEMU) Read(p []byte) (int, error) {
	if f.out.Len() == 0 {
		return 0, io.EOF
	}
	return f.out.Read(p)
}

func (f *fakeQEMU) Write(p []byte) (int, error) {
	var req struct {
		Execute   string          `json:"execute"`
		Arguments json.RawMessage `json:"arguments"`
		ID        int             `json:"id"`
	}
	if err := json.Unmarshal(p, &req); err != nil {
		return 0, err
	}
	f.sent = append(f.sent, strings.TrimSpace(string(p)))
	if f.events {
		f.out.WriteString(`{"timestamp": {"seconds": 1, "microseconds": 2}, "event": "RESUME"}` + "\r\n")
	}
	fmt.Fprintf(&f.out, "{%s, \"id\": %d}\r\n", f.answer(req.Execute, req.Arguments), req.ID)
	return len(p), nil
}

// pvQEMU answers as the device model of a PV guest with one qcow2 disk.
func pvQEMU(cmd string, args json.RawMessage) string {
	switch cmd {
	case "qmp_capabilities", "transaction":
		return `"return": {}`
	case "query-block":
		return `"return": ` + pvBlock
	case "qom-get":
		return `"return": "xvda0"`
	case "query-named-block-nodes":
		return `"return": [{"node-name": "xvda-qcow2"}, {"node-name": "#block057"}, {"node-name": "xvda-ov1"}]`
	}
	return `"error": {"class": "CommandNotFound", "desc": "The command ` + cmd + ` has not been found"}`
}

func TestQMPSwitch(t *testing.T) {
	f := newFakeQEMU(pvQEMU)
	f.events = true
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := s.disks()
	if err != nil {
		t.Fatal(err)
	}
	want := []qemuDisk{{QDev: "/machine/unattached/device[2]", Node: "xvda-qcow2", File: "/root/snap-base.qcow2", Format: "qcow2", Vdev: "xvda0"}}
	if fmt.Sprint(disks) != fmt.Sprint(want) {
		t.Fatalf("disks %+v, want %+v", disks, want)
	}
	d, err := xenDisk(disks, "xvda")
	if err != nil || d.Node != "xvda-qcow2" {
		t.Fatalf("xenDisk: %+v, %v", d, err)
	}
	used, err := s.nodeNames()
	if err != nil {
		t.Fatal(err)
	}
	node := overlayNodeName("xvda", used)
	if node != "xvda-ov2" {
		t.Errorf("overlay node %q", node)
	}
	if err := s.transaction([]qmpAction{switchAction(d.Node, "/root/ov.qcow2", "qcow2", node), internalAction(node, "s1")}); err != nil {
		t.Fatal(err)
	}
	got := f.sent[len(f.sent)-1]
	wantTx := `{"execute":"transaction","arguments":{"actions":[` +
		`{"type":"blockdev-snapshot-sync","data":{"format":"qcow2","mode":"existing","node-name":"xvda-qcow2","snapshot-file":"/root/ov.qcow2","snapshot-node-name":"xvda-ov2"}},` +
		`{"type":"blockdev-snapshot-internal-sync","data":{"device":"xvda-ov2","name":"s1"}}]},"id":5}`
	if got != wantTx {
		t.Errorf("sent\n%s\nwant\n%s", got, wantTx)
	}
	if f.sent[0] != `{"execute":"qmp_capabilities","id":1}` {
		t.Errorf("first command %s", f.sent[0])
	}
}

func TestQMPRefused(t *testing.T) {
	f := newFakeQEMU(func(cmd string, _ json.RawMessage) string {
		if cmd == "transaction" {
			return `"error": {"class": "GenericError", "desc": "Cannot find device='' nor node-name='nosuch'"}`
		}
		return pvQEMU(cmd, nil)
	})
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	err = s.transaction([]qmpAction{switchAction("nosuch", "/x", "qcow2", "x-ov1")})
	var qe *QMPError
	if !errors.As(err, &qe) || qe.Class != "GenericError" || !errors.Is(err, backend.ErrFailed) {
		t.Fatalf("err %v", err)
	}
	if !strings.Contains(err.Error(), "nor node-name='nosuch'") {
		t.Errorf("message %q", err)
	}
}

// A refused transaction did nothing; one whose answer was lost may have.
func TestTxError(t *testing.T) {
	refused := txError(&QMPError{Command: "transaction", Desc: "no"}, "no disk switched")
	lost := txError(fmt.Errorf("%w: QMP transaction: no answer: EOF", backend.ErrFailed), "no disk switched")
	if !strings.HasPrefix(refused.Error(), "no disk switched: QEMU refused transaction") || !errors.Is(refused, backend.ErrFailed) {
		t.Errorf("refused: %v", refused)
	}
	if strings.Contains(lost.Error(), "no disk switched") || !strings.Contains(lost.Error(), "may have done") || !errors.Is(lost, backend.ErrFailed) {
		t.Errorf("lost: %v", lost)
	}
}

func TestQMPBrokenAnswers(t *testing.T) {
	for name, tc := range map[string]struct {
		stream string // what QEMU sends
		want   string // in the error
	}{
		"no greeting":   {"", "no QMP greeting"},
		"not QMP":       {`{"hello": 1}` + "\n", "did not greet"},
		"garbage":       {"SSH-2.0-OpenSSH\r\n", "no QMP greeting"},
		"another id":    {qmpGreeting + "\n" + `{"return": {}, "id": 7}` + "\n", "another command"},
		"no return":     {qmpGreeting + "\n" + `{"id": 1}` + "\n", "neither return nor error"},
		"cut off":       {qmpGreeting + "\n" + `{"return": {`, "no answer"},
		"too long":      {qmpGreeting + "\n" + `{"return": "` + strings.Repeat("x", qmpMaxAnswer) + `", "id": 1}`, "longer than"},
		"events only":   {qmpGreeting + "\n" + strings.Repeat(`{"event": "X"}`+"\n", 3), "no answer"},
		"events past N": {qmpGreeting + "\n" + strings.Repeat(`{"event": "X", "data": "`+strings.Repeat("y", 1<<20)+`"}`+"\n", 5), "longer than"},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := newQMPSession(struct {
				io.Reader
				io.Writer
			}{strings.NewReader(tc.stream), io.Discard})
			if err == nil || !strings.Contains(err.Error(), tc.want) || !errors.Is(err, backend.ErrFailed) {
				t.Fatalf("err %v, want %q", err, tc.want)
			}
		})
	}
}

// An answer just under the limit is read: the limit is per answer, not
// per session.
func TestQMPLimitPerAnswer(t *testing.T) {
	big := strings.Repeat("x", qmpMaxAnswer-100)
	f := newFakeQEMU(func(cmd string, _ json.RawMessage) string {
		if cmd == "qom-get" {
			return `"return": "` + big + `"`
		}
		return pvQEMU(cmd, nil)
	})
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 3; i++ {
		var v string
		if err := s.execute("qom-get", nil, &v); err != nil || len(v) != len(big) {
			t.Fatalf("answer %d: %d bytes, %v", i, len(v), err)
		}
	}
}

func TestXenDisk(t *testing.T) {
	xen := qemuDisk{QDev: "/machine/unattached/device[2]", Node: "hda-qcow2", File: "/i/hvm.qcow2", Format: "qcow2", Vdev: "hda0"}
	ide := qemuDisk{QDev: "/machine/unattached/device[20]", Device: "ide0-hd0", Node: "#block123", File: "/i/hvm.qcow2", Format: "qcow2"}
	other := qemuDisk{QDev: "/machine/unattached/device[3]", Node: "xvdb-raw", File: "/i/b.img", Format: "raw", Vdev: "xvdb0"}
	ro := qemuDisk{QDev: "/machine/unattached/device[4]", Node: "xvdc-qcow2", File: "/i/c.qcow2", Format: "qcow2", Vdev: "xvdc0", ReadOnly: true}
	empty := qemuDisk{QDev: "/machine/unattached/device[5]", Vdev: "xvdd0"}
	for _, tc := range []struct {
		disks []qemuDisk
		vdev  string
		node  string
		err   error
	}{
		{[]qemuDisk{other, xen}, "hda", "hda-qcow2", nil},
		{[]qemuDisk{other, xen}, "xvdb", "xvdb-raw", nil},
		{[]qemuDisk{xen, ide}, "hda", "", backend.ErrUnsupported},
		{[]qemuDisk{xen}, "hdb", "", backend.ErrFailed},
		{[]qemuDisk{ide}, "hda", "", backend.ErrFailed},
		{[]qemuDisk{ro}, "xvdc", "", backend.ErrInvalid},
		{[]qemuDisk{empty}, "xvdd", "", backend.ErrInvalid},
		{[]qemuDisk{xen}, "nosuch", "", backend.ErrInvalid},
	} {
		d, err := xenDisk(tc.disks, tc.vdev)
		if tc.err != nil {
			if !errors.Is(err, tc.err) {
				t.Errorf("%s: err %v, want %v", tc.vdev, err, tc.err)
			}
			continue
		}
		if err != nil || d.Node != tc.node {
			t.Errorf("%s: %+v, %v", tc.vdev, d, err)
		}
	}
}

func TestOverlayNodeName(t *testing.T) {
	used := map[string]bool{"xvda-ov1": true, "xvda-ov2": true, "ov1": true}
	for vdev, want := range map[string]string{
		"xvda": "xvda-ov3", "xvdb": "xvdb-ov1", "d0p0": "d0p0-ov1",
		"xvdaaaaaaaaaaaaaaaaaaaaaaaaaa": "ov2", // too long with -ovN
	} {
		if got := overlayNodeName(vdev, used); got != want || !validNodeName(got) {
			t.Errorf("%s: %q, want %q", vdev, got, want)
		}
	}
	for _, bad := range []string{"", "1abc", "a b", "#block1", strings.Repeat("a", 32)} {
		if validNodeName(bad) {
			t.Errorf("%q valid", bad)
		}
	}
}

// screendump asks for PNG, then, from a QEMU that refuses it, for PPM.
func TestQMPScreendump(t *testing.T) {
	for _, tc := range []struct {
		name, answer, mime string
		sent               int
	}{
		{"png", `"return": {}`, mimePNG, 2},
		{"ppm", `"error": {"class": "GenericError", "desc": "Parameter 'format' is unexpected"}`, mimePPM, 3},
	} {
		f := newFakeQEMU(func(cmd string, args json.RawMessage) string {
			if cmd == "screendump" && strings.Contains(string(args), `"format"`) {
				return tc.answer
			}
			return `"return": {}`
		})
		s, err := newQMPSession(f)
		if err != nil {
			t.Fatal(err)
		}
		mime, err := s.screendump("/var/lib/libvirt/libxl/shot")
		if err != nil || mime != tc.mime || len(f.sent) != tc.sent {
			t.Errorf("%s: %q %v, sent %q", tc.name, mime, err, f.sent)
		}
		if last := f.sent[len(f.sent)-1]; !strings.Contains(last, `"filename":"/var/lib/libvirt/libxl/shot"`) {
			t.Errorf("%s: sent %s", tc.name, last)
		}
	}
	// A device model without screendump: QEMU's refusal of the second.
	f := newFakeQEMU(pvQEMU)
	s, _ := newQMPSession(f)
	var qe *QMPError
	if _, err := s.screendump("/x"); !errors.As(err, &qe) || qe.Class != "CommandNotFound" || !errors.Is(err, backend.ErrFailed) {
		t.Errorf("no screendump: %v", err)
	}
}

// send-key as libvirt sends it: numbers, and a hold time only when set.
func TestQMPSendKeys(t *testing.T) {
	f := newFakeQEMU(func(string, json.RawMessage) string { return `"return": {}` })
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.sendKeys([]uint32{0x1d, 0x38, 0xd3}, 0); err != nil {
		t.Fatal(err)
	}
	if err := s.sendKeys([]uint32{0x1c}, 500); err != nil {
		t.Fatal(err)
	}
	want := []string{
		`{"execute":"send-key","arguments":{"keys":[{"type":"number","data":29},{"type":"number","data":56},{"type":"number","data":211}]},"id":2}`,
		`{"execute":"send-key","arguments":{"keys":[{"type":"number","data":28}],"hold-time":500},"id":3}`,
	}
	if got := f.sent[1:]; strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("sent:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// block_resize names the disk's root node and the size in bytes.
func TestQMPBlockResize(t *testing.T) {
	f := newFakeQEMU(func(string, json.RawMessage) string { return `"return": {}` })
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.blockResize("xvda-qcow2", 1<<34); err != nil {
		t.Fatal(err)
	}
	if want := `{"execute":"block_resize","arguments":{"node-name":"xvda-qcow2","size":17179869184},"id":2}`; f.sent[1] != want {
		t.Errorf("sent %s, want %s", f.sent[1], want)
	}
}

// TestQMPThrottle: query-block's limits of a throttled disk are read into
// the disk, and block_set_io_throttle names the device by its QOM path and
// sends what libvirt sends: every figure, the burst lengths and the group
// only when set.
func TestQMPThrottle(t *testing.T) {
	throttled := strings.Replace(pvBlock, `"bps": 0,`, `"bps": 1048576, "bps_max": 2097152, "bps_max_length": 3, "iops_size": 4096, "group": "g1",`, 1)
	f := newFakeQEMU(func(cmd string, args json.RawMessage) string {
		if cmd == "query-block" {
			return `"return": ` + throttled
		}
		return pvQEMU(cmd, args)
	})
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := s.disks()
	if err != nil {
		t.Fatal(err)
	}
	d, err := findXenDisk(disks, "xvda")
	if err != nil {
		t.Fatal(err)
	}
	want := backend.DiskThrottle{TotalBytesSec: 1 << 20, TotalBytesSecMax: 2 << 20, TotalBytesSecMaxLength: 3, SizeIopsSec: 4096, GroupName: "g1"}
	if got := backend.DiskThrottle(d.Throttle); got != want {
		t.Fatalf("throttle %+v, want %+v", got, want)
	}
	if err := s.setThrottle(d.QDev, qmpThrottle{ReadIopsSec: 20, ReadIopsSecMax: 40}); err == nil {
		t.Fatal("the fake QEMU has no block_set_io_throttle, and no error came back")
	}
	sent := f.sent[len(f.sent)-1]
	wantSent := `{"execute":"block_set_io_throttle","arguments":{"id":"/machine/unattached/device[2]","bps":0,"bps_rd":0,"bps_wr":0,"iops":0,"iops_rd":20,"iops_wr":0,` +
		`"bps_max":0,"bps_rd_max":0,"bps_wr_max":0,"iops_max":0,"iops_rd_max":40,"iops_wr_max":0,"iops_size":0},"id":`
	if !strings.HasPrefix(sent, wantSent) {
		t.Fatalf("sent %s\nwant %s...", sent, wantSent)
	}
}

// TestQMPCommitPieces: the images a commit names map to their format
// nodes, not the protocol nodes below (same file name), and a job is found
// by its id in query-jobs with its status and error.
func TestQMPCommitPieces(t *testing.T) {
	f := newFakeQEMU(func(cmd string, args json.RawMessage) string {
		switch cmd {
		case "query-named-block-nodes":
			return `"return": [{"node-name": "xvda-ov1", "drv": "qcow2", "file": "/root/vx-snap.e1"}, {"node-name": "#block312", "drv": "file", "file": "/root/vx-snap.e1"},` +
				` {"node-name": "xvda-qcow2", "drv": "qcow2", "file": "/root/vx-snap.qcow2"}, {"node-name": "#block057", "drv": "file", "file": "/root/vx-snap.qcow2"}]`
		case "query-jobs":
			return `"return": [{"id": "other", "type": "stream", "status": "running"}, {"id": "vx-block-xvda", "type": "commit", "status": "concluded", "error": "No space left on device", "current-progress": 5, "total-progress": 9}]`
		}
		return pvQEMU(cmd, args)
	})
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	nodes, err := s.imageNodes()
	if err != nil || nodes["/root/vx-snap.e1"] != "xvda-ov1" || nodes["/root/vx-snap.qcow2"] != "xvda-qcow2" || len(nodes) != 2 {
		t.Fatalf("imageNodes: %v %v", nodes, err)
	}
	j, ok, err := s.job("vx-block-xvda")
	if err != nil || !ok || j.Status != "concluded" || j.Error != "No space left on device" {
		t.Fatalf("job: %+v %v %v", j, ok, err)
	}
	if _, ok, _ := s.job("gone"); ok {
		t.Fatal("a job that is not there was found")
	}
	if j.Cur != 5 || j.End != 9 {
		t.Errorf("progress %d of %d", j.Cur, j.End)
	}
	b, _ := json.Marshal(commitArgs("vx-block-xvda", "xvda-ov1", "xvda-ov1", "xvda-qcow2", 0))
	if string(b) != `{"auto-dismiss":false,"base-node":"xvda-qcow2","device":"xvda-ov1","job-id":"vx-block-xvda","top-node":"xvda-ov1"}` {
		t.Fatalf("commit arguments %s", b)
	}
	b, _ = json.Marshal(mirrorArgs("vx-block-xvda", "xvda-ov1", backend.CopyTarget{Path: "/c.qcow2", Format: "qcow2", Shallow: true, Granularity: 65536}, 1<<20))
	if string(b) != `{"auto-dismiss":false,"device":"xvda-ov1","format":"qcow2","granularity":65536,"job-id":"vx-block-xvda","mode":"absolute-paths","speed":1048576,"sync":"top","target":"/c.qcow2"}` {
		t.Fatalf("mirror arguments %s", b)
	}
}

// pvBlockStats is query-blockstats' answer of the device model of
// pvBlock's guest once it read its disk: QEMU 7.2's fields, those read and
// others, for its xen-block disk and, as an HVM guest's device model
// would have beside it, an emulated disk that has no vdev.
const pvBlockStats = `[{"device": "", "node-name": "xvda-qcow2", "stats": {"unmap_operations": 0, "unmap_merged": 0, "flush_total_time_ns": 1500000,
"wr_highest_offset": 8192, "wr_total_time_ns": 2000000, "failed_wr_operations": 0, "failed_rd_operations": 0, "wr_merged": 0,
"wr_bytes": 8192, "timed_stats": [], "failed_unmap_operations": 0, "failed_flush_operations": 0, "account_invalid": true,
"rd_total_time_ns": 3000000, "invalid_unmap_operations": 0, "flush_operations": 3, "wr_operations": 2, "unmap_bytes": 0,
"rd_merged": 0, "rd_bytes": 69632, "unmap_total_time_ns": 0, "invalid_flush_operations": 0, "account_failed": true,
"idle_time_ns": 40000000, "rd_operations": 17, "invalid_wr_operations": 0, "invalid_rd_operations": 0},
"qdev": "/machine/unattached/device[2]"},
{"device": "ide0-hd0", "stats": {"rd_bytes": 512, "rd_operations": 1}, "qdev": "/machine/unattached/device[9]"}]`

// TestQMPBlockStats: QEMU's counters of the xen-block disk, matched to its
// vdev by QOM path and named as the guest names it; no errors count; the
// emulated disk left out.
func TestQMPBlockStats(t *testing.T) {
	f := newFakeQEMU(func(cmd string, args json.RawMessage) string {
		switch {
		case cmd == "query-blockstats":
			return `"return": ` + pvBlockStats
		case cmd == "qom-get" && strings.Contains(string(args), "device[9]"):
			return `"error": {"class": "GenericError", "desc": "Property 'ide-hd.vdev' not found"}`
		}
		return pvQEMU(cmd, args)
	})
	s, err := newQMPSession(f)
	if err != nil {
		t.Fatal(err)
	}
	disks, err := s.disks()
	if err != nil {
		t.Fatal(err)
	}
	stats, err := s.blockStats()
	if err != nil {
		t.Fatal(err)
	}
	got := xenDiskStats(append(disks, qemuDisk{QDev: "/machine/unattached/device[9]", Device: "ide0-hd0"}), stats)
	want := []backend.DiskStats{{Vdev: "xvda", RdReq: 17, RdBytes: 69632, WrReq: 2, WrBytes: 8192, FlushReq: 3, Errors: -1,
		RdTimeNs: 3000000, WrTimeNs: 2000000, FlushTimeNs: 1500000}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("disk stats %+v\nwant %+v", got, want)
	}
	if got := xenDiskStats(disks, nil); len(got) != 0 {
		t.Errorf("with no counters: %+v", got)
	}
}
