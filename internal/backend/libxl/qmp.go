package libxl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"time"

	"virtxend/internal/backend"
)

// QMP, the JSON protocol of QEMU's monitor, spoken to the device model
// libxl starts for a domain (for a PV guest, the one whose xen-block
// devices serve its qdisk disks) on the socket libxl made for itself,
// /var/run/xen/qmp-libxl-DOMID. libxl offers only HMP through it
// (libxl_qemu_monitor_command), and HMP cannot name a xen-block disk to
// snapshot_blkdev: the disk's BlockBackend has no name, and HMP looks a
// disk up by that name only. The socket serves one client at a time; libxl
// connects for its own commands and waits meanwhile, so a session is kept
// short.

// qmpSocketDir is where libxl makes its QMP sockets (libxl__run_dir_path).
const qmpSocketDir = "/var/run/xen"

// qmpSocket is the path of libxl's QMP socket to domain domid's device model.
func qmpSocket(domid uint32) string {
	return qmpSocketDir + "/qmp-libxl-" + strconv.FormatUint(uint64(domid), 10)
}

const (
	// qmpTimeout bounds a session whose context has no deadline.
	qmpTimeout = 60 * time.Second
	// qmpMaxAnswer bounds what one command may read: QEMU's greeting or
	// its answer, with the events before it.
	qmpMaxAnswer = 4 << 20
)

// QMPError is a command that QEMU refused, in its words.
type QMPError struct {
	Command string
	Class   string // e.g. "GenericError", "DeviceNotFound"
	Desc    string
}

func (e *QMPError) Error() string {
	return fmt.Sprintf("QEMU refused %s: %s", e.Command, e.Desc)
}

// Unwrap is the backend's kind of error: QEMU did not do it.
func (e *QMPError) Unwrap() error { return backend.ErrFailed }

// qmpSession is one QMP session: the greeting read and capabilities
// negotiated, commands sent one at a time.
type qmpSession struct {
	rw  io.ReadWriter
	lim *answerLimit
	dec *json.Decoder
	id  int
}

// answerLimit bounds what the decoder reads from QEMU for one answer.
type answerLimit struct {
	r     io.Reader
	left  int64 // what the answer may still read
	total int64 // what was read in all
}

func (l *answerLimit) Read(p []byte) (int, error) {
	if l.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > l.left {
		p = p[:l.left]
	}
	n, err := l.r.Read(p)
	l.left -= int64(n)
	l.total += int64(n)
	return n, err
}

// nextAnswer starts the limit of the next answer: qmpMaxAnswer from where
// the decoder is, what it read ahead included.
func (s *qmpSession) nextAnswer() {
	s.lim.left = qmpMaxAnswer - (s.lim.total - s.dec.InputOffset())
}

// qmpMessage is anything QEMU sends: its greeting, an answer or an event.
type qmpMessage struct {
	QMP    json.RawMessage `json:"QMP"`
	Return json.RawMessage `json:"return"`
	Error  *struct {
		Class string `json:"class"`
		Desc  string `json:"desc"`
	} `json:"error"`
	Event string          `json:"event"`
	ID    json.RawMessage `json:"id"`
}

// dialQMP opens a session with domain domid's device model. The session
// ends with ctx (at qmpTimeout without a deadline); the caller closes it.
func dialQMP(ctx context.Context, domid uint32) (*qmpSession, io.Closer, error) {
	path := qmpSocket(domid)
	var d net.Dialer
	conn, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: domain %d has no device model answering on %s: %v", backend.ErrFailed, domid, path, err)
	}
	deadline, ok := ctx.Deadline()
	if !ok {
		deadline = time.Now().Add(qmpTimeout)
	}
	conn.SetDeadline(deadline)
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) })
	s, err := newQMPSession(conn)
	if err != nil {
		stop()
		conn.Close()
		return nil, nil, fmt.Errorf("QMP on %s: %w", path, err)
	}
	return s, closerFunc(func() error { stop(); return conn.Close() }), nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// newQMPSession reads QEMU's greeting from rw and negotiates the
// capabilities (none).
func newQMPSession(rw io.ReadWriter) (*qmpSession, error) {
	s := &qmpSession{rw: rw, lim: &answerLimit{r: rw}}
	s.dec = json.NewDecoder(s.lim)
	s.nextAnswer()
	for {
		m, err := s.next()
		if err != nil {
			return nil, fmt.Errorf("%w: no QMP greeting: %v", backend.ErrFailed, err)
		}
		if m.Event != "" {
			continue
		}
		if m.QMP == nil {
			return nil, fmt.Errorf("%w: the device model did not greet as QMP does", backend.ErrFailed)
		}
		break
	}
	if err := s.execute("qmp_capabilities", nil, nil); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *qmpSession) next() (qmpMessage, error) {
	var m qmpMessage
	if err := s.dec.Decode(&m); err != nil {
		if s.lim.left <= 0 {
			return m, fmt.Errorf("QEMU's answer is longer than %d bytes", qmpMaxAnswer)
		}
		return m, err
	}
	return m, nil
}

// execute sends command with arguments (nil: none) and decodes its
// answer's return value into out (nil: not wanted). Events before the
// answer are passed over.
func (s *qmpSession) execute(command string, arguments, out any) error {
	s.id++
	req := struct {
		Execute   string `json:"execute"`
		Arguments any    `json:"arguments,omitempty"`
		ID        int    `json:"id"`
	}{command, arguments, s.id}
	b, err := json.Marshal(req)
	if err != nil {
		return fmt.Errorf("%w: QMP %s: %v", backend.ErrInvalid, command, err)
	}
	if _, err := s.rw.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("%w: QMP %s: %v", backend.ErrFailed, command, err)
	}
	s.nextAnswer()
	for {
		m, err := s.next()
		if err != nil {
			return fmt.Errorf("%w: QMP %s: no answer: %v", backend.ErrFailed, command, err)
		}
		if m.Event != "" {
			continue
		}
		if id, err := strconv.Atoi(string(m.ID)); err != nil || id != s.id {
			return fmt.Errorf("%w: QMP %s: an answer to another command (id %s)", backend.ErrFailed, command, m.ID)
		}
		if m.Error != nil {
			return &QMPError{Command: command, Class: m.Error.Class, Desc: m.Error.Desc}
		}
		if m.Return == nil {
			return fmt.Errorf("%w: QMP %s: an answer with neither return nor error", backend.ErrFailed, command)
		}
		if out != nil {
			if err := json.Unmarshal(m.Return, out); err != nil {
				return fmt.Errorf("%w: QMP %s: %v", backend.ErrFailed, command, err)
			}
		}
		return nil
	}
}

// qemuDisk is one disk device of the device model, as query-block shows
// its BlockBackend, with the vdev property of a xen-block device.
type qemuDisk struct {
	QDev     string // the device's QOM path ("/machine/unattached/device[2]")
	Device   string // the BlockBackend's name: "" for a xen-block disk, "ide0-hd0" for an emulated one
	Node     string // its root node: the one a snapshot puts an overlay on ("xvda-qcow2")
	File     string // the root node's image
	Format   string // its format ("qcow2")
	ReadOnly bool
	Vdev     string // a xen-block disk's vdev as QEMU spells it ("xvda0"); "" for any other device
	Throttle qmpThrottle
}

// qmpThrottle is a disk's I/O limits as QMP names them (query-block's
// inserted device, block_set_io_throttle's arguments), in the order of
// backend.DiskThrottle, whose names it has, so that one converts to the
// other. As libvirt's
// qemuMonitorJSONSetBlockIoThrottle, every figure is sent but the burst
// lengths, sent when set, and the group, when named.
type qmpThrottle struct {
	TotalBytesSec          uint64 `json:"bps"`
	ReadBytesSec           uint64 `json:"bps_rd"`
	WriteBytesSec          uint64 `json:"bps_wr"`
	TotalIopsSec           uint64 `json:"iops"`
	ReadIopsSec            uint64 `json:"iops_rd"`
	WriteIopsSec           uint64 `json:"iops_wr"`
	TotalBytesSecMax       uint64 `json:"bps_max"`
	ReadBytesSecMax        uint64 `json:"bps_rd_max"`
	WriteBytesSecMax       uint64 `json:"bps_wr_max"`
	TotalIopsSecMax        uint64 `json:"iops_max"`
	ReadIopsSecMax         uint64 `json:"iops_rd_max"`
	WriteIopsSecMax        uint64 `json:"iops_wr_max"`
	TotalBytesSecMaxLength uint64 `json:"bps_max_length,omitempty"`
	ReadBytesSecMaxLength  uint64 `json:"bps_rd_max_length,omitempty"`
	WriteBytesSecMaxLength uint64 `json:"bps_wr_max_length,omitempty"`
	TotalIopsSecMaxLength  uint64 `json:"iops_max_length,omitempty"`
	ReadIopsSecMaxLength   uint64 `json:"iops_rd_max_length,omitempty"`
	WriteIopsSecMaxLength  uint64 `json:"iops_wr_max_length,omitempty"`
	SizeIopsSec            uint64 `json:"iops_size"`
	GroupName              string `json:"group,omitempty"`
}

// setThrottle gives the guest device at QOM path qdev the limits t
// (block_set_io_throttle; all 0 lifts them).
func (s *qmpSession) setThrottle(qdev string, t qmpThrottle) error {
	return s.execute("block_set_io_throttle", struct {
		ID string `json:"id"`
		qmpThrottle
	}{qdev, t}, nil)
}

// queryBlock is query-block's answer, what we read of it.
type queryBlock []struct {
	Device   string `json:"device"`
	QDev     string `json:"qdev"`
	Inserted *struct {
		NodeName string `json:"node-name"`
		File     string `json:"file"`
		Drv      string `json:"drv"`
		RO       bool   `json:"ro"`
		qmpThrottle
	} `json:"inserted"`
}

// disks lists the device model's disk devices: query-block, and each
// device's vdev (qom-get), which only xen-block devices have.
func (s *qmpSession) disks() ([]qemuDisk, error) {
	var q queryBlock
	if err := s.execute("query-block", nil, &q); err != nil {
		return nil, err
	}
	out := make([]qemuDisk, 0, len(q))
	for _, b := range q {
		d := qemuDisk{QDev: b.QDev, Device: b.Device}
		if b.Inserted != nil {
			d.Node, d.File, d.Format, d.ReadOnly = b.Inserted.NodeName, b.Inserted.File, b.Inserted.Drv, b.Inserted.RO
			d.Throttle = b.Inserted.qmpThrottle
		}
		if b.QDev != "" {
			var vdev string
			err := s.execute("qom-get", map[string]string{"path": b.QDev, "property": "vdev"}, &vdev)
			var qe *QMPError
			switch {
			case err == nil:
				d.Vdev = vdev
			case !errors.As(err, &qe):
				return nil, err
			}
		}
		out = append(out, d)
	}
	return out, nil
}

// nodeNames is every block node's name (query-named-block-nodes, flat).
func (s *qmpSession) nodeNames() (map[string]bool, error) {
	var nodes []struct {
		NodeName string `json:"node-name"`
	}
	if err := s.execute("query-named-block-nodes", map[string]bool{"flat": true}, &nodes); err != nil {
		return nil, err
	}
	names := make(map[string]bool, len(nodes))
	for _, n := range nodes {
		names[n.NodeName] = true
	}
	return names, nil
}

// xenDisk is the disk the device model's xen-block serves as vdev (libxl's
// name), which must have a writable image, and which no other device of
// the device model may have open: an HVM guest's disk is also its emulated
// disk until the guest's PV drivers unplug that, and switching one of the
// two would leave the other writing to the old image.
func xenDisk(disks []qemuDisk, vdev string) (qemuDisk, error) {
	d, err := findXenDisk(disks, vdev)
	if err != nil {
		return d, err
	}
	switch {
	case d.Node == "":
		return d, fmt.Errorf("%w: disk %s has no medium", backend.ErrInvalid, vdev)
	case d.ReadOnly:
		return d, fmt.Errorf("%w: disk %s is read-only", backend.ErrInvalid, vdev)
	}
	for _, o := range disks {
		if o.QDev != d.QDev && o.File == d.File {
			name := o.Device
			if name == "" {
				name = o.QDev
			}
			return d, fmt.Errorf("%w: disk %s (%s) is also open in the device model as %s, the guest's emulated disk until its PV drivers unplug it: "+
				"a switch of one would leave the other on the old image", backend.ErrUnsupported, vdev, d.File, name)
		}
	}
	return d, nil
}

// findXenDisk is the xen-block disk the device model serves as vdev.
func findXenDisk(disks []qemuDisk, vdev string) (qemuDisk, error) {
	want, ok := vdevNumber(vdev)
	if !ok {
		return qemuDisk{}, fmt.Errorf("%w: %q is no disk name QEMU reads", backend.ErrInvalid, vdev)
	}
	for _, d := range disks {
		if n, ok := vdevNumber(d.Vdev); ok && n == want {
			return d, nil
		}
	}
	return qemuDisk{}, fmt.Errorf("%w: the device model serves no xen-block disk %s", backend.ErrFailed, vdev)
}

// overlayNodeName names a disk's new overlay node for humans reading
// "info block": the vdev and "-ovN", N the first not in use. QEMU's node
// names start with a letter, have letters, digits, '-', '.' and '_', and
// at most 31 characters; a vdev that does not fit is left out.
func overlayNodeName(vdev string, used map[string]bool) string {
	prefix := vdev + "-ov"
	if !validNodeName(prefix + "1000") {
		prefix = "ov"
	}
	for n := 1; ; n++ {
		name := prefix + strconv.Itoa(n)
		if !used[name] {
			return name
		}
	}
}

func validNodeName(s string) bool {
	if s == "" || len(s) > 31 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.IndexByte("-._", c) >= 0) {
			return false
		}
	}
	return true
}

// imageNodes maps each image the device model has open to the node of its
// format (query-named-block-nodes): the node a commit names. The protocol
// node below it (drv "file", "host_device") has the same file name.
func (s *qmpSession) imageNodes() (map[string]string, error) {
	var nodes []struct {
		NodeName string `json:"node-name"`
		File     string `json:"file"`
		Drv      string `json:"drv"`
	}
	if err := s.execute("query-named-block-nodes", map[string]bool{"flat": true}, &nodes); err != nil {
		return nil, err
	}
	byFile := make(map[string]string, len(nodes))
	for _, n := range nodes {
		switch n.Drv {
		case "file", "host_device", "host_cdrom":
			continue
		}
		if _, ok := byFile[n.File]; !ok {
			byFile[n.File] = n.NodeName
		}
	}
	return byFile, nil
}

// qmpJob is a job as query-jobs shows it.
type qmpJob struct {
	ID     string `json:"id"`
	Status string `json:"status"` // "running", "ready", "concluded", ...
	Error  string `json:"error"`
	Cur    uint64 `json:"current-progress"`
	End    uint64 `json:"total-progress"`
}

// job is the job called id, with ok false when QEMU has none.
func (s *qmpSession) job(id string) (j qmpJob, ok bool, err error) {
	var jobs []qmpJob
	if err := s.execute("query-jobs", nil, &jobs); err != nil {
		return qmpJob{}, false, err
	}
	for _, j := range jobs {
		if j.ID == id {
			return j, true, nil
		}
	}
	return qmpJob{}, false, nil
}

// commitArgs start a commit job called id of the chain under root node
// root: top's data into base at speed bytes a second (0: no limit), the
// job kept once concluded (auto-dismiss off), so that its error can be
// read.
func commitArgs(id, root, top, base string, speed uint64) map[string]any {
	a := map[string]any{"job-id": id, "device": root, "top-node": top, "base-node": base, "auto-dismiss": false}
	if speed > 0 {
		a["speed"] = speed
	}
	return a
}

// mirrorArgs start a copy job called id of root node root into to
// (drive-mirror), kept once concluded as commitArgs' are.
func mirrorArgs(id, root string, to backend.CopyTarget, speed uint64) map[string]any {
	a := map[string]any{"job-id": id, "device": root, "target": to.Path, "format": to.Format,
		"sync": "full", "mode": "absolute-paths", "auto-dismiss": false}
	if to.Shallow {
		a["sync"] = "top"
	}
	if to.Reuse {
		a["mode"] = "existing"
	}
	if to.SyncWrites {
		a["copy-mode"] = "write-blocking"
	}
	for k, v := range map[string]uint64{"speed": speed, "granularity": uint64(to.Granularity), "buf-size": to.BufSize} {
		if v > 0 {
			a[k] = v
		}
	}
	return a
}

// qmpAction is one action of a QMP transaction.
type qmpAction struct {
	Type string `json:"type"`
	Data any    `json:"data"`
}

// switchAction puts the existing image path (of format) over node as its
// new root node, named newNode (blockdev-snapshot-sync, mode existing).
func switchAction(node, path, format, newNode string) qmpAction {
	return qmpAction{Type: "blockdev-snapshot-sync", Data: map[string]string{
		"node-name": node, "snapshot-file": path, "snapshot-node-name": newNode,
		"format": format, "mode": "existing",
	}}
}

// internalAction takes an internal snapshot called name of the image of
// root node node (blockdev-snapshot-internal-sync, which names the disk by
// device or root node).
func internalAction(node, name string) qmpAction {
	return qmpAction{Type: "blockdev-snapshot-internal-sync", Data: map[string]string{"device": node, "name": name}}
}

// transaction runs actions all or none (QMP's transaction).
func (s *qmpSession) transaction(actions []qmpAction) error {
	return s.execute("transaction", map[string]any{"actions": actions}, nil)
}

// txError is the error of a transaction: when QEMU refused it, none of
// it happened (refused says so); when its answer was lost (the context
// ended, the socket closed), QEMU may have done it.
func txError(err error, refused string) error {
	var qe *QMPError
	if errors.As(err, &qe) {
		return fmt.Errorf("%s: %w", refused, err)
	}
	return fmt.Errorf("QEMU's answer was lost, it may have done all of it or none (info block tells): %w", err)
}

// MIME types of the pictures QEMU's screendump writes.
const (
	mimePNG = "image/png"
	mimePPM = "image/x-portable-pixmap"
)

// screendump has QEMU write its first screen's picture to path: PNG, as
// libvirt asks of a QEMU that can (7.1 and later, built with libpng),
// else PPM, QEMU's own format. It returns the picture's MIME type.
func (s *qmpSession) screendump(path string) (string, error) {
	err := s.execute("screendump", map[string]string{"filename": path, "format": "png"}, nil)
	var refused *QMPError
	if !errors.As(err, &refused) {
		return mimePNG, err
	}
	if err := s.execute("screendump", map[string]string{"filename": path}, nil); err != nil {
		return "", err
	}
	return mimePPM, nil
}

// sendKeys has QEMU press keys (QEMU key numbers) together, hold them
// holdMs (QEMU's default, 100 ms, when 0) and release them, as libvirt's
// qemuMonitorJSONSendKey asks.
func (s *qmpSession) sendKeys(keys []uint32, holdMs uint32) error {
	type keyValue struct {
		Type string `json:"type"`
		Data uint32 `json:"data"`
	}
	args := struct {
		Keys     []keyValue `json:"keys"`
		HoldTime uint32     `json:"hold-time,omitempty"`
	}{HoldTime: holdMs}
	for _, k := range keys {
		args.Keys = append(args.Keys, keyValue{"number", k})
	}
	return s.execute("send-key", args, nil)
}

// qmpBlockStats is one entry of query-blockstats' answer, what we read of
// it: the device it counts for (a guest device's QOM path) and QEMU's
// counters of it since it was made.
type qmpBlockStats struct {
	QDev  string `json:"qdev"`
	Stats struct {
		RdBytes          int64 `json:"rd_bytes"`
		WrBytes          int64 `json:"wr_bytes"`
		RdOperations     int64 `json:"rd_operations"`
		WrOperations     int64 `json:"wr_operations"`
		FlushOperations  int64 `json:"flush_operations"`
		RdTotalTimeNs    int64 `json:"rd_total_time_ns"`
		WrTotalTimeNs    int64 `json:"wr_total_time_ns"`
		FlushTotalTimeNs int64 `json:"flush_total_time_ns"`
	} `json:"stats"`
}

// blockStats is query-blockstats: QEMU's counters of each BlockBackend.
func (s *qmpSession) blockStats() ([]qmpBlockStats, error) {
	var q []qmpBlockStats
	return q, s.execute("query-blockstats", nil, &q)
}

// xenDiskStats are the counters of the xen-block disks among disks (those
// with a vdev), from stats matched by QOM path, named as the guest names
// them ("xvda"). QEMU keeps no error count; an HVM guest's emulated disk,
// which has no vdev, is not one of them.
func xenDiskStats(disks []qemuDisk, stats []qmpBlockStats) []backend.DiskStats {
	var out []backend.DiskStats
	for _, d := range disks {
		n, ok := vdevNumber(d.Vdev)
		if !ok || d.QDev == "" {
			continue
		}
		name, ok := vdevName(n)
		if !ok {
			continue
		}
		for _, st := range stats {
			if st.QDev != d.QDev {
				continue
			}
			c := st.Stats
			out = append(out, backend.DiskStats{
				Vdev: name, RdReq: c.RdOperations, RdBytes: c.RdBytes, WrReq: c.WrOperations, WrBytes: c.WrBytes,
				FlushReq: c.FlushOperations, Errors: -1,
				RdTimeNs: c.RdTotalTimeNs, WrTimeNs: c.WrTotalTimeNs, FlushTimeNs: c.FlushTotalTimeNs,
			})
			break
		}
	}
	return out
}
