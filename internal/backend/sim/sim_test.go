package sim

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// fakeClock is a settable clock for time-based behaviour.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fakeClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func shape() Shape {
	return Shape{CPUs: 4, MemoryMiB: 8192, Dom0MemoryMiB: 2048, XenVersion: "4.17.0", CPUMHz: 2400}
}

func open(t *testing.T, dir string, clk *fakeClock) *Host {
	t.Helper()
	opts := Options{Dir: dir, Host: shape(), ShutdownDelay: -1, PollInterval: -1, KernelBootID: "boot-1"}
	if clk != nil {
		opts.Now = clk.Now
	}
	h, err := Open(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		h, err := Open(Options{Dir: t.TempDir(), Host: shape(), ShutdownDelay: time.Millisecond, PollInterval: time.Millisecond})
		if err != nil {
			t.Fatal(err)
		}
		return h
	})
}

// resettingHost is a simulated host on which the first guest of
// MigrateLive reboots itself during its live save, as a PVH guest under
// QEMU's TCG triple-faulted in its suspend on real Xen.
type resettingHost struct {
	*Host
	created int // guests of MigrateLive's first name
}

func (h *resettingHost) Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions) (backend.DomID, error) {
	if cfg.CInfo.Name == backendtest.MigrateName {
		if h.created++; h.created == 1 {
			opts.Metadata = `<sim:fault xmlns:sim="urn:virtxend:sim" reboot-after="0.2" save-rate="64"/>`
		}
	}
	return h.Host.Create(ctx, cfg, opts)
}

// A source that resets itself during its live move is replaced by a new
// guest, once, and the move then made with it.
func TestMigrateLiveReplacesAResetSource(t *testing.T) {
	h := &resettingHost{Host: open(t, t.TempDir(), nil)}
	backendtest.MigrateLive(t, h)
	if h.created != 2 {
		t.Errorf("%d guests named %s created, want 2", h.created, backendtest.MigrateName)
	}
}

func TestGuestsOutliveTheProcessView(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := open(t, dir, nil)
	id, err := a.Create(ctx, backendtest.Config("keep", 1, 65536, 2), backend.CreateOptions{Marker: "m"})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := open(t, dir, nil)
	gi, err := b.Guest(ctx, id)
	if err != nil || gi.Name != "keep" || gi.Marker != "m" || gi.VCPUsOnline != 2 {
		t.Fatalf("after reopen: %+v %v", gi, err)
	}
	next, _ := b.Create(ctx, backendtest.Config("next", 2, 65536, 1), backend.CreateOptions{})
	if next <= id {
		t.Fatalf("domid %d after %d", next, id)
	}
}

func TestHostRebootForgetsGuests(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := open(t, dir, nil)
	a.Create(ctx, backendtest.Config("gone", 1, 65536, 1), backend.CreateOptions{})
	before, _ := a.HostInfo(ctx)
	a.Close()
	b, err := Open(Options{Dir: dir, Host: shape(), PollInterval: -1, KernelBootID: "boot-2"})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	list, _ := b.Guests(ctx)
	after, _ := b.HostInfo(ctx)
	if len(list) != 1 || after.BootID == before.BootID {
		t.Fatalf("host did not reboot: %d guests, boot %s -> %s", len(list), before.BootID, after.BootID)
	}
}

func TestCPUTimeAccruesFromTimestamps(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	dir := t.TempDir()
	ctx := context.Background()
	h := open(t, dir, clk)
	id, _ := h.Create(ctx, backendtest.Config("cpu", 1, 65536, 2), backend.CreateOptions{})
	h.Close()
	clk.Add(10 * time.Second) // no process watches meanwhile
	h2 := open(t, dir, clk)
	first := 2 * busyTime(id, time.Unix(1000, 0), time.Unix(1010, 0))
	if gi, _ := h2.Guest(ctx, id); gi.CPUTime != first || first <= 0 {
		t.Fatalf("cpu time %v, want %v", gi.CPUTime, first)
	}
	h2.Pause(ctx, id)
	clk.Add(time.Hour)
	h2.Unpause(ctx, id)
	h2.SetVCPUsOnline(ctx, id, 1)
	resumed := clk.Now()
	clk.Add(5 * time.Second)
	if gi, _ := h2.Guest(ctx, id); gi.CPUTime != first+busyTime(id, resumed, clk.Now()) {
		t.Fatalf("cpu time %v", gi.CPUTime)
	}
}

func TestDelayedShutdownHappensWhileNobodyWatches(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	dir := t.TempDir()
	ctx := context.Background()
	h, err := Open(Options{Dir: dir, Host: shape(), ShutdownDelay: 30 * time.Second, PollInterval: -1, Now: clk.Now, KernelBootID: "b"})
	if err != nil {
		t.Fatal(err)
	}
	id, _ := h.Create(ctx, backendtest.Config("slow", 1, 65536, 1), backend.CreateOptions{})
	h.Shutdown(ctx, id, backend.ShutdownParavirt)
	if gi, _ := h.Guest(ctx, id); gi.State != backend.StateRunning {
		t.Fatalf("shut down before its delay: %v", gi.State)
	}
	h.Close()
	clk.Add(time.Minute)
	h2, _ := Open(Options{Dir: dir, Host: shape(), PollInterval: -1, Now: clk.Now, KernelBootID: "b"})
	defer h2.Close()
	ev := backendtest.WaitEvent(t, h2, id)
	if ev.Kind != backend.EventShutdown || ev.Reason != backend.ReasonPoweroff {
		t.Fatalf("event %+v", ev)
	}
	gi, _ := h2.Guest(ctx, id)
	if gi.State != backend.StateShutdown || gi.CPUTime != busyTime(id, time.Unix(1000, 0), time.Unix(1030, 0)) {
		t.Fatalf("guest %+v", gi)
	}
}

func TestFaults(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	h := open(t, t.TempDir(), clk)
	ctx := context.Background()
	withFault := func(name string, uuid byte, attrs string) (backend.DomID, error) {
		return h.Create(ctx, backendtest.Config(name, uuid, 65536, 1),
			backend.CreateOptions{Metadata: `<s:fault xmlns:s="urn:virtxend:sim" ` + attrs + `/>`})
	}
	if _, err := withFault("fail", 1, `start="fail"`); !errors.Is(err, backend.ErrFailed) {
		t.Fatalf("start fault: %v", err)
	}
	deaf, _ := withFault("deaf", 2, `shutdown="ignore"`)
	h.Shutdown(ctx, deaf, backend.ShutdownParavirt)
	h.Reboot(ctx, deaf)
	clk.Add(time.Hour)
	if gi, _ := h.Guest(ctx, deaf); gi.State != backend.StateRunning {
		t.Fatalf("ignored shutdown but %v", gi.State)
	}
	crashy, _ := withFault("crashy", 3, `crash-after="5"`)
	clk.Add(4 * time.Second)
	h.Poll()
	clk.Add(2 * time.Second)
	h.Poll()
	ev := backendtest.WaitEvent(t, h, crashy)
	if ev.Reason != backend.ReasonCrash {
		t.Fatalf("event %+v", ev)
	}
	if gi, _ := h.Guest(ctx, crashy); gi.CPUTime != busyTime(crashy, time.Unix(1000, 0).Add(time.Hour), time.Unix(1005, 0).Add(time.Hour)) {
		t.Fatalf("crashed at %v of cpu", gi.CPUTime)
	}
}

// TestDyingFault: a guest destroyed with a "dying" fault is listed as
// dying, holding its memory, until its time is up; meanwhile nothing acts
// on it, its name is free, and its death (when another process destroyed
// it) is reported at once, as libxl reports a dying domain's.
func TestDyingFault(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	dir := t.TempDir()
	h := open(t, dir, clk)
	outsider := open(t, dir, clk)
	ctx := context.Background()
	dying := backend.CreateOptions{Metadata: `<s:fault xmlns:s="urn:virtxend:sim" dying="5"/>`}
	free := func() uint64 { hi, _ := h.HostInfo(ctx); return hi.FreeMemKiB }
	before := free()
	id, _ := h.Create(ctx, backendtest.Config("g", 1, 65536, 1), dying)
	other, _ := h.Create(ctx, backendtest.Config("o", 2, 65536, 1), dying)
	if err := h.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := outsider.Vanish(ctx, other); err != nil {
		t.Fatal(err)
	}
	h.Poll()
	if ev := backendtest.WaitEvent(t, h, other); ev.Kind != backend.EventDeath {
		t.Fatalf("event %+v", ev)
	}
	states := map[backend.DomID]backend.State{}
	guests, _ := h.Guests(ctx)
	for _, g := range guests {
		states[g.DomID] = g.State
	}
	if states[id] != backend.StateDying || states[other] != backend.StateDying {
		t.Fatalf("after the destroys: %v", states)
	}
	if _, err := h.Guest(ctx, id); !errors.Is(err, backend.ErrNoGuest) {
		t.Fatalf("a dying guest's info: %v", err)
	}
	if err := h.Pause(ctx, id); !errors.Is(err, backend.ErrNoGuest) {
		t.Fatalf("a dying guest paused: %v", err)
	}
	if got := before - free(); got != 2*65536 {
		t.Fatalf("the dying guests hold %d KiB, want %d", got, 2*65536)
	}
	again, err := h.Create(ctx, backendtest.Config("g", 1, 65536, 1), backend.CreateOptions{})
	if err != nil {
		t.Fatalf("the name and uuid of a dying guest: %v", err)
	}
	clk.Add(5 * time.Second)
	guests, _ = h.Guests(ctx)
	if len(guests) != 2 || guests[1].DomID != again || before-free() != 65536 {
		t.Fatalf("5 s after the destroys: %+v, %d KiB used", guests, before-free())
	}
}

func TestGuestActionsAndVanish(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	daemon := open(t, dir, nil)
	outsider := open(t, dir, nil)
	id, _ := daemon.Create(ctx, backendtest.Config("g", 1, 65536, 1), backend.CreateOptions{})
	if err := outsider.GuestShutdown(ctx, id, backend.ReasonReboot); err != nil {
		t.Fatal(err)
	}
	daemon.Poll()
	if ev := backendtest.WaitEvent(t, daemon, id); ev.Reason != backend.ReasonReboot {
		t.Fatalf("event %+v", ev)
	}
	other, _ := daemon.Create(ctx, backendtest.Config("h", 2, 65536, 1), backend.CreateOptions{})
	if err := outsider.Vanish(ctx, other); err != nil {
		t.Fatal(err)
	}
	daemon.Poll()
	if ev := backendtest.WaitEvent(t, daemon, other); ev.Kind != backend.EventDeath {
		t.Fatalf("event %+v", ev)
	}
}

func TestDom0Balloon(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	ctx := context.Background()
	if err := h.SetMemoryTarget(ctx, backend.Dom0, 1024*1024); err != nil {
		t.Fatal(err)
	}
	hi, _ := h.HostInfo(ctx)
	if hi.FreeMemKiB != (8192-1024)*1024 {
		t.Fatalf("free %d", hi.FreeMemKiB)
	}
	if err := h.SetMemoryTarget(ctx, backend.Dom0, 1024); !errors.Is(err, backend.ErrFailed) {
		t.Fatalf("below minimum: %v", err)
	}
}

func TestCorruptStateRefused(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "host.json"), []byte("{"), 0o600)
	if _, err := Open(Options{Dir: dir, Host: shape(), PollInterval: -1}); err == nil {
		t.Fatal("corrupt state accepted")
	}
}

// TestOpenRemovesLeftoverTemp: a process killed while saving host.json
// leaves its temporary (the kill-point harness found them piling up); the
// next Open removes it and keeps the state.
func TestOpenRemovesLeftoverTemp(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := open(t, dir, nil)
	id, err := a.Create(ctx, backendtest.Config("kept", 1, 65536, 1), backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a.Close()
	leftover := filepath.Join(dir, ".host.json.tmp-12345")
	if err := os.WriteFile(leftover, []byte(`{"version":`), 0o600); err != nil {
		t.Fatal(err)
	}
	b := open(t, dir, nil)
	if _, err := os.Stat(leftover); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("leftover temporary: %v", err)
	}
	if gi, err := b.Guest(ctx, id); err != nil || gi.Name != "kept" {
		t.Fatalf("state after cleaning: %+v %v", gi, err)
	}
}

func TestBadShape(t *testing.T) {
	s := shape()
	s.Dom0MemoryMiB = s.MemoryMiB + 1
	if _, err := Open(Options{Dir: t.TempDir(), Host: s}); err == nil {
		t.Fatal("bad shape accepted")
	}
}

// TestKeepsConfig: the host keeps the configuration a guest was created
// from, as given and apart from the caller's value, across processes.
func TestKeepsConfig(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	cfg := backendtest.Config("kept", 1, 65536, 2)
	cfg.VFBs = []libxltypes.VFB{{DevID: -1, VNC: libxltypes.VNC{Enable: libxltypes.True, Display: 3}}}
	want, _ := cfg.JSON()
	id, err := open(t, dir, nil).Create(ctx, cfg, backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	cfg.VFBs[0].VNC.Display = 9
	got, err := open(t, dir, nil).GuestConfig(ctx, id)
	if err != nil || got == nil {
		t.Fatalf("config %v, %v", got, err)
	}
	if js, _ := got.JSON(); string(js) != string(want) {
		t.Errorf("kept\n%s\nwant\n%s", js, want)
	}
}

// TestStateWithoutConfigs: a host.json written before configurations
// were kept still loads; its guests run on, with no configuration.
func TestStateWithoutConfigs(t *testing.T) {
	dir := t.TempDir()
	old := `{"version":1,"boot_id":"b","kernel_boot_id":"boot-1","next_domid":2,"dom0_mem_kib":2097152,
"guests":[{"domid":1,"uuid":[1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16],"name":"old","max_mem_kib":65536,"target_mem_kib":65536,
"vcpus_max":1,"vcpus_online":1,"created_at":"2026-01-01T00:00:00Z","running_since":"2026-01-01T00:00:00Z"}]}`
	if err := os.WriteFile(filepath.Join(dir, "host.json"), []byte(old), 0o600); err != nil {
		t.Fatal(err)
	}
	h := open(t, dir, nil)
	ctx := context.Background()
	gi, err := h.Guest(ctx, 1)
	if err != nil || gi.Name != "old" || gi.State != backend.StateRunning {
		t.Fatalf("guest %+v, %v", gi, err)
	}
	if cfg, err := h.GuestConfig(ctx, 1); err != nil || cfg != nil {
		t.Fatalf("config %v, %v", cfg, err)
	}
}

// TestOutOfMemoryIsErrNoMemory: the simulated host says why it refuses a
// guest too big for its free memory.
func TestOutOfMemoryIsErrNoMemory(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	_, err := h.Create(context.Background(), backendtest.Config("big", 1, 7*1024*1024, 1), backend.CreateOptions{})
	if !errors.Is(err, backend.ErrNoMemory) {
		t.Fatalf("create: %v", err)
	}
}
