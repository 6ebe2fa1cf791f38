package backendtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"

	"virtxend/internal/backend"
)

// vcpuStats reads one domain's vCPUs.
func vcpuStats(t *testing.T, b backend.Backend, id backend.DomID) []backend.VCPUStats {
	t.Helper()
	s := stats(t, b, []backend.DomID{id})
	if len(s) != 1 {
		t.Fatalf("stats of domain %d: %+v", id, s)
	}
	return s[0].VCPUs
}

// testPinVCPU: a pinned vCPU's hard affinity is the CPUs asked for, and
// the hypervisor moves it to one of them at once, paused or not (the
// guest is left paused: nothing here needs it to boot); a set of CPUs the
// host lacks and a vCPU the guest lacks are refused.
func testPinVCPU(t *testing.T, b backend.Backend) {
	p, ok := b.(backend.VCPUPinner)
	if !ok {
		t.Skip("backend cannot pin vCPUs")
	}
	ctx := context.Background()
	host, err := b.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, b, Config("conf-pin", 20, 128*1024, 2), true)
	defer b.Destroy(ctx, id)
	last := host.CPUs - 1
	if err := p.PinVCPU(ctx, id, 0, []int{last}); err != nil {
		t.Fatalf("pin vCPU 0 to CPU %d: %v", last, err)
	}
	v := vcpuStats(t, b, id)
	if len(v) != 2 || !slices.Equal(v[0].Affinity, []int{last}) || v[0].CPU != last {
		t.Fatalf("after pinning vCPU 0 to CPU %d: %+v", last, v)
	}
	if len(v[1].Affinity) < host.CPUs {
		t.Fatalf("vCPU 1 lost its affinity: %+v", v[1])
	}
	if err := p.PinVCPU(ctx, id, 0, []int{host.MaxCPUs + 7}); err == nil {
		t.Error("pinning to a CPU the host lacks succeeded")
	}
	if err := p.PinVCPU(ctx, id, 5, []int{0}); err == nil {
		t.Error("pinning vCPU 5 of 2 succeeded")
	}
	if err := p.PinVCPU(ctx, 99999, 0, []int{0}); !errors.Is(err, backend.ErrNoGuest) {
		t.Errorf("pinning a vCPU of no domain: %v", err)
	}
}

// testScheduling: under credit or credit2 a new guest has weight 256 and
// no cap; a weight and cap set are read back, parameters left at
// SchedParamDefault stay, and values libxl refuses change nothing.
func testScheduling(t *testing.T, b backend.Backend) {
	s, ok := b.(backend.Scheduling)
	if !ok {
		t.Skip("backend has no scheduler parameters")
	}
	ctx := context.Background()
	sched, err := s.Scheduler(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if sched != backend.SchedCredit && sched != backend.SchedCredit2 {
		t.Skipf("host runs %v, which has no weight or cap", sched)
	}
	id := create(t, b, Config("conf-sched", 21, 128*1024, 2), true) // no boot needed
	defer b.Destroy(ctx, id)
	read := func() backend.SchedParams {
		t.Helper()
		p, err := s.SchedParams(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := read(); p != (backend.SchedParams{Weight: 256, Cap: 0}) {
		t.Fatalf("new guest's parameters: %+v", p)
	}
	if err := s.SetSchedParams(ctx, id, backend.SchedParams{Weight: 512, Cap: 50}); err != nil {
		t.Fatal(err)
	}
	if p := read(); p != (backend.SchedParams{Weight: 512, Cap: 50}) {
		t.Fatalf("after setting weight 512 and cap 50: %+v", p)
	}
	if err := s.SetSchedParams(ctx, id, backend.SchedParams{Weight: 1000, Cap: backend.SchedParamDefault}); err != nil {
		t.Fatal(err)
	}
	if p := read(); p != (backend.SchedParams{Weight: 1000, Cap: 50}) {
		t.Fatalf("after setting only the weight: %+v", p)
	}
	for _, bad := range []backend.SchedParams{{Weight: 0, Cap: 10}, {Weight: 65536, Cap: 10}, {Weight: 300, Cap: 201}, {Weight: 300, Cap: -2}} {
		if err := s.SetSchedParams(ctx, id, bad); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("setting %+v: %v, want ErrInvalid", bad, err)
		}
	}
	if p := read(); p != (backend.SchedParams{Weight: 1000, Cap: 50}) {
		t.Fatalf("refused values changed the parameters: %+v", p)
	}
	if _, err := s.SchedParams(ctx, 99999); err == nil {
		t.Error("parameters of no domain")
	}
}

// testNodeAffinity: a guest's memory is on some of the host's nodes.
func testNodeAffinity(t *testing.T, b backend.Backend) {
	n, ok := b.(backend.NodeAffinity)
	if !ok {
		t.Skip("backend reports no node affinity")
	}
	ctx := context.Background()
	host, err := b.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	id := create(t, b, Config("conf-numa", 22, 64*1024, 1), true)
	defer b.Destroy(ctx, id)
	nodes, err := n.NodeAffinity(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if len(nodes) == 0 {
		t.Fatal("no node")
	}
	for _, node := range nodes {
		if node < 0 || node >= max(host.Nodes, 1) {
			t.Errorf("node %d of %d", node, host.Nodes)
		}
	}
}

// testPMSuspend: a suspended guest is shut down for suspend and keeps
// its memory; woken up it runs again with the same id and acts on
// requests; only a suspended guest can be woken. A real guest acknowledges
// the suspend request through xenstore, so the test first waits for its
// balloon driver to act, which needs xenstore too.
func testPMSuspend(t *testing.T, b backend.Backend) {
	p, ok := b.(backend.PMSuspender)
	if !ok {
		t.Skip("backend cannot suspend guests")
	}
	ctx := context.Background()
	id := create(t, b, Config("conf-pm", 23, 256*1024, 1), false)
	defer b.Destroy(ctx, id)
	balloon := func(kib uint64) {
		t.Helper()
		if err := b.SetMemoryTarget(ctx, id, kib); err != nil {
			t.Fatal(err)
		}
		Eventually(t, b, id, fmt.Sprintf("memory target %d KiB", kib), func(gi backend.GuestInfo) bool { return gi.CurrentMemKiB == kib })
	}
	balloon(192 * 1024)
	if err := p.Wakeup(ctx, id); err == nil {
		t.Error("woke up a running guest")
	}
	if err := p.SuspendToRAM(ctx, id); err != nil {
		t.Fatal(err)
	}
	gi := Eventually(t, b, id, "suspended", func(gi backend.GuestInfo) bool { return gi.State == backend.StateShutdown })
	if gi.ShutdownReason != backend.ReasonSuspend || gi.CurrentMemKiB == 0 {
		t.Fatalf("suspended guest: %+v", gi)
	}
	if err := p.Wakeup(ctx, id); err != nil {
		t.Fatal(err)
	}
	gi = guest(t, b, id)
	if gi.State == backend.StateShutdown || gi.State == backend.StateDying || gi.DomID != id {
		t.Fatalf("woken guest: %+v", gi)
	}
	balloon(160 * 1024)
}
