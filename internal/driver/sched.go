package driver

import (
	"context"
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/typedparam"
)

// Typed parameter names of the scheduler and NUMA calls.
const (
	paramWeight      = "weight"       // VIR_DOMAIN_SCHEDULER_WEIGHT
	paramCap         = "cap"          // VIR_DOMAIN_SCHEDULER_CAP
	paramNumaMode    = "numa_mode"    // VIR_DOMAIN_NUMA_MODE
	paramNumaNodeset = "numa_nodeset" // VIR_DOMAIN_NUMA_NODESET
)

// schedCreditNParams is XEN_SCHED_CREDIT_NPARAM: weight and cap.
const schedCreditNParams = 2

// numaNParams is LIBXL_NUMA_NPARAM: mode and nodeset.
const numaNParams = 2

// numatuneInterleave is VIR_DOMAIN_NUMATUNE_MEM_INTERLEAVE, the policy
// closest to what Xen does.
const numatuneInterleave = 2

// scheduling is the backend's scheduler feature; a backend without one
// has libxl's answer for an unknown scheduler.
func (drv *Driver) scheduling() (backend.Scheduling, bool) {
	s, ok := drv.be.(backend.Scheduling)
	return s, ok
}

// GetSchedulerType is libxlDomainGetSchedulerType: the scheduler's name as
// libvirt gives it and how many parameters it has (credit and credit2:
// weight and cap). Xen's rtds and null schedulers are unknown to libvirt.
func (drv *Driver) GetSchedulerType(ctx context.Context, dom Domain) (string, int32, error) {
	d, err := drv.find(dom)
	if err != nil {
		return "", 0, err
	}
	s := d.snap()
	if !s.active() {
		return "", 0, errNotRunning()
	}
	sched := backend.SchedUnknown
	if sc, ok := drv.scheduling(); ok {
		if sched, err = sc.Scheduler(ctx); err != nil {
			sched = backend.SchedUnknown
		}
	}
	switch sched {
	case backend.SchedSEDF, backend.SchedARINC653:
		return sched.String(), 0, nil
	case backend.SchedCredit, backend.SchedCredit2:
		return sched.String(), schedCreditNParams, nil
	}
	return "", 0, libxlErr(libvirt.ErrInternalError, "Failed to get scheduler id for domain '%d' with libxenlight", s.ref.ID)
}

// creditScheduler is the check both parameter calls make: only credit and
// credit2 have the weight and cap libvirt knows.
func (drv *Driver) creditScheduler(ctx context.Context) (backend.Scheduling, error) {
	sc, ok := drv.scheduling()
	if ok {
		if sched, err := sc.Scheduler(ctx); err == nil && (sched == backend.SchedCredit || sched == backend.SchedCredit2) {
			return sc, nil
		}
	}
	return nil, libxlErr(libvirt.ErrInternalError, "Only 'credit' and 'credit2' schedulers are supported")
}

// GetSchedulerParametersFlags is libxlDomainGetSchedulerParametersFlags
// (flags: VIR_TYPED_PARAM_STRING_OKAY only: libxl has no persistent
// scheduler parameters): the weight, and the cap if nparams asks for two
// or more.
func (drv *Driver) GetSchedulerParametersFlags(ctx context.Context, dom Domain, nparams int, flags uint32) ([]libvirt.TypedParam, error) {
	if err := checkFlags(flags, typedparam.StringOkay, "libxlDomainGetSchedulerParametersFlags"); err != nil {
		return nil, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, err
	}
	s := d.snap()
	if !s.active() {
		return nil, errNotRunning()
	}
	sc, err := drv.creditScheduler(ctx)
	if err != nil {
		return nil, err
	}
	p, err := sc.SchedParams(ctx, backend.DomID(s.ref.ID))
	if err != nil {
		return nil, libxlFailed(err, "Failed to get scheduler parameters for domain '%d' with libxenlight", s.ref.ID)
	}
	out := []libvirt.TypedParam{typedparam.NewUInt(paramWeight, uint32(p.Weight))}
	if nparams > 1 {
		out = append(out, typedparam.NewUInt(paramCap, uint32(p.Cap)))
	}
	return out, nil
}

// schedParamTypes are the parameters SetSchedulerParametersFlags takes.
var schedParamTypes = map[string]typedparam.Type{paramWeight: typedparam.UInt, paramCap: typedparam.UInt}

// SetSchedulerParametersFlags is libxlDomainSetSchedulerParametersFlags
// (no flags: libxl changes the running domain only): the weight and cap
// given replace the domain's, checked by libxl (weight 1 to 65535, cap 0
// to 100 per vCPU). As in libvirt the unsigned values become libxl's int,
// so 4294967295 is -1, which libxl takes for "leave it".
func (drv *Driver) SetSchedulerParametersFlags(ctx context.Context, dom Domain, params []libvirt.TypedParam, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainSetSchedulerParametersFlags"); err != nil {
		return err
	}
	if err := typedparam.Validate(params, schedParamTypes); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if !s.active() {
		return errNotRunning()
	}
	sc, err := drv.creditScheduler(ctx)
	if err != nil {
		return err
	}
	id := backend.DomID(s.ref.ID)
	p, err := sc.SchedParams(ctx, id)
	if err != nil {
		return libxlFailed(err, "Failed to get scheduler parameters for domain '%d' with libxenlight", s.ref.ID)
	}
	for _, prm := range params {
		v := int(int32(prm.Value.I.(uint32)))
		switch prm.Field {
		case paramWeight:
			p.Weight = v
		case paramCap:
			p.Cap = v
		}
	}
	if err := sc.SetSchedParams(ctx, id, p); err != nil {
		return libxlFailed(err, "Failed to set scheduler parameters for domain '%d' with libxenlight", s.ref.ID)
	}
	return nil
}

// GetNumaParameters is libxlDomainGetNumaParameters (flags:
// VIR_DOMAIN_AFFECT_LIVE, VIR_TYPED_PARAM_STRING_OKAY; libxl reads the
// node affinity of the running domain only). With nparams 0 it answers
// how many there are; else the mode (interleave, what Xen does) and the
// nodes the domain's memory is on, up to nparams of them.
func (drv *Driver) GetNumaParameters(ctx context.Context, dom Domain, nparams int, flags uint32) ([]libvirt.TypedParam, int, error) {
	if err := checkFlags(flags, uint32(libvirt.DomainAffectLive)|typedparam.StringOkay, "libxlDomainGetNumaParameters"); err != nil {
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
	if nparams == 0 {
		return nil, numaNParams, nil
	}
	out := []libvirt.TypedParam{typedparam.NewInt(paramNumaMode, numatuneInterleave)}
	if nparams > 1 {
		na, ok := drv.be.(backend.NodeAffinity)
		if !ok {
			return nil, 0, domainErr(libvirt.ErrNoSupport, "%s", "virDomainGetNumaParameters")
		}
		nodes, err := na.NodeAffinity(ctx, backend.DomID(s.ref.ID))
		if err != nil {
			return nil, 0, errSystem(err, "unable to get numa affinity")
		}
		slices.Sort(nodes)
		out = append(out, typedparam.NewString(paramNumaNodeset, domxml.FormatCPUSet(slices.Compact(nodes))))
	}
	return out, len(out), nil
}
