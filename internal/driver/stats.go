package driver

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"strconv"
	"strings"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/typedparam"
)

// The per-domain statistics of libvirt's libxl driver (libxl_driver.c):
// block, interface, memory and CPU statistics, as libvirt reads them, each
// from one read of the hypervisor's view of the guest (backend.Stats).

// BlockStats is virDomainBlockStatsStruct; FlushReq is only reported by
// BlockStatsFlags.
type BlockStats struct {
	RdReq, RdBytes, WrReq, WrBytes, FlushReq, Errs int64
}

// BlockStats is virDomainBlockStats (libxlDomainBlockStats): the counters
// of the disk path names (its target, or its source when path starts with
// '/'), or of all disks summed when path is empty.
func (drv *Driver) BlockStats(ctx context.Context, dom Domain, path string) (BlockStats, error) {
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return BlockStats{}, err
	}
	defer drv.endJob(d)
	return drv.gatherBlock(ctx, s, path)
}

// blockStatsParams is LIBXL_NB_TOTAL_BLK_STAT_PARAM.
const blockStatsParams = 6

// BlockStatsFlags is virDomainBlockStatsFlags (libxlDomainBlockStatsFlags;
// flags: VIR_TYPED_PARAM_STRING_OKAY, which the API adds): with nparams 0
// the number of parameters it has, else up to nparams of them.
func (drv *Driver) BlockStatsFlags(ctx context.Context, dom Domain, path string, nparams int, flags uint32) (typedparam.List, int, error) {
	flags |= typedparam.StringOkay // libxl's driver supports VIR_DRV_FEATURE_TYPED_PARAM_STRING
	if err := checkFlags(flags, typedparam.StringOkay, "libxlDomainBlockStatsFlags"); err != nil {
		return nil, 0, err
	}
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return nil, 0, err
	}
	defer drv.endJob(d)
	if nparams == 0 {
		return nil, blockStatsParams, nil
	}
	b, err := drv.gatherBlock(ctx, s, path)
	if err != nil {
		return nil, 0, err
	}
	var l typedparam.List
	for _, p := range []struct {
		v    int64
		name string
	}{
		{b.WrBytes, "wr_bytes"}, {b.WrReq, "wr_operations"}, {b.RdBytes, "rd_bytes"},
		{b.RdReq, "rd_operations"}, {b.FlushReq, "flush_operations"}, {b.Errs, "errs"},
	} {
		if len(l) < nparams && p.v != -1 {
			l.AddLLong(p.v, p.name)
		}
	}
	return l, len(l), nil
}

// activeQuery finds a domain, takes a query job on it and checks that it
// runs (virDomainObjBeginJob(VIR_JOB_QUERY), virDomainObjCheckActive).
func (drv *Driver) activeQuery(ctx context.Context, dom Domain) (*domain, snapshot, error) {
	d, err := drv.find(dom)
	if err != nil {
		return nil, snapshot{}, err
	}
	if err := drv.beginJobOf(ctx, d, job.Query); err != nil {
		return nil, snapshot{}, err
	}
	s := d.snap()
	if !s.active() {
		drv.endJob(d)
		return nil, snapshot{}, errNotRunning()
	}
	return d, s, nil
}

// guestStats reads the hypervisor's view of the running domain s.
func (drv *Driver) guestStats(ctx context.Context, s snapshot) (backend.GuestStats, error) {
	all, err := drv.be.Stats(ctx, []backend.DomID{backend.DomID(s.ref.ID)})
	if err != nil {
		return backend.GuestStats{}, err
	}
	for _, g := range all {
		if g.DomID == backend.DomID(s.ref.ID) && g.UUID == s.ref.UUID {
			return g, nil
		}
	}
	return backend.GuestStats{}, fmt.Errorf("%w: domain %d", backend.ErrNoGuest, s.ref.ID)
}

// gatherBlock is libxlDomainBlockStatsGather.
func (drv *Driver) gatherBlock(ctx context.Context, s snapshot, path string) (BlockStats, error) {
	disks := diskDevices(s.def.parsed())
	if path != "" {
		i := diskIndexByName(disks, path)
		if i < 0 {
			return BlockStats{}, libxlErr(libvirt.ErrOperationInvalid, "invalid path: %s", path)
		}
		disks = disks[i : i+1]
	}
	var g backend.GuestStats
	if len(disks) > 0 {
		var err error
		if g, err = drv.guestStats(ctx, s); err != nil {
			return BlockStats{}, libxlFailed(err, "cannot open bus path")
		}
	}
	qemu := drv.qemuDisks(ctx, s)
	var total BlockStats
	for i := range disks {
		b, err := diskCounters(s.ref.ID, &disks[i], g.Disks, qemu)
		if err != nil {
			return BlockStats{}, err
		}
		total.RdReq += b.RdReq
		total.RdBytes += b.RdBytes
		total.WrReq += b.WrReq
		total.WrBytes += b.WrBytes
		total.FlushReq += b.FlushReq
		// QEMU keeps no errors count (-1): a sum with one is unknown too
		if b.Errs < 0 || total.Errs < 0 {
			total.Errs = -1
		} else {
			total.Errs += b.Errs
		}
	}
	return total, nil
}

// diskCounters is libxlDomainBlockStatsGatherSingle and
// libxlDomainBlockStatsVBD for one disk: a raw disk on blkback (the "phy"
// driver) has blkback's counters. Beyond libvirt, a disk the device model
// serves (libxl's qdisk, driver "qemu": a qcow2 volume as virt-install
// and virt-manager make them) has QEMU's, where libvirt refuses it;
// without them, it is refused as libvirt does.
func diskCounters(domid int32, disk *libvirtxml.DomainDisk, counted []backend.DiskStats, qemu *qemuDisks) (BlockStats, error) {
	dst := disk.Target.Dev
	vbd := countersOf(dst, counted)
	drvName := diskDriverName(disk, vbd != nil)
	if drvName == "qemu" {
		if q := qemu.of(dst); q != nil {
			return BlockStats{RdReq: q.RdReq, RdBytes: q.RdBytes, WrReq: q.WrReq, WrBytes: q.WrBytes,
				FlushReq: q.FlushReq, Errs: q.Errors}, nil
		}
	}
	if drvName != "phy" {
		return BlockStats{}, libxlErr(libvirt.ErrOperationUnsupported, "unsupported disk driver %s", drvName)
	}
	if f := diskFormat(disk); f != "raw" {
		return BlockStats{}, libxlErr(libvirt.ErrOperationUnsupported, "unsupported format %s", f)
	}
	devno := diskPathToID(dst)
	if devno < 0 {
		return BlockStats{}, libxlErr(libvirt.ErrOperationInvalid, "cannot find device number")
	}
	if vbd == nil {
		return BlockStats{}, libxlErr(libvirt.ErrOperationFailed, "cannot open bus path")
	}
	for _, c := range []struct {
		name string
		v    int64
	}{{"f_req", vbd.FlushReq}, {"wr_req", vbd.WrReq}, {"rd_req", vbd.RdReq},
		{"wr_sect", vbd.WrBytes}, {"rd_sect", vbd.RdBytes}, {"oo_req", vbd.Errors}} {
		if c.v < 0 {
			return BlockStats{}, libxlErr(libvirt.ErrOperationFailed,
				"cannot read /sys/bus/xen-backend/devices/vbd-%d-%d/statistics/%s", domid, devno, c.name)
		}
	}
	return BlockStats{RdReq: vbd.RdReq, RdBytes: vbd.RdBytes, WrReq: vbd.WrReq, WrBytes: vbd.WrBytes,
		FlushReq: vbd.FlushReq, Errs: vbd.Errors}, nil
}

// qemuDisks are the counters QEMU keeps of a running domain's disks
// (backend.QEMUDiskCounter), read at the first disk that needs them: a
// guest whose disks blkback serves costs no session with its device model.
type qemuDisks struct {
	read  func() ([]backend.DiskStats, error)
	log   *slog.Logger
	done  bool
	disks []backend.DiskStats
}

// qemuStatsWait bounds the read of a device model's counters. libxl's QMP
// socket serves one client at a time, and libxl may hold it for a while
// (a save's device state): a poller's statistics, all domains' at once,
// must not wait for that; they lack the counters this once.
const qemuStatsWait = 2 * time.Second

// qemuDisks reads, when asked, the counters the device model of the
// running domain s keeps; nil when the backend has none.
func (drv *Driver) qemuDisks(ctx context.Context, s snapshot) *qemuDisks {
	qc, ok := drv.be.(backend.QEMUDiskCounter)
	if !ok {
		return nil
	}
	id := backend.DomID(s.ref.ID)
	return &qemuDisks{log: drv.log, read: func() ([]backend.DiskStats, error) {
		ctx, cancel := context.WithTimeout(ctx, qemuStatsWait)
		defer cancel()
		return qc.QEMUDiskStats(ctx, id)
	}}
}

// of is QEMU's counters of the disk the guest calls dst; nil when its
// device model does not serve it or cannot be asked (logged at debug:
// the caller then answers as libvirt does).
func (q *qemuDisks) of(dst string) *backend.DiskStats {
	if q == nil {
		return nil
	}
	if !q.done {
		q.done = true
		var err error
		if q.disks, err = q.read(); err != nil {
			q.log.Debug("no disk counters from the device model", "err", err)
		}
	}
	return countersOf(dst, q.disks)
}

// countersOf is the counters of the disk the guest calls dst among
// counted, if they are there.
func countersOf(dst string, counted []backend.DiskStats) *backend.DiskStats {
	for i := range counted {
		if counted[i].Vdev == dst {
			return &counted[i]
		}
	}
	return nil
}

// diskDriverName is the disk's driver as libvirt knows it once the guest
// runs: the one configured, else the backend libxl picked, which
// libxlDomainUpdateDiskParams records ("phy" for blkback, else libxl's
// qdisk, "qemu"); virDomainDiskGetDriver's NULL reads as "qemu".
func diskDriverName(disk *libvirtxml.DomainDisk, onBlkback bool) string {
	switch {
	case disk.Driver != nil && disk.Driver.Name != "":
		return disk.Driver.Name
	case onBlkback:
		return "phy"
	}
	return "qemu"
}

// diskFormat is the disk's format; libxl's post-parse makes a disk with
// none raw, as xl-disk-configuration(5) defaults it.
func diskFormat(disk *libvirtxml.DomainDisk) string {
	if disk.Driver != nil && disk.Driver.Type != "" {
		return disk.Driver.Type
	}
	return "raw"
}

// diskDevices is def's disks (with a target: the schema requires one).
func diskDevices(def *libvirtxml.Domain) []libvirtxml.DomainDisk {
	if def.Devices == nil {
		return nil
	}
	var out []libvirtxml.DomainDisk
	for _, d := range def.Devices.Disks {
		if d.Target != nil {
			out = append(out, d)
		}
	}
	return out
}

// diskSource is virDomainDiskGetSource: a file or block disk's path, a
// network disk's name.
func diskSource(d *libvirtxml.DomainDisk) string {
	switch s := d.Source; {
	case s == nil:
	case s.File != nil:
		return s.File.File
	case s.Block != nil:
		return s.Block.Dev
	case s.Network != nil:
		return s.Network.Name
	}
	return ""
}

// diskIndexByName is virDomainDiskIndexByName without ambiguity allowed:
// a name without a leading '/' is a target, one with it a source path
// that must name one disk only.
func diskIndexByName(disks []libvirtxml.DomainDisk, name string) int {
	candidate := -1
	for i := range disks {
		if !strings.HasPrefix(name, "/") {
			if disks[i].Target.Dev == name {
				return i
			}
		} else if diskSource(&disks[i]) == name {
			if candidate >= 0 {
				return -1
			}
			candidate = i
		}
	}
	return candidate
}

// diskPathToID is libxlDiskPathToID: the Xen device number of a disk
// name (xvdX, hdX, sdX or dNpM), -1 if it has none. An extended xvd number
// holds a disk below 2^20 and a partition below 256, as Xen's own
// libxl__device_disk_dev_number has it; libvirt's test reads "or", and
// numbered d72000777777970777p2 past an int's bits (found by
// FuzzDiskPathToID).
func diskPathToID(name string) int {
	var disk, part, kind int
	switch {
	case strings.HasPrefix(name, "xvd"):
		kind = 0
	case strings.HasPrefix(name, "hd"):
		kind = 1
	case strings.HasPrefix(name, "sd"):
		kind = 2
	default:
		kind = -1
	}
	ok := false
	if kind >= 0 {
		disk, part, ok = diskNameParse(name)
	}
	if !ok {
		var tail string
		n, _ := fmt.Sscanf(name, "d%dp%d%s", &disk, &part, &tail)
		if n != 2 || disk < 0 || part < 0 || name != fmt.Sprintf("d%dp%d", disk, part) {
			return -1
		}
		kind = 0
	}
	switch kind {
	case 0:
		if disk <= 15 && part <= 15 {
			return 202<<8 | disk<<4 | part
		}
		if disk <= 1<<20-1 && part <= 255 {
			return 1<<28 | disk<<8 | part
		}
	case 1:
		if disk <= 3 && part <= 63 {
			major := 22
			if disk < 2 {
				major = 3
			}
			return major<<8 | (disk&1)<<6 | part
		}
	case 2:
		if disk <= 15 && part <= 15 {
			return 8<<8 | disk<<4 | part
		}
	}
	return -1
}

// diskNameParse is virDiskNameParse: a known prefix, letters a..z as a
// base-26 index ("a" 0, "z" 25, "aa" 26), then an optional partition
// number with no leading zero.
func diskNameParse(name string) (disk, part int, ok bool) {
	var rest string
	for _, p := range []string{"fd", "hd", "vd", "sd", "xvd", "ubd"} {
		if strings.HasPrefix(name, p) {
			rest, ok = name[len(p):], true
			break
		}
	}
	if !ok || rest == "" || rest[0] < 'a' || rest[0] > 'z' {
		return 0, 0, false
	}
	idx, i := 0, 0
	for ; i < len(rest) && rest[i] >= 'a' && rest[i] <= 'z'; i++ {
		if i > 0 {
			idx++
		}
		if idx > (math.MaxInt32-int(rest[i]-'a'))/26 {
			return 0, 0, false
		}
		idx = idx*26 + int(rest[i]-'a')
	}
	digits := rest[i:]
	if strings.Trim(digits, "0123456789") != "" || (len(digits) > 1 && digits[0] == '0') {
		return 0, 0, false
	}
	if digits != "" {
		p, err := strconv.ParseInt(digits, 10, 32)
		if err != nil {
			return 0, 0, false
		}
		part = int(p)
	}
	return idx, part, true
}
