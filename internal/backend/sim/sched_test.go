package sim

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// TestTuningPersists: pins and scheduler parameters are host state, read
// back by another process attached to the same host.
func TestTuningPersists(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := open(t, dir, nil)
	id, err := a.Create(ctx, backendtest.Config("tuned", 1, 65536, 3), backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := a.PinVCPU(ctx, id, 2, []int{3, 1, 1, 9}); err != nil {
		t.Fatal(err)
	}
	if err := a.SetSchedParams(ctx, id, backend.SchedParams{Weight: 512, Cap: 50}); err != nil {
		t.Fatal(err)
	}
	if err := a.PinVCPU(ctx, backend.Dom0, 0, []int{2}); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := open(t, dir, nil)
	p, err := b.SchedParams(ctx, id)
	if err != nil || p != (backend.SchedParams{Weight: 512, Cap: 50}) {
		t.Fatalf("parameters after reopen: %+v %v", p, err)
	}
	s, err := b.Stats(ctx, []backend.DomID{backend.Dom0, id})
	if err != nil || len(s) != 2 {
		t.Fatalf("stats: %+v %v", s, err)
	}
	v := s[1].VCPUs
	if !slices.Equal(v[2].Affinity, []int{1, 3}) || (v[2].CPU != 1 && v[2].CPU != 3) {
		t.Errorf("vCPU 2, pinned to 1 and 3 (9 is not a host CPU): %+v", v[2])
	}
	if !slices.Equal(v[0].Affinity, []int{0, 1, 2, 3}) || !slices.Equal(v[1].Affinity, []int{0, 1, 2, 3}) {
		t.Errorf("unpinned vCPUs: %+v", v)
	}
	if d := s[0].VCPUs[0]; !slices.Equal(d.Affinity, []int{2}) || d.CPU != 2 {
		t.Errorf("Domain-0's vCPU 0 pinned to CPU 2: %+v", d)
	}
}

// TestPinFromConfigThenPinned: a vCPU keeps its configuration's affinity
// until pinned; a new domain (a reboot) starts from the configuration.
func TestPinFromConfigThenPinned(t *testing.T) {
	ctx := context.Background()
	h := open(t, t.TempDir(), nil)
	cfg := backendtest.Config("cfgpin", 1, 65536, 2)
	cfg.BInfo.VCPUHardAffinity = [][]int{{1}}
	cfg.BInfo.SchedParams = &libxltypes.SchedParams{Weight: 128}
	id, err := h.Create(ctx, cfg, backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	v := vcpus(t, h, id)
	if !slices.Equal(v[0].Affinity, []int{1}) || v[0].CPU != 1 {
		t.Fatalf("configured affinity: %+v", v[0])
	}
	if p, _ := h.SchedParams(ctx, id); p != (backend.SchedParams{Weight: 128}) {
		t.Fatalf("configured weight: %+v", p)
	}
	if err := h.PinVCPU(ctx, id, 0, []int{0, 2}); err != nil {
		t.Fatal(err)
	}
	if v := vcpus(t, h, id); !slices.Equal(v[0].Affinity, []int{0, 2}) {
		t.Fatalf("pinned: %+v", v[0])
	}
	for _, bad := range []struct {
		vcpu int
		cpus []int
	}{{0, nil}, {0, []int{4, -1}}, {2, []int{0}}, {-1, []int{0}}} {
		if err := h.PinVCPU(ctx, id, bad.vcpu, bad.cpus); !errors.Is(err, backend.ErrInvalid) {
			t.Errorf("pin vCPU %d to %v: %v", bad.vcpu, bad.cpus, err)
		}
	}
	h.Destroy(ctx, id)
	id2, _ := h.Create(ctx, cfg, backend.CreateOptions{})
	if v := vcpus(t, h, id2); !slices.Equal(v[0].Affinity, []int{1}) {
		t.Fatalf("new domain from the same configuration: %+v", v[0])
	}
}

func vcpus(t *testing.T, h *Host, id backend.DomID) []backend.VCPUStats {
	t.Helper()
	s, err := h.Stats(context.Background(), []backend.DomID{id})
	if err != nil || len(s) != 1 {
		t.Fatalf("stats of %d: %+v %v", id, s, err)
	}
	return s[0].VCPUs
}

// TestSchedulers: sim_scheduler names the scheduler; those without
// weights report libxl's defaults and take any parameters, sedf none.
func TestSchedulers(t *testing.T) {
	ctx := context.Background()
	for name, want := range SchedulerNames {
		sh := shape()
		sh.Scheduler = name
		h, err := Open(Options{Dir: t.TempDir(), Host: sh, PollInterval: -1, KernelBootID: "b"})
		if err != nil {
			t.Fatal(err)
		}
		defer h.Close()
		if got, _ := h.Scheduler(ctx); got != want {
			t.Errorf("%s: scheduler %v", name, got)
		}
		id, _ := h.Create(ctx, backendtest.Config("s", 1, 65536, 1), backend.CreateOptions{})
		err = h.SetSchedParams(ctx, id, backend.SchedParams{Weight: 7, Cap: 7})
		p, _ := h.SchedParams(ctx, id)
		switch want {
		case backend.SchedCredit, backend.SchedCredit2:
			if err != nil || p != (backend.SchedParams{Weight: 7, Cap: 7}) {
				t.Errorf("%s: %+v %v", name, p, err)
			}
		case backend.SchedSEDF:
			if !errors.Is(err, backend.ErrFailed) {
				t.Errorf("%s: set gave %v", name, err)
			}
		default:
			if err != nil || p.Weight != backend.SchedParamDefault {
				t.Errorf("%s: %+v %v", name, p, err)
			}
		}
	}
	sh := shape()
	sh.Scheduler = "bvt"
	if _, err := Open(Options{Dir: t.TempDir(), Host: sh, PollInterval: -1}); err == nil {
		t.Error("unknown scheduler accepted")
	}
}

// TestSuspendToRAM: a suspended guest stops accruing CPU time and reports
// a suspend shutdown, which another process sees as an event too; woken
// up it runs on; a paused guest does not suspend, though the call succeeds
// (as libxl's does on Xen 4.17), and cannot be woken up.
func TestSuspendToRAM(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	dir := t.TempDir()
	ctx := context.Background()
	h := open(t, dir, clk)
	id, _ := h.Create(ctx, backendtest.Config("pm", 1, 65536, 1), backend.CreateOptions{})
	watcher := open(t, dir, clk)
	clk.Add(time.Second)
	if err := h.SuspendToRAM(ctx, id); err != nil {
		t.Fatal(err)
	}
	at, _ := h.Guest(ctx, id)
	clk.Add(time.Hour)
	gi, _ := h.Guest(ctx, id)
	if gi.State != backend.StateShutdown || gi.ShutdownReason != backend.ReasonSuspend || gi.CPUTime != at.CPUTime || gi.CPUTime == 0 {
		t.Fatalf("suspended: %+v (CPU time at the suspend %v)", gi, at.CPUTime)
	}
	watcher.Poll()
	if ev := backendtest.WaitEvent(t, watcher, id); ev.Kind != backend.EventShutdown || ev.Reason != backend.ReasonSuspend {
		t.Fatalf("event: %+v", ev)
	}
	if err := h.SuspendToRAM(ctx, id); !errors.Is(err, backend.ErrFailed) {
		t.Errorf("suspending a suspended guest: %v", err)
	}
	if err := h.Wakeup(ctx, id); err != nil {
		t.Fatal(err)
	}
	clk.Add(time.Second)
	if gi, _ := h.Guest(ctx, id); gi.State != backend.StateRunning || gi.CPUTime <= at.CPUTime {
		t.Fatalf("woken: %+v (CPU time at the suspend %v)", gi, at.CPUTime)
	}
	if err := h.Wakeup(ctx, id); !errors.Is(err, backend.ErrInvalid) {
		t.Errorf("waking a running guest: %v", err)
	}
	h.Pause(ctx, id)
	if err := h.SuspendToRAM(ctx, id); err != nil {
		t.Errorf("suspending a paused guest: %v", err)
	}
	if gi, _ := h.Guest(ctx, id); gi.State != backend.StatePaused {
		t.Errorf("a paused guest after the suspend: %+v", gi)
	}
	if err := h.Wakeup(ctx, id); !errors.Is(err, backend.ErrInvalid) {
		t.Errorf("waking a paused guest: %v", err)
	}
	if err := h.SuspendToRAM(ctx, backend.Dom0); !errors.Is(err, backend.ErrInvalid) {
		t.Errorf("suspending Domain-0: %v", err)
	}
}

// TestTuningStateChecked: a state file with tuning no host could have
// set is refused.
func TestTuningStateChecked(t *testing.T) {
	for _, tu := range []tuning{
		{Affinity: [][]int{{0}, {0}, {0}}},
		{Affinity: [][]int{{-1}}},
		{Sched: &backend.SchedParams{Weight: 0}},
		{Sched: &backend.SchedParams{Weight: 1, Cap: 201}},
	} {
		st := &hostState{Version: stateVersion, NextDomID: 2, Guests: []*guest{{DomID: 1, Name: "g", VCPUsMax: 2, VCPUsOnline: 1, Tuning: tu}}}
		if err := st.check(); err == nil {
			t.Errorf("%+v accepted", tu)
		}
	}
}
