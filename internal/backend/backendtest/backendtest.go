// Package backendtest is the conformance suite every hypervisor backend
// passes: run it from the backend's own tests with a factory that returns a
// fresh backend (with short shutdown delays, so the suite stays fast).
package backendtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// EventWait bounds how long the suite waits for an event the backend owes.
// It guards against hangs only; nothing is asserted about speed.
const EventWait = 60 * time.Second

// Config returns a small PV guest's libxl configuration for tests, as
// the translation makes it of a definition with a kernel and no devices.
func Config(name string, uuid byte, memKiB uint64, vcpus int) *libxltypes.DomainConfig {
	avail := make([]int, vcpus)
	for i := range avail {
		avail[i] = i
	}
	return &libxltypes.DomainConfig{
		CInfo: libxltypes.CreateInfo{
			Type: "pv", Name: name,
			UUID: fmt.Sprintf("%02x345678-1234-1234-1234-123456789abc", uuid),
		},
		BInfo: libxltypes.BuildInfo{
			MaxVCPUs: vcpus, AvailVCPUs: avail,
			MaxMemKiB: memKiB, TargetMemKiB: memKiB,
			Kernel: "/boot/vmlinuz", PV: &libxltypes.PVInfo{},
		},
		OnPower: "destroy", OnReboot: "restart", OnCrash: "destroy",
	}
}

// Run runs the suite against backends made by newBackend.
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	tests := []struct {
		name string
		fn   func(*testing.T, backend.Backend)
	}{
		{"HostInfo", testHostInfo},
		{"Dom0Listed", testDom0Listed},
		{"CreateDestroy", testCreateDestroy},
		{"DomIDsIncrease", testDomIDsIncrease},
		{"CreatePaused", testCreatePaused},
		{"PauseUnpause", testPauseUnpause},
		{"ShutdownEvent", testShutdownEvent},
		{"RebootEvent", testRebootEvent},
		{"MemoryAndVCPUs", testMemoryAndVCPUs},
		{"OutOfMemory", testOutOfMemory},
		{"Stats", testStats},
		{"PinVCPU", testPinVCPU},
		{"Scheduling", testScheduling},
		{"NodeAffinity", testNodeAffinity},
		{"PMSuspend", testPMSuspend},
		{"SaveRestore", testSaveRestore},
		{"MigrateLive", MigrateLive},
		{"NoSuchGuest", testNoSuchGuest},
		{"Hotplug", testHotplug},
		{"HotplugNoSuch", testHotplugNoSuch},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := newBackend(t)
			t.Cleanup(func() { b.Close() })
			tc.fn(t, b)
		})
	}
}

func create(t *testing.T, b backend.Backend, cfg *libxltypes.DomainConfig, paused bool) backend.DomID {
	t.Helper()
	id, err := b.Create(context.Background(), cfg, backend.CreateOptions{Paused: paused, Marker: "conformance"})
	if err != nil {
		t.Fatalf("create %s: %v", cfg.CInfo.Name, err)
	}
	if id == backend.Dom0 {
		t.Fatalf("create %s returned domid 0", cfg.CInfo.Name)
	}
	return id
}

func guest(t *testing.T, b backend.Backend, id backend.DomID) backend.GuestInfo {
	t.Helper()
	gi, err := b.Guest(context.Background(), id)
	if err != nil {
		t.Fatalf("guest %d: %v", id, err)
	}
	return gi
}

// Eventually polls guest id until ok holds, for real guests that take a
// while to act on a request (a booting kernel bringing its vCPUs up, a
// balloon driver reaching its target); a backend that acts at once passes
// on the first look. It fails after EventWait, showing the last look.
func Eventually(t *testing.T, b backend.Backend, id backend.DomID, what string, ok func(backend.GuestInfo) bool) backend.GuestInfo {
	t.Helper()
	deadline := time.Now().Add(EventWait)
	for {
		gi := guest(t, b, id)
		if ok(gi) {
			return gi
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s: not so after %v: %+v", what, EventWait, gi)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGone waits until the destroyed guest id is gone. Xen lists a
// destroyed domain as dying until the last of its pages is released (a
// real-Xen run saw it listed right after libxl_domain_destroy returned);
// any other state is a destroy that did not happen.
func waitGone(t *testing.T, b backend.Backend, id backend.DomID) {
	t.Helper()
	deadline := time.Now().Add(EventWait)
	for {
		gi, err := b.Guest(context.Background(), id)
		switch {
		case errors.Is(err, backend.ErrNoGuest):
			return
		case err != nil:
			t.Fatalf("after destroy: %v", err)
		case gi.State != backend.StateDying:
			t.Fatalf("after destroy: %+v", gi)
		case time.Now().After(deadline):
			t.Fatalf("still dying %v after its destroy: %+v", EventWait, gi)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// WaitEvent waits for the next event about id, skipping others.
func WaitEvent(t *testing.T, b backend.Backend, id backend.DomID) backend.Event {
	t.Helper()
	deadline := time.After(EventWait)
	for {
		select {
		case ev, ok := <-b.Events():
			if !ok {
				t.Fatal("event channel closed")
			}
			if ev.DomID == id {
				return ev
			}
		case <-deadline:
			t.Fatalf("no event for domain %d", id)
		}
	}
}

func testHostInfo(t *testing.T, b backend.Backend) {
	hi, err := b.HostInfo(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if hi.CPUs <= 0 || hi.MaxCPUs < hi.CPUs || hi.TotalMemKiB == 0 || hi.FreeMemKiB > hi.TotalMemKiB {
		t.Fatalf("implausible host: %+v", hi)
	}
	if hi.XenMajor < 4 || hi.Arch == "" || hi.BootID == "" || hi.PageSizeKiB == 0 {
		t.Fatalf("implausible host: %+v", hi)
	}
	if hi.HWVirt != "" && hi.HWVirt != "vmx" && hi.HWVirt != "svm" {
		t.Fatalf("hardware virtualisation %q, want vmx, svm or none", hi.HWVirt)
	}
}

func testDom0Listed(t *testing.T, b backend.Backend) {
	list, err := b.Guests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(list) == 0 || list[0].DomID != backend.Dom0 || list[0].UUID != (backend.UUID{}) {
		t.Fatalf("Domain-0 not first: %+v", list)
	}
	if list[0].State != backend.StateRunning && list[0].State != backend.StateBlocked {
		t.Fatalf("Domain-0 state %v", list[0].State)
	}
}

func testCreateDestroy(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	before, _ := b.HostInfo(ctx)
	cfg := Config("conf-create", 1, 128*1024, 2)
	need, err := b.NeedMemory(ctx, cfg)
	if err != nil || need < 128*1024 {
		t.Fatalf("need %d, %v", need, err)
	}
	id := create(t, b, cfg, false)
	gi := guest(t, b, id)
	if gi.Name != cfg.CInfo.Name || gi.UUID.String() != cfg.CInfo.UUID || gi.Marker != "conformance" {
		t.Fatalf("identity: %+v", gi)
	}
	if gi.State != backend.StateRunning && gi.State != backend.StateBlocked {
		t.Fatalf("state %v", gi.State)
	}
	if gi.MaxMemKiB != 128*1024 || gi.VCPUsMax != 2 {
		t.Fatalf("shape: %+v", gi)
	}
	// A real guest brings its secondary vCPUs up as it boots.
	Eventually(t, b, id, "both vCPUs online", func(gi backend.GuestInfo) bool { return gi.VCPUsOnline == 2 })
	// need is an upper bound (libxl's includes slack the guest may never
	// take); the guest's own memory is surely gone from the free pool.
	after, _ := b.HostInfo(ctx)
	if after.FreeMemKiB+128*1024 > before.FreeMemKiB {
		t.Fatalf("free memory %d -> %d, guest has 128 MiB (needs %d)", before.FreeMemKiB, after.FreeMemKiB, need)
	}
	list, _ := b.Guests(ctx)
	if !listed(list, id) {
		t.Fatalf("guest %d not listed", id)
	}
	if err := b.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitGone(t, b, id)
	// Our own destroy produces no death event.
	select {
	case ev := <-b.Events():
		if ev.DomID == id {
			t.Fatalf("unexpected event %+v", ev)
		}
	default:
	}
}

func listed(list []backend.GuestInfo, id backend.DomID) bool {
	for _, g := range list {
		if g.DomID == id {
			return true
		}
	}
	return false
}

func testDomIDsIncrease(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	a := create(t, b, Config("conf-a", 2, 64*1024, 1), false)
	if err := b.Destroy(ctx, a); err != nil {
		t.Fatal(err)
	}
	c := create(t, b, Config("conf-a", 2, 64*1024, 1), false)
	if c <= a {
		t.Fatalf("domid reused or decreased: %d then %d", a, c)
	}
	b.Destroy(ctx, c)
}

func testCreatePaused(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	id := create(t, b, Config("conf-paused", 3, 64*1024, 1), true)
	if gi := guest(t, b, id); gi.State != backend.StatePaused {
		t.Fatalf("state %v", gi.State)
	}
	if err := b.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if gi := guest(t, b, id); gi.State == backend.StatePaused {
		t.Fatal("still paused")
	}
	// An NMI reaches a running guest (what it does then is the guest's).
	if err := b.InjectNMI(ctx, id); err != nil {
		t.Fatalf("NMI: %v", err)
	}
	b.Destroy(ctx, id)
}

func testPauseUnpause(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	id := create(t, b, Config("conf-pause", 4, 64*1024, 1), false)
	if err := b.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	gi := guest(t, b, id)
	if gi.State != backend.StatePaused {
		t.Fatalf("state %v", gi.State)
	}
	// A paused guest accrues no CPU time.
	if again := guest(t, b, id); again.CPUTime != gi.CPUTime {
		t.Fatalf("cpu time moved while paused: %v -> %v", gi.CPUTime, again.CPUTime)
	}
	if err := b.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	if gi := guest(t, b, id); gi.State == backend.StatePaused {
		t.Fatal("still paused")
	}
	b.Destroy(ctx, id)
}

func testShutdownEvent(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	id := create(t, b, Config("conf-shutdown", 5, 64*1024, 1), false)
	if err := b.Shutdown(ctx, id, backend.ShutdownParavirt); err != nil {
		t.Fatal(err)
	}
	ev := WaitEvent(t, b, id)
	if ev.Kind != backend.EventShutdown || ev.Reason != backend.ReasonPoweroff {
		t.Fatalf("event %+v", ev)
	}
	if gi := guest(t, b, id); gi.State != backend.StateShutdown || gi.ShutdownReason != backend.ReasonPoweroff {
		t.Fatalf("after shutdown: %+v", gi)
	}
	if err := b.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
}

func testRebootEvent(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	id := create(t, b, Config("conf-reboot", 6, 64*1024, 1), false)
	if err := b.Reboot(ctx, id); err != nil {
		t.Fatal(err)
	}
	ev := WaitEvent(t, b, id)
	if ev.Kind != backend.EventShutdown || ev.Reason != backend.ReasonReboot {
		t.Fatalf("event %+v", ev)
	}
	b.Destroy(ctx, id)
}

func testMemoryAndVCPUs(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	id := create(t, b, Config("conf-tune", 7, 256*1024, 4), false)
	if err := b.SetMemoryTarget(ctx, id, 128*1024); err != nil {
		t.Fatal(err)
	}
	if err := b.SetVCPUsOnline(ctx, id, 2); err != nil {
		t.Fatal(err)
	}
	// The guest acts on both: its balloon driver gives memory back, its
	// kernel takes vCPUs offline.
	Eventually(t, b, id, "memory target 128 MiB and 2 of 4 vCPUs online", func(gi backend.GuestInfo) bool {
		return gi.CurrentMemKiB == 128*1024 && gi.VCPUsOnline == 2 && gi.VCPUsMax == 4
	})
	if err := b.SetMaxMemory(ctx, id, 192*1024); err != nil {
		t.Fatal(err)
	}
	if gi := guest(t, b, id); gi.MaxMemKiB != 192*1024 {
		t.Fatalf("max memory %d", gi.MaxMemKiB)
	}
	b.Destroy(ctx, id)
}

// testOutOfMemory: a guest bigger than the host is refused and leaves no
// guest behind. Which error is the backend's: libxl fails in its own way.
func testOutOfMemory(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	hi, err := b.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config("conf-huge", 8, hi.TotalMemKiB*2, 1)
	if id, err := b.Create(ctx, cfg, backend.CreateOptions{}); err == nil {
		b.Destroy(ctx, id)
		t.Fatalf("a guest of %d KiB on a host of %d KiB was created", cfg.BInfo.MaxMemKiB, hi.TotalMemKiB)
	}
	list, err := b.Guests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, g := range list {
		if g.Name == cfg.CInfo.Name {
			t.Fatalf("the refused guest exists as domid %d", g.DomID)
		}
	}
}

func testNoSuchGuest(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	const id = backend.DomID(99999)
	for name, err := range map[string]error{
		"destroy": b.Destroy(ctx, id),
		"pause":   b.Pause(ctx, id),
		"unpause": b.Unpause(ctx, id),
		"reboot":  b.Reboot(ctx, id),
		"nmi":     b.InjectNMI(ctx, id),
	} {
		if !errors.Is(err, backend.ErrNoGuest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := b.Guest(ctx, id); !errors.Is(err, backend.ErrNoGuest) {
		t.Errorf("guest: %v", err)
	}
}
