package driver

import (
	"context"
	"strconv"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/job"
	"virtxend/internal/typedparam"
)

// Bulk statistics, virConnectGetAllDomainStats and virDomainListGetStats,
// which libvirt's libxl driver lacks: the stat groups, key names and units
// of libvirt's QEMU driver (qemuDomainGetStats* in qemu_driver.c, the keys
// virsh domstats prints), for every domain asked for, from one read of
// the hypervisor (backend.Stats) for all of them.

// Stat groups (virDomainStatsTypes) this driver reports.
const (
	statsState     = uint32(libvirt.DomainStatsState)
	statsCPU       = uint32(libvirt.DomainStatsCPUTotal)
	statsBalloon   = uint32(libvirt.DomainStatsBalloon)
	statsVCPU      = uint32(libvirt.DomainStatsVCPU)
	statsInterface = uint32(libvirt.DomainStatsInterface)
	statsBlock     = uint32(libvirt.DomainStatsBlock)
	statsSupported = statsState | statsCPU | statsBalloon | statsVCPU | statsInterface | statsBlock
	// statsHypervisor are the groups read from the hypervisor.
	statsHypervisor = statsCPU | statsBalloon | statsVCPU | statsInterface | statsBlock
	// statsNeedJob are the groups QEMU's driver takes a query job for
	// (its workers that need the monitor).
	statsNeedJob = statsCPU | statsBalloon | statsVCPU | statsBlock
)

// Flags of virConnectGetAllDomainStats.
const (
	statsListFilters = uint32(0xff) // ACTIVE ... OTHER: virConnectListAllDomains' filters
	statsNowait      = uint32(libvirt.ConnectGetAllDomainsStatsNowait)
	statsBacking     = uint32(libvirt.ConnectGetAllDomainsStatsBacking)
	statsEnforce     = uint32(libvirt.ConnectGetAllDomainsStatsEnforceStats)
)

// StatsRecord is one domain's statistics (virDomainStatsRecord).
type StatsRecord struct {
	Dom    Domain
	Params typedparam.List
}

// GetAllDomainStats is virConnectGetAllDomainStats (doms nil) and
// virDomainListGetStats (doms given; those that do not exist are left
// out, as libvirt's drivers skip them): the groups in stats (0: all this
// driver has) of every domain the filters in flags let through, active
// ones first by id, then inactive ones by name, or in the order given.
//
// Flags: the list filters of virConnectListAllDomains (ACTIVE ... OTHER);
// ENFORCE_STATS fails on a group this driver lacks (else such groups are
// left out); BACKING is accepted, and changes nothing, as libxl knows no
// backing chains; NOWAIT reports a domain busy with another job without
// what needs the job (its disks' counters), rather than waiting for it.
func (drv *Driver) GetAllDomainStats(ctx context.Context, doms []Domain, stats, flags uint32) ([]StatsRecord, error) {
	if err := checkFlags(flags, statsListFilters|statsNowait|statsBacking|statsEnforce, "libxlConnectGetAllDomainStats"); err != nil {
		return nil, err
	}
	switch {
	case stats == 0:
		stats = statsSupported
	case flags&statsEnforce != 0 && stats&^statsSupported != 0:
		return nil, libxlErr(libvirt.ErrArgumentUnsupported,
			"Stats types bits 0x%x are not supported by this daemon", stats&^statsSupported)
	}
	stats &= statsSupported
	list := drv.statsDomains(doms, flags&statsListFilters)
	snaps := make([]snapshot, len(list))
	var ids []backend.DomID
	for i, d := range list {
		snaps[i] = d.snap()
		if snaps[i].active() && stats&statsHypervisor != 0 {
			ids = append(ids, backend.DomID(snaps[i].ref.ID))
		}
	}
	live := drv.readStats(ctx, ids)
	rc := recordContext{stats: stats, flags: flags, now: time.Now()}
	if doms == nil && stats&statsBlock != 0 {
		rc.images = map[string]bool{}
		defer func() { drv.images.forget(rc.images) }()
	}
	out := make([]StatsRecord, 0, len(list))
	for i, d := range list {
		out = append(out, drv.domainRecord(ctx, d, snaps[i], live, &rc))
	}
	return out, nil
}

// recordContext is what every record of one call shares.
type recordContext struct {
	stats, flags uint32
	now          time.Time
	// images collects the images the records named, when the call covers
	// every domain: the cache keeps those alone.
	images map[string]bool
}

// statsDomains are the domains to report: doms by uuid (skipping those
// that do not exist) or every domain, then filtered.
func (drv *Driver) statsDomains(doms []Domain, filters uint32) []*domain {
	var list []*domain
	if doms == nil {
		list = drv.all()
	} else {
		for _, dom := range doms {
			if d := drv.lookupUUID(dom.UUID); d != nil {
				list = append(list, d)
			}
		}
	}
	if filters == 0 {
		return list
	}
	kept := list[:0]
	for _, d := range list {
		if drv.matches(d, d.snap(), filters) {
			kept = append(kept, d)
		}
	}
	return kept
}

// readStats is the one read of the hypervisor for the running domains
// ids, by domid. A failed read leaves the records without what it would
// have given, as libvirt's workers ignore what they cannot read.
func (drv *Driver) readStats(ctx context.Context, ids []backend.DomID) map[backend.DomID]backend.GuestStats {
	if len(ids) == 0 {
		return nil
	}
	all, err := drv.be.Stats(ctx, ids)
	if err != nil {
		drv.log.Warn("cannot read the guests' statistics", "err", err)
		return nil
	}
	m := make(map[backend.DomID]backend.GuestStats, len(all))
	for _, g := range all {
		m[g.DomID] = g
	}
	return m
}

// domainRecord makes d's record. A running domain's groups that QEMU's
// driver reads under a query job wait for the job in their way (unless
// NOWAIT), and a domain that had to wait is read again, since the job
// may have changed it; one whose job could not be had is reported with
// what needs no job.
func (drv *Driver) domainRecord(ctx context.Context, d *domain, s snapshot, live map[backend.DomID]backend.GuestStats, rc *recordContext) StatsRecord {
	stats, flags := rc.stats, rc.flags
	haveJob := false
	if s.active() && stats&statsNeedJob != 0 {
		switch {
		case d.job.TryBegin(ctx, job.Query):
			haveJob = true
		case flags&statsNowait == 0:
			if err := drv.beginJobOf(ctx, d, job.Query); err == nil {
				haveJob = true
				s = d.snap()
				if g, err := drv.guestStats(ctx, s); err == nil {
					live = map[backend.DomID]backend.GuestStats{g.DomID: g}
				} else {
					live = nil
				}
			}
		}
		if haveJob {
			defer drv.endJob(d)
		}
	}
	var g *backend.GuestStats
	if s.active() {
		if gs, ok := live[backend.DomID(s.ref.ID)]; ok && gs.UUID == s.ref.UUID {
			g = &gs
		}
	}
	rec := StatsRecord{Dom: s.ref}
	p := &rec.Params
	if stats&statsState != 0 {
		p.AddInt(int32(s.state), "state.state")
		p.AddInt(s.reason, "state.reason")
	}
	if stats&statsCPU != 0 && g != nil {
		p.AddULLong(uint64(g.CPUTime), "cpu.time")
	}
	if stats&statsBalloon != 0 {
		balloonStats(p, s.def.info(), g)
	}
	if stats&statsVCPU != 0 {
		vcpuStats(p, s.def.info(), g)
	}
	if stats&statsInterface != 0 && s.active() {
		netStats(p, s.def.parsed(), g)
	}
	if stats&statsBlock != 0 {
		drv.blockStats(ctx, p, s, g, haveJob, rc)
	}
	return rec
}

// balloonStats is qemuDomainGetStatsBalloon: the balloon's size (libxl's
// current_memkb while running) and the definition's memory, in KiB.
func balloonStats(p *typedparam.List, f *defFacts, g *backend.GuestStats) {
	cur := f.curKiB
	if g != nil {
		cur = g.CurrentMemKiB
	}
	p.AddULLong(cur, "balloon.current")
	p.AddULLong(f.memKiB, "balloon.maximum")
}

// vcpuStats is qemuDomainGetStatsVcpu: the vCPU counts, and for a running
// domain each online vCPU's state (virVcpuState) and CPU time. Xen
// reports neither wait nor delay times, which are left out.
func vcpuStats(p *typedparam.List, f *defFacts, g *backend.GuestStats) {
	p.AddUInt(uint32(f.vcpusCur), "vcpu.current")
	p.AddUInt(uint32(f.vcpusMax), "vcpu.maximum")
	if g == nil {
		return
	}
	for _, v := range g.VCPUs {
		if !v.Online {
			continue
		}
		p.AddInt(int32(v.State), key("vcpu.", v.ID, ".state"))
		p.AddULLong(uint64(v.CPUTime), key("vcpu.", v.ID, ".time"))
	}
}

// netStats is qemuDomainGetStatsInterface: every interface counts; one
// with a device name has it, and its counters when the kernel lists it.
func netStats(p *typedparam.List, def *libvirtxml.Domain, g *backend.GuestStats) {
	var ifcs []libvirtxml.DomainInterface
	if def.Devices != nil {
		ifcs = def.Devices.Interfaces
	}
	p.AddUInt(uint32(len(ifcs)), "net.count")
	for i, ifc := range ifcs {
		if ifc.Target == nil || ifc.Target.Dev == "" {
			continue
		}
		p.AddString(ifc.Target.Dev, key("net.", i, ".name"))
		if g == nil {
			continue
		}
		c, ok := nicCounters(g.NICs, ifc.Target.Dev)
		if !ok {
			continue
		}
		for _, v := range []struct {
			name string
			v    int64
		}{
			{".rx.bytes", c.RxBytes}, {".rx.pkts", c.RxPackets}, {".rx.errs", c.RxErrs}, {".rx.drop", c.RxDrop},
			{".tx.bytes", c.TxBytes}, {".tx.pkts", c.TxPackets}, {".tx.errs", c.TxErrs}, {".tx.drop", c.TxDrop},
		} {
			if v.v >= 0 {
				p.AddULLong(uint64(v.v), key("net.", i, v.name))
			}
		}
	}
}

// blockStats is qemuDomainGetStatsBlock: every disk, its target and local
// source; for a running domain under its job the counters blkback keeps
// of a disk it serves (no times: blkback has none; errors is its oo_req,
// as libvirt defines it for Xen), or those the device model keeps of one
// it serves (with times, no errors; libvirt's Xen driver has none of
// these); and the image's sizes where the daemon can read them.
func (drv *Driver) blockStats(ctx context.Context, p *typedparam.List, s snapshot, g *backend.GuestStats, haveJob bool, rc *recordContext) {
	disks := s.def.info().disks
	p.AddUInt(uint32(len(disks)), "block.count")
	var qemu *qemuDisks
	if g != nil && haveJob {
		qemu = drv.qemuDisks(ctx, s)
	}
	for i, disk := range disks {
		p.AddString(disk.dev, key("block.", i, ".name"))
		path := disk.path
		if path != "" {
			p.AddString(path, key("block.", i, ".path"))
		}
		if g != nil && haveJob {
			v := countersOf(disk.dev, g.Disks)
			if v == nil {
				v = qemu.of(disk.dev)
			}
			if v != nil {
				diskCounterStats(p, i, v)
			}
		}
		if path == "" {
			continue
		}
		if rc.images != nil {
			rc.images[path] = true
		}
		if sz, ok := drv.images.sizes(path, disk.format, rc.now); ok {
			for _, c := range []struct {
				name string
				v    uint64
			}{{".allocation", sz.Allocation}, {".capacity", sz.Capacity}, {".physical", sz.Physical}} {
				if c.v != 0 {
					p.AddULLong(c.v, key("block.", i, c.name))
				}
			}
		}
	}
}

// diskCounterStats adds the counters v has of disk i.
func diskCounterStats(p *typedparam.List, i int, v *backend.DiskStats) {
	for _, c := range []struct {
		name string
		v    int64
	}{
		{".rd.reqs", v.RdReq}, {".rd.bytes", v.RdBytes}, {".rd.times", v.RdTimeNs},
		{".wr.reqs", v.WrReq}, {".wr.bytes", v.WrBytes}, {".wr.times", v.WrTimeNs},
		{".fl.reqs", v.FlushReq}, {".fl.times", v.FlushTimeNs}, {".errors", v.Errors},
	} {
		if c.v >= 0 {
			p.AddULLong(uint64(c.v), key("block.", i, c.name))
		}
	}
}

// localSource is the path of a file or block disk's source
// (virStorageSourceIsLocalStorage).
func localSource(d *libvirtxml.DomainDisk) string {
	switch s := d.Source; {
	case s == nil:
	case s.File != nil:
		return s.File.File
	case s.Block != nil:
		return s.Block.Dev
	}
	return ""
}

// key is a per-device parameter's name, prefix, index and suffix
// ("block." 0 ".rd.reqs"), made without fmt: a poll of many guests makes
// many.
func key(prefix string, i int, suffix string) string {
	return prefix + strconv.Itoa(i) + suffix
}
