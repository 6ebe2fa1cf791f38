//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
#include <libxl_utils.h>

// vx_set_vcpuaffinity sets a vCPU's hard affinity to the n CPUs listed,
// as libvirt passes its map: libxl copies what fits the host's.
static int vx_set_vcpuaffinity(libxl_ctx *ctx, uint32_t domid, uint32_t vcpu, const int *cpus, int n)
{
	libxl_bitmap map;
	int i, rc;

	libxl_bitmap_init(&map);
	if (libxl_cpu_bitmap_alloc(ctx, &map, 0))
		return ERROR_NOMEM;
	for (i = 0; i < n; i++)
		if (cpus[i] >= 0 && cpus[i] < map.size * 8)
			libxl_bitmap_set(&map, cpus[i]);
	rc = libxl_set_vcpuaffinity(ctx, domid, vcpu, &map, NULL);
	libxl_bitmap_dispose(&map);
	return rc;
}

// vx_nodeaffinity writes the nodes of a domain's node affinity into
// nodes (at most max) and their number into *n.
static int vx_nodeaffinity(libxl_ctx *ctx, uint32_t domid, int *nodes, int max, int *n)
{
	libxl_bitmap map;
	int i, rc;

	*n = 0;
	libxl_bitmap_init(&map);
	if (libxl_node_bitmap_alloc(ctx, &map, 0))
		return ERROR_NOMEM;
	rc = libxl_domain_get_nodeaffinity(ctx, domid, &map);
	if (!rc) {
		libxl_for_each_set_bit(i, map) {
			if (*n < max)
				nodes[(*n)++] = i;
		}
	}
	libxl_bitmap_dispose(&map);
	return rc;
}

static int vx_sched_get(libxl_ctx *ctx, uint32_t domid, int *weight, int *cap)
{
	libxl_domain_sched_params p;
	int rc;

	libxl_domain_sched_params_init(&p);
	rc = libxl_domain_sched_params_get(ctx, domid, &p);
	*weight = p.weight;
	*cap = p.cap;
	libxl_domain_sched_params_dispose(&p);
	return rc;
}

// vx_sched_set is libvirt's set: the domain's parameters read, weight and
// cap replaced, written back (libxl leaves a field at -1 as it is).
static int vx_sched_set(libxl_ctx *ctx, uint32_t domid, int weight, int cap)
{
	libxl_domain_sched_params p;
	int rc;

	libxl_domain_sched_params_init(&p);
	rc = libxl_domain_sched_params_get(ctx, domid, &p);
	if (!rc) {
		p.weight = weight;
		p.cap = cap;
		rc = libxl_domain_sched_params_set(ctx, domid, &p);
	}
	libxl_domain_sched_params_dispose(&p);
	return rc;
}
*/
import "C"

import (
	"context"
	"fmt"

	"virtxend/internal/backend"
)

var (
	_ backend.VCPUPinner   = (*Backend)(nil)
	_ backend.Scheduling   = (*Backend)(nil)
	_ backend.NodeAffinity = (*Backend)(nil)
	_ backend.PMSuspender  = (*Backend)(nil)
)

// SetVCPUAffinity sets a vCPU's hard affinity (libxl_set_vcpuaffinity).
func (c *Context) SetVCPUAffinity(domid uint32, vcpu int, cpus []int) error {
	defer c.hold()()
	cs := make([]C.int, len(cpus)+1) // never empty, for the pointer
	for i, v := range cpus {
		cs[i] = C.int(v)
	}
	return c.check("libxl_set_vcpuaffinity",
		C.vx_set_vcpuaffinity(c.ctx, C.uint32_t(domid), C.uint32_t(vcpu), &cs[0], C.int(len(cpus))))
}

// Scheduler is libxl_get_scheduler: the scheduler of Domain-0's pool.
func (c *Context) Scheduler() (backend.Scheduler, error) {
	defer c.hold()()
	s := C.libxl_get_scheduler(c.ctx)
	if s < 0 {
		return backend.SchedUnknown, c.fail("libxl_get_scheduler", C.int(s))
	}
	return backend.Scheduler(s), nil
}

// SchedParams is libxl_domain_sched_params_get's weight and cap.
func (c *Context) SchedParams(domid uint32) (backend.SchedParams, error) {
	defer c.hold()()
	var w, cp C.int
	if rc := C.vx_sched_get(c.ctx, C.uint32_t(domid), &w, &cp); rc != 0 {
		return backend.SchedParams{}, c.fail("libxl_domain_sched_params_get", rc)
	}
	return backend.SchedParams{Weight: int(w), Cap: int(cp)}, nil
}

// SetSchedParams is libxl_domain_sched_params_set of weight and cap.
func (c *Context) SetSchedParams(domid uint32, p backend.SchedParams) error {
	defer c.hold()()
	return c.check("libxl_domain_sched_params_set",
		C.vx_sched_set(c.ctx, C.uint32_t(domid), C.int(p.Weight), C.int(p.Cap)))
}

// NodeAffinity is libxl_domain_get_nodeaffinity as a list of nodes.
func (c *Context) NodeAffinity(domid uint32) ([]int, error) {
	defer c.hold()()
	max := int(C.libxl_get_max_nodes(c.ctx))
	if max <= 0 {
		return nil, fmt.Errorf("libxl_get_max_nodes: %d: %w", max, backend.ErrFailed)
	}
	nodes := make([]C.int, max)
	var n C.int
	if rc := C.vx_nodeaffinity(c.ctx, C.uint32_t(domid), &nodes[0], C.int(max), &n); rc != 0 {
		return nil, c.fail("libxl_domain_get_nodeaffinity", rc)
	}
	out := make([]int, int(n))
	for i := range out {
		out[i] = int(nodes[i])
	}
	return out, nil
}

// SuspendOnly suspends a domain without saving it
// (libxl_domain_suspend_only): the guest suspends itself and stays
// shut down for suspend, its memory kept.
func (c *Context) SuspendOnly(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_suspend_only", C.libxl_domain_suspend_only(c.ctx, C.uint32_t(domid), nil))
}

// ResumeCancel resumes a suspended domain co-operatively
// (libxl_domain_resume with suspend_cancel).
func (c *Context) ResumeCancel(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_resume", C.libxl_domain_resume(c.ctx, C.uint32_t(domid), 1, nil))
}

// PinVCPU implements backend.VCPUPinner.
func (b *Backend) PinVCPU(ctx context.Context, id backend.DomID, vcpu int, cpus []int) error {
	if vcpu < 0 {
		return fmt.Errorf("%w: vCPU %d", backend.ErrInvalid, vcpu)
	}
	return b.guestErr(id, b.c.SetVCPUAffinity(uint32(id), vcpu, cpus))
}

// Scheduler implements backend.Scheduling.
func (b *Backend) Scheduler(ctx context.Context) (backend.Scheduler, error) {
	return b.c.Scheduler()
}

// SchedParams implements backend.Scheduling.
func (b *Backend) SchedParams(ctx context.Context, id backend.DomID) (backend.SchedParams, error) {
	p, err := b.c.SchedParams(uint32(id))
	return p, b.guestErr(id, err)
}

// SetSchedParams implements backend.Scheduling.
func (b *Backend) SetSchedParams(ctx context.Context, id backend.DomID, p backend.SchedParams) error {
	return b.guestErr(id, b.c.SetSchedParams(uint32(id), p))
}

// NodeAffinity implements backend.NodeAffinity.
func (b *Backend) NodeAffinity(ctx context.Context, id backend.DomID) ([]int, error) {
	nodes, err := b.c.NodeAffinity(uint32(id))
	return nodes, b.guestErr(id, err)
}

// SuspendToRAM implements backend.PMSuspender.
func (b *Backend) SuspendToRAM(ctx context.Context, id backend.DomID) error {
	return b.guestErr(id, b.c.SuspendOnly(uint32(id)))
}

// Wakeup implements backend.PMSuspender.
func (b *Backend) Wakeup(ctx context.Context, id backend.DomID) error {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return err
	}
	if !info.Shutdown || backend.ShutdownReason(info.ShutdownCode) != backend.ReasonSuspend {
		return fmt.Errorf("%w: domain %d is not suspended", backend.ErrInvalid, id)
	}
	return b.guestErr(id, b.resumeSuspended(id))
}
