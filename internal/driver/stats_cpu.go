package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/events"
	"virtxend/internal/job"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// memoryStatNR is VIR_DOMAIN_MEMORY_STAT_NR: virDomainMemoryStats asks
// the driver for no more.
const memoryStatNR = 13

// MemoryStat is one virDomainMemoryStatStruct: a tag and a value in KiB.
type MemoryStat struct {
	Tag int32
	Val uint64
}

// MemoryStats is virDomainMemoryStats (libxlDomainMemoryStats; no flags):
// the balloon's current size (VIR_DOMAIN_MEMORY_STAT_ACTUAL_BALLOON) from
// the hypervisor and the memory the definition gives the guest
// (VIR_DOMAIN_MEMORY_STAT_AVAILABLE), as many as nr asks for. As the API
// does, nr 0 asks for nothing, not even whether the domain exists.
func (drv *Driver) MemoryStats(ctx context.Context, dom Domain, nr uint32, flags uint32) ([]MemoryStat, error) {
	if nr == 0 {
		return nil, nil
	}
	nr = min(nr, memoryStatNR)
	if err := checkFlags(flags, 0, "libxlDomainMemoryStats"); err != nil {
		return nil, err
	}
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return nil, err
	}
	defer drv.endJob(d)
	g, err := drv.be.Guest(ctx, backend.DomID(s.ref.ID))
	if err != nil {
		return nil, libxlFailed(err, "libxl_domain_info failed for domain '%d'", s.ref.ID)
	}
	out := []MemoryStat{
		{int32(libvirt.DomainMemoryStatActualBalloon), g.CurrentMemKiB},
		{int32(libvirt.DomainMemoryStatAvailable), memTotal(s.def.parsed())},
	}
	return out[:min(int(nr), len(out))], nil
}

// cpuStatsTotalParams is LIBXL_NB_TOTAL_CPU_STAT_PARAM.
const cpuStatsTotalParams = 1

// cpuTimeParam is VIR_DOMAIN_CPU_STATS_CPUTIME.
const cpuTimeParam = "cpu_time"

// GetCPUStats is virDomainGetCPUStats (libxlDomainGetCPUStats; flags:
// VIR_TYPED_PARAM_STRING_OKAY, which the API adds). With startCPU -1 the
// domain's CPU time; else, for libxl's driver, the "CPUs" are the guest's
// vCPUs: the CPU time of each of ncpus from startCPU, in a list of
// ncpus×nparams slots, empty (Value.D 0) where there is none. With nparams
// 0 it counts instead: the parameters per CPU, or with ncpus 0 the CPUs.
// The second result is the call's return value. libvirt's loop over the
// vCPUs stops at ncpus rather than startCPU+ncpus and puts each vCPU's
// time in slot i-startCPU whatever nparams is, so that asking from vCPU 1
// returns nothing; here each vCPU asked for is in its own slot.
func (drv *Driver) GetCPUStats(ctx context.Context, dom Domain, nparams uint32, startCPU int32, ncpus uint32, flags uint32) (typedparam.List, int32, error) {
	if err := checkCPUStatsArgs(nparams, startCPU, ncpus); err != nil {
		return nil, 0, err
	}
	flags |= typedparam.StringOkay // libxl's driver supports VIR_DRV_FEATURE_TYPED_PARAM_STRING
	if err := checkFlags(flags, typedparam.StringOkay, "libxlDomainGetCPUStats"); err != nil {
		return nil, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, 0, err
	}
	s := d.snap()
	if !s.active() {
		return nil, 0, errNotRunning()
	}
	id := backend.DomID(s.ref.ID)
	if startCPU == -1 {
		if nparams == 0 {
			return nil, cpuStatsTotalParams, nil
		}
		g, err := drv.be.Guest(ctx, id)
		if err != nil {
			return nil, 0, libxlErr(libvirt.ErrInternalError, "libxl_domain_info failed for domain '%d'", id)
		}
		l := make(typedparam.List, nparams)
		l[0] = ullongParam(cpuTimeParam, uint64(g.CPUTime))
		return l, int32(nparams), nil
	}
	if nparams == 0 {
		if ncpus != 0 {
			return nil, cpuStatsTotalParams, nil
		}
		_, maximum := vcpus(s.def.parsed())
		return nil, int32(maximum), nil
	}
	g, err := drv.guestStats(ctx, s)
	if err != nil {
		return nil, 0, libxlErr(libvirt.ErrInternalError, "Failed to list vcpus for domain '%d' with libxenlight", id)
	}
	l := make(typedparam.List, int(ncpus)*int(nparams))
	for i := int(startCPU); i < len(g.VCPUs) && i < int(startCPU)+int(ncpus); i++ {
		l[(i-int(startCPU))*int(nparams)] = ullongParam(cpuTimeParam, uint64(g.VCPUs[i].CPUTime))
	}
	return l, int32(nparams), nil
}

func ullongParam(field string, v uint64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueUllong(v)}
}

// checkCPUStatsArgs is virDomainGetCPUStats' check of its arguments, as
// the daemon calls it: the list it passes is there exactly when nparams
// and ncpus are both above zero.
func checkCPUStatsArgs(nparams uint32, startCPU int32, ncpus uint32) error {
	const fn = "virDomainGetCPUStats"
	switch {
	case startCPU == -1 && ncpus != 1:
		return virerr.InvalidArg(virerr.FromDomain, fn, "start_cpu", "ncpus must be 1 when start_cpu is -1")
	case startCPU < -1:
		return virerr.InvalidArg(virerr.FromDomain, fn, "start_cpu", "start_cpu in %s must be zero or greater", fn)
	case nparams != 0 && ncpus == 0:
		return virerr.InvalidArg(virerr.FromDomain, fn, "params", "params in %s must not be NULL", fn)
	}
	return nil
}

// JobInfo is virDomainJobInfo.
type JobInfo struct {
	Type                                    int32
	TimeElapsed                             uint64 // ms
	TimeRemaining                           uint64 // ms, estimated
	DataTotal, DataProcessed, DataRemaining uint64
	MemTotal, MemProcessed, MemRemaining    uint64
	FileTotal, FileProcessed, FileRemaining uint64
}

// GetJobInfo is virDomainGetJobInfo (libxlDomainGetJobInfo): no job, or
// one running for so many milliseconds, whose end libxl cannot tell
// (VIR_DOMAIN_JOB_UNBOUNDED). An asynchronous job (save, dump, migration)
// also reports its progress, bounded once it knows its total.
func (drv *Driver) GetJobInfo(ctx context.Context, dom Domain) (JobInfo, error) {
	d, err := drv.find(dom)
	if err != nil {
		return JobInfo{}, err
	}
	st, ok := d.job.Running()
	if !ok {
		return JobInfo{Type: int32(libvirt.DomainJobNone)}, nil
	}
	p := st.Progress
	return JobInfo{
		Type: int32(jobType(st)), TimeElapsed: uint64(st.Elapsed.Milliseconds()), TimeRemaining: timeRemaining(st),
		DataTotal: p.DataTotal, DataProcessed: p.DataProcessed, DataRemaining: p.DataRemaining,
		MemTotal: p.MemTotal, MemProcessed: p.MemProcessed, MemRemaining: p.MemRemaining,
		FileTotal: p.DiskTotal, FileProcessed: p.DiskProcessed, FileRemaining: p.DiskRemaining,
	}, nil
}

// ControlInfo is virDomainGetControlInfo (flags: none), which libvirt's
// libxl driver lacks, as libvirt's QEMU driver answers it for a running
// guest: ok while no job holds the domain; job while an asynchronous one
// runs (save, dump, migration, snapshot), occupied while a call holds it
// (the libxl call QEMU's monitor stands for there), each with how long in
// milliseconds. libxl has no monitor to fail: never error.
func (drv *Driver) ControlInfo(ctx context.Context, dom Domain, flags uint32) (state, details uint32, ms uint64, err error) {
	if err := checkFlags(flags, 0, "libxlDomainGetControlInfo"); err != nil {
		return 0, 0, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return 0, 0, 0, err
	}
	if !d.snap().active() {
		return 0, 0, 0, errNotRunning()
	}
	if st, ok := d.job.Current(); ok {
		return uint32(libvirt.DomainControlJob), 0, uint64(st.Elapsed.Milliseconds()), nil
	}
	if st, ok := d.job.Running(); ok {
		return uint32(libvirt.DomainControlOccupied), 0, uint64(st.Elapsed.Milliseconds()), nil
	}
	return uint32(libvirt.DomainControlOk), 0, 0, nil
}

func jobType(st job.Stats) libvirt.DomainJobType {
	switch st.Status {
	case job.StatusBounded:
		return libvirt.DomainJobBounded
	case job.StatusCompleted:
		return libvirt.DomainJobCompleted
	case job.StatusFailed:
		return libvirt.DomainJobFailed
	case job.StatusCancelled:
		return libvirt.DomainJobCancelled
	}
	return libvirt.DomainJobUnbounded
}

// GetJobStats is virDomainGetJobStats (libxlDomainGetJobStats): the job's
// type and its time elapsed (VIR_DOMAIN_JOB_TIME_ELAPSED, ms); an
// asynchronous job adds what it does (VIR_DOMAIN_JOB_OPERATION) and the
// progress it reports, under QEMU's names for them. With
// VIR_DOMAIN_JOB_STATS_COMPLETED it reports how the last async job ended,
// which libvirt's Xen driver refuses and its QEMU driver serves: the
// report forgets it unless VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED.
func (drv *Driver) GetJobStats(ctx context.Context, dom Domain, flags uint32) (int32, typedparam.List, error) {
	completed, keep := uint32(libvirt.DomainJobStatsCompleted), uint32(libvirt.DomainJobStatsKeepCompleted)
	if flags&keep != 0 && flags&completed == 0 {
		return 0, nil, virerr.InvalidArg(virerr.FromDomain, "virDomainGetJobStats", "ctl",
			"Flag '%s' is required by flag '%s'", "VIR_DOMAIN_JOB_STATS_COMPLETED", "VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED")
	}
	if err := checkFlags(flags, completed|keep, "libxlDomainGetJobStats"); err != nil {
		return 0, nil, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return 0, nil, err
	}
	var st job.Stats
	var ok bool
	if flags&completed != 0 {
		st, ok = d.job.Completed()
		if ok && flags&keep == 0 {
			d.job.ForgetCompleted()
		}
	} else {
		st, ok = d.job.Running()
	}
	if !ok {
		return int32(libvirt.DomainJobNone), nil, nil
	}
	return int32(jobType(st)), jobParams(st), nil
}

// timeRemaining estimates, in ms, how long a bounded job still runs at
// the pace it has kept so far.
func timeRemaining(st job.Stats) uint64 {
	p := st.Progress
	if st.Status != job.StatusBounded || p.DataProcessed == 0 {
		return 0
	}
	return uint64(float64(st.Elapsed.Milliseconds()) * float64(p.DataRemaining) / float64(p.DataProcessed))
}

// announceCompleted sends VIR_DOMAIN_EVENT_ID_JOB_COMPLETED with a's
// statistics once its guest's state is out of the hypervisor: a save's or
// a memory snapshot's image written, a core dump written, a migration
// confirmed. libvirt's QEMU driver sends it at those points
// (qemuDomainEventEmitJobCompleted after qemuMigrationSrcToFile and in
// qemuMigrationSrcComplete); its Xen driver, which keeps no completed jobs,
// sends none.
func (drv *Driver) announceCompleted(d *domain, a *job.Async) {
	drv.broker.Publish(events.NewJobCompleted(d.ref(), jobParams(a.Finished())))
}

// jobParams are a job's statistics as typed parameters.
func jobParams(st job.Stats) typedparam.List {
	var l typedparam.List
	if st.Operation != job.OpUnknown {
		l.AddInt(int32(st.Operation), "operation")
	}
	l.AddULLong(uint64(st.Elapsed.Milliseconds()), "time_elapsed")
	if st.Status == job.StatusBounded {
		l.AddULLong(timeRemaining(st), "time_remaining")
	}
	p := st.Progress
	for _, c := range []struct {
		name string
		v    uint64
	}{
		{"data_total", p.DataTotal}, {"data_processed", p.DataProcessed}, {"data_remaining", p.DataRemaining},
		{"memory_total", p.MemTotal}, {"memory_processed", p.MemProcessed}, {"memory_remaining", p.MemRemaining},
		{"disk_total", p.DiskTotal}, {"disk_processed", p.DiskProcessed}, {"disk_remaining", p.DiskRemaining},
	} {
		if c.v != 0 || (c.name == "data_remaining" && p.DataTotal != 0) || (c.name == "memory_remaining" && p.MemTotal != 0) {
			l.AddULLong(c.v, c.name)
		}
	}
	if st.Err != nil && st.Status == job.StatusFailed {
		l.AddString(st.Err.Error(), "errmsg")
	}
	return l
}
