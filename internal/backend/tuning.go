package backend

import (
	"context"
	"fmt"
)

// The optional features of tuning a running guest's CPUs, as libvirt's
// libxl driver asks libxl for them: vCPU affinity, the scheduler's
// per-domain parameters, NUMA node affinity, and suspend to RAM.

// VCPUPinner is the optional feature of pinning a vCPU
// (libxl_set_vcpuaffinity with a hard affinity).
type VCPUPinner interface {
	// PinVCPU sets vCPU vcpu's hard affinity to cpus. As Xen, the backend
	// keeps the CPUs among the host's and fails when none is, or when the
	// domain has no such vCPU.
	PinVCPU(ctx context.Context, id DomID, vcpu int, cpus []int) error
}

// Scheduler is the hypervisor's CPU scheduler, numbered as
// libxl_scheduler.
type Scheduler int

// Schedulers.
const (
	SchedUnknown  Scheduler = 0
	SchedSEDF     Scheduler = 4
	SchedCredit   Scheduler = 5
	SchedCredit2  Scheduler = 6
	SchedARINC653 Scheduler = 7
	SchedRTDS     Scheduler = 8
	SchedNull     Scheduler = 9
)

func (s Scheduler) String() string {
	switch s {
	case SchedSEDF:
		return "sedf"
	case SchedCredit:
		return "credit"
	case SchedCredit2:
		return "credit2"
	case SchedARINC653:
		return "arinc653"
	case SchedRTDS:
		return "rtds"
	case SchedNull:
		return "null"
	}
	return fmt.Sprintf("scheduler(%d)", int(s))
}

// SchedParamDefault in a SchedParams field leaves that parameter as it is
// (LIBXL_DOMAIN_SCHED_PARAM_WEIGHT_DEFAULT, _CAP_DEFAULT).
const SchedParamDefault = -1

// SchedParams are a domain's credit or credit2 parameters
// (libxl_domain_sched_params): its weight (1 to 65535, 256 by default) and
// its cap in percent of one CPU (0, no cap, to 100 per vCPU).
type SchedParams struct {
	Weight int
	Cap    int
}

// Scheduling is the optional feature of the scheduler's per-domain
// parameters.
type Scheduling interface {
	// Scheduler is the scheduler of the host's (Domain-0's) CPU pool
	// (libxl_get_scheduler).
	Scheduler(ctx context.Context) (Scheduler, error)
	// SchedParams reads a domain's parameters (libxl_domain_sched_params_get).
	SchedParams(ctx context.Context, id DomID) (SchedParams, error)
	// SetSchedParams sets the parameters that are not SchedParamDefault
	// (libxl_domain_sched_params_set), checking them as libxl does: a
	// weight outside 1..65535 or a cap outside 0..100 per vCPU is
	// ErrInvalid and changes nothing.
	SetSchedParams(ctx context.Context, id DomID, p SchedParams) error
}

// NodeAffinity is the optional feature of reading the NUMA nodes a
// domain's memory is allocated on (libxl_domain_get_nodeaffinity).
type NodeAffinity interface {
	NodeAffinity(ctx context.Context, id DomID) ([]int, error)
}

// PMSuspender is the optional feature of suspending a guest to RAM and
// waking it up: libxl_domain_suspend_only, after which the guest is shut
// down with ReasonSuspend and keeps its memory, and libxl_domain_resume
// with suspend_cancel, which resumes it where it stopped.
type PMSuspender interface {
	SuspendToRAM(ctx context.Context, id DomID) error
	Wakeup(ctx context.Context, id DomID) error
}
