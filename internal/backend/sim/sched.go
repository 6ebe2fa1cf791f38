package sim

import (
	"context"
	"fmt"
	"slices"
	"time"

	"virtxend/internal/backend"
)

// HostHWCap is the simulated host CPU's featureset as Xen's physinfo
// reports it (hw_cap): the CPUID words of an Intel Core i7-8700, from
// libvirt's tests/cputestdata/x86_64-cpuid-Core-i7-8700.xml. From these
// libvirt's libxl driver names the host CPU Broadwell-v1 with the
// features beyond it: Skylake's models need bits of CPUID leaves libxl
// does not report.
var HostHWCap = [8]uint32{0xbfebfbff, 0x7ffafbff, 0x2c100800, 0x00000121, 0x0000000f, 0x029c6fbf, 0x40000000, 0x00000100}

// Scheduler defaults: Xen's since 4.12 is credit2, and a domain's weight
// is 256 and its cap 0 (none) unless its configuration says otherwise.
const (
	DefaultScheduler = backend.SchedCredit2
	DefaultWeight    = 256
)

// tuning is what was changed of a domain's vCPU affinity and scheduler
// parameters after it was created.
type tuning struct {
	// Affinity is each vCPU's hard affinity as last pinned; a vCPU not
	// pinned since creation (nil, or past the end) keeps its
	// configuration's.
	Affinity [][]int `json:"affinity,omitempty"`
	// Sched is the scheduler parameters once set; nil means those of the
	// configuration.
	Sched *backend.SchedParams `json:"sched,omitempty"`
}

func (t tuning) valid(maxVCPUs int) bool {
	if len(t.Affinity) > maxVCPUs {
		return false
	}
	for _, a := range t.Affinity {
		for _, c := range a {
			if c < 0 || c >= maxHostCPUs {
				return false
			}
		}
	}
	return t.Sched == nil || (validWeight(t.Sched.Weight) && t.Sched.Cap >= 0 && t.Sched.Cap <= 100*maxVCPUs)
}

// maxHostCPUs bounds the CPU numbers a state file may hold (config's
// MaxSimCPUs).
const maxHostCPUs = 4096

func validWeight(w int) bool { return w >= 1 && w <= 65535 }

// affinity is vCPU k's hard affinity: as pinned, else as configured, else
// every CPU of the host.
func (h *Host) affinity(t tuning, configured [][]int, k int) []int {
	if k < len(t.Affinity) && t.Affinity[k] != nil {
		return slices.Clone(t.Affinity[k])
	}
	if k < len(configured) && len(configured[k]) > 0 {
		return slices.Clone(configured[k])
	}
	return h.allCPUs()
}

// PinVCPU implements backend.VCPUPinner as Xen does: the hard affinity
// becomes the given CPUs that the host has, and a set with none of them
// is refused, as is a vCPU the domain lacks. Domain-0's vCPUs are
// pinned too.
func (h *Host) PinVCPU(ctx context.Context, id backend.DomID, vcpu int, cpus []int) error {
	var usable []int
	for _, c := range cpus {
		if c >= 0 && c < h.opts.Host.CPUs && !slices.Contains(usable, c) {
			usable = append(usable, c)
		}
	}
	slices.Sort(usable)
	return h.onTunable(ctx, id, func(t *tuning, maxVCPUs int) error {
		if vcpu < 0 || vcpu >= maxVCPUs {
			return fmt.Errorf("%w: domain %d has no vCPU %d", backend.ErrInvalid, id, vcpu)
		}
		if len(usable) == 0 {
			return fmt.Errorf("%w: no CPU of the host in the affinity of vCPU %d", backend.ErrInvalid, vcpu)
		}
		for len(t.Affinity) <= vcpu {
			t.Affinity = append(t.Affinity, nil)
		}
		t.Affinity[vcpu] = usable
		return nil
	})
}

// onTunable runs fn on the tuning of domain id, Domain-0's included,
// with its number of vCPUs, and saves the state if fn succeeds.
func (h *Host) onTunable(ctx context.Context, id backend.DomID, fn func(t *tuning, maxVCPUs int) error) error {
	if id == backend.Dom0 {
		return h.mutate(func(st *hostState) (bool, error) {
			if err := fn(&st.Dom0Tuning, h.opts.Host.CPUs); err != nil {
				return false, err
			}
			return true, nil
		})
	}
	return h.onGuest(ctx, id, func(st *hostState, g *guest, _ time.Time) error {
		return fn(&g.Tuning, g.VCPUsMax)
	})
}

// Scheduler implements backend.Scheduling: sim_scheduler.
func (h *Host) Scheduler(ctx context.Context) (backend.Scheduler, error) {
	return h.scheduler(), nil
}

// SchedulerNames are the schedulers sim_scheduler names, as xl names
// them: Xen's current ones, and sedf, which Xen no longer has.
var SchedulerNames = map[string]backend.Scheduler{
	"credit": backend.SchedCredit, "credit2": backend.SchedCredit2, "arinc653": backend.SchedARINC653,
	"rtds": backend.SchedRTDS, "null": backend.SchedNull, "sedf": backend.SchedSEDF,
}

func (h *Host) scheduler() backend.Scheduler {
	if s, ok := SchedulerNames[h.opts.Host.Scheduler]; ok {
		return s
	}
	return DefaultScheduler
}

// schedParams is a domain's current parameters: as set, else as its
// configuration gave them (a weight of 0 there is libxl's default).
func schedParams(t tuning, configuredWeight uint) backend.SchedParams {
	if t.Sched != nil {
		return *t.Sched
	}
	p := backend.SchedParams{Weight: DefaultWeight}
	if configuredWeight != 0 {
		p.Weight = int(configuredWeight)
	}
	return p
}

// SchedParams implements backend.Scheduling for credit and credit2; the
// host's other schedulers have no weight or cap, as libxl's
// sched_*_domain_get leave them at their defaults.
func (h *Host) SchedParams(ctx context.Context, id backend.DomID) (backend.SchedParams, error) {
	var p backend.SchedParams
	err := h.mutate(func(st *hostState) (bool, error) {
		if id == backend.Dom0 {
			p = schedParams(st.Dom0Tuning, 0)
			return false, nil
		}
		g, err := st.find(id)
		if err != nil {
			return false, err
		}
		p = schedParams(g.Tuning, configuredWeight(g))
		return false, nil
	})
	if err == nil && !h.hasWeights() {
		p = backend.SchedParams{Weight: backend.SchedParamDefault, Cap: backend.SchedParamDefault}
	}
	return p, err
}

func configuredWeight(g *guest) uint {
	if g.Config != nil && g.Config.BInfo.SchedParams != nil {
		return g.Config.BInfo.SchedParams.Weight
	}
	return 0
}

func (h *Host) hasWeights() bool {
	s := h.scheduler()
	return s == backend.SchedCredit || s == backend.SchedCredit2
}

// SetSchedParams implements backend.Scheduling with libxl's checks of
// sched_credit_domain_set and sched_credit2_domain_set: weight 1..65535,
// cap 0..100 per vCPU, fields at SchedParamDefault left as they are.
// Schedulers without per-domain parameters accept anything and keep
// nothing, as libxl's arinc653 and null do; libxl refuses sedf.
func (h *Host) SetSchedParams(ctx context.Context, id backend.DomID, p backend.SchedParams) error {
	switch h.scheduler() {
	case backend.SchedSEDF:
		return fmt.Errorf("%w: SEDF scheduler no longer available", backend.ErrFailed)
	case backend.SchedARINC653, backend.SchedNull, backend.SchedRTDS:
		return nil
	}
	return h.mutate(func(st *hostState) (bool, error) {
		t, maxVCPUs, weight := &st.Dom0Tuning, h.opts.Host.CPUs, uint(0)
		if id != backend.Dom0 {
			g, err := st.find(id)
			if err != nil {
				return false, err
			}
			t, maxVCPUs, weight = &g.Tuning, g.VCPUsMax, configuredWeight(g)
		}
		cur := schedParams(*t, weight)
		if p.Weight != backend.SchedParamDefault {
			if !validWeight(p.Weight) {
				return false, fmt.Errorf("%w: Cpu weight out of range, valid values are within range from 1 to 65535", backend.ErrInvalid)
			}
			cur.Weight = p.Weight
		}
		if p.Cap != backend.SchedParamDefault {
			if p.Cap < 0 || p.Cap > maxVCPUs*100 {
				return false, fmt.Errorf("%w: Cpu cap out of range, valid range is from 0 to %d for specified number of vcpus",
					backend.ErrInvalid, maxVCPUs*100)
			}
			cur.Cap = p.Cap
		}
		t.Sched = &cur
		return true, nil
	})
}

// NodeAffinity implements backend.NodeAffinity: the simulated host has
// one NUMA node, which every domain's memory is on.
func (h *Host) NodeAffinity(ctx context.Context, id backend.DomID) ([]int, error) {
	err := h.mutate(func(st *hostState) (bool, error) {
		if id == backend.Dom0 {
			return false, nil
		}
		_, err := st.find(id)
		return false, err
	})
	if err != nil {
		return nil, err
	}
	return []int{0}, nil
}

// SuspendToRAM implements backend.PMSuspender: a running guest suspends
// itself at once (its CPU time stops, its memory stays) and is then shut
// down with ReasonSuspend, as Xen shows a guest that libxl_domain_suspend_only
// suspended. A paused guest cannot act on the request: Xen 4.17's libxl
// waits 60 s for its acknowledgement, withdraws the request and then
// reports success (the rc of its xenstore commit, 0, replaces the timeout's
// error), leaving the guest paused and not suspended, so that a wakeup
// fails; test/xen's oracle showed it, libvirt's libxl driver and ours alike.
// Here the paused guest is left as it is at once.
func (h *Host) SuspendToRAM(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		switch {
		case g.Shutdown:
			return fmt.Errorf("%w: domain %d is shut down", backend.ErrFailed, id)
		case g.Paused:
			return nil
		}
		g.shutDown(now, backend.ReasonSuspend)
		return nil
	})
}

// Wakeup implements backend.PMSuspender: a guest suspended by
// SuspendToRAM, or by a save (Resume), runs again from where it stopped
// (libxl_domain_resume with suspend_cancel); any other guest is refused.
func (h *Host) Wakeup(ctx context.Context, id backend.DomID) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		return g.wake(now)
	})
}

// wake resumes a suspended guest; its CPU time runs again.
func (g *guest) wake(now time.Time) error {
	if !g.Shutdown || g.Reason != backend.ReasonSuspend {
		return fmt.Errorf("%w: domain %d is not suspended", backend.ErrInvalid, g.DomID)
	}
	g.Shutdown, g.Reason, g.ShutdownAt = false, 0, time.Time{}
	g.settle(now)
	return nil
}
