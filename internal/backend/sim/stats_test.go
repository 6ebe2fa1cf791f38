package sim

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// TestStatsOneRead: the statistics of every guest come from one read of
// the host's state, however many guests there are.
func TestStatsOneRead(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	ctx := context.Background()
	const n = 40
	var ids []backend.DomID
	for i := 0; i < n; i++ {
		id, err := h.Create(ctx, backendtest.Config(fmt.Sprintf("g%d", i), byte(i), 65536, 1), backend.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, id)
	}
	before := h.reads.Load()
	all, err := h.Stats(ctx, nil)
	if err != nil || len(all) != n+1 {
		t.Fatalf("%d stats, %v; want %d", len(all), err, n+1)
	}
	some, err := h.Stats(ctx, ids[:n/2])
	if err != nil || len(some) != n/2 {
		t.Fatalf("%d stats, %v; want %d", len(some), err, n/2)
	}
	if reads := h.reads.Load() - before; reads != 2 {
		t.Errorf("two Stats calls over %d guests read the state %d times", n, reads)
	}
}

// TestStatsCounters: the synthetic counters follow the documented
// formulas of CPU time, Stats counts blkback's disks and QEMUDiskStats
// the device model's, an emulated NIC's traffic is on its tap, counters
// stand still while the guest is paused, and the vCPUs keep their hard
// affinity.
func TestStatsCounters(t *testing.T) {
	clk := &fakeClock{t: time.Unix(1000, 0)}
	h := open(t, t.TempDir(), clk)
	ctx := context.Background()
	cfg := backendtest.Config("dev", 1, 65536, 2)
	cfg.Disks = []libxltypes.Disk{{Vdev: "xvda", PdevPath: "/a.img"}, {Vdev: "xvdb", PdevPath: "/dev/vg/b", Backend: "phy"},
		{Vdev: "xvdc", PdevPath: "/c.qcow2", Format: "qcow2"}, {Vdev: "xvdd", PdevPath: "/d.img", Backend: "qdisk"}}
	cfg.NICs = []libxltypes.NIC{{DevID: 0}, {DevID: 3, Ifname: "web0", NICType: "vif_ioemu"}}
	cfg.BInfo.VCPUHardAffinity = [][]int{{2, 3}}
	id, err := h.Create(ctx, cfg, backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	start := clk.Now()
	clk.Add(time.Second)
	cpu := 2 * busyTime(id, start, clk.Now())
	s := statsOf(t, h, id)
	if s.CPUTime != cpu || cpu <= 0 || cpu >= 2*time.Second {
		t.Fatalf("CPU time %v, want %v: under a second per vCPU", s.CPUTime, cpu)
	}
	if len(s.Disks) != 2 || s.Disks[0].Vdev != "xvda" {
		t.Fatalf("disks %+v, want xvda and xvdb (blkback's)", s.Disks)
	}
	rd, wr := int64(bursty(cpu, 20*time.Second))*2/20, int64(bursty(cpu, 33*time.Second))*2/50
	d := s.Disks[1]
	if want := (backend.DiskStats{Vdev: "xvdb", RdReq: rd, RdBytes: rd * 4096, WrReq: wr, WrBytes: wr * 8192, FlushReq: wr / 8,
		RdTimeNs: -1, WrTimeNs: -1, FlushTimeNs: -1}); d != want || rd == 0 {
		t.Errorf("second disk %+v, want %+v", d, want)
	}
	// the device model's disks: the same traffic (the third and fourth
	// disks), with times and no errors count
	q, err := h.QEMUDiskStats(ctx, id)
	if err != nil || len(q) != 2 || q[0].Vdev != "xvdc" || q[1].Vdev != "xvdd" {
		t.Fatalf("QEMU's disks %+v, %v: want xvdc and xvdd", q, err)
	}
	rd, wr = int64(bursty(cpu, 20*time.Second))*4/20, int64(bursty(cpu, 33*time.Second))*4/50
	if want := (backend.DiskStats{Vdev: "xvdd", RdReq: rd, RdBytes: rd * 4096, WrReq: wr, WrBytes: wr * 8192, FlushReq: wr / 8,
		Errors: -1, RdTimeNs: rd * 200_000, WrTimeNs: wr * 500_000, FlushTimeNs: wr / 8 * 2_000_000}); q[1] != want {
		t.Errorf("QEMU's xvdd %+v, want %+v", q[1], want)
	}
	if _, err := h.QEMUDiskStats(ctx, id+100); !errors.Is(err, backend.ErrNoGuest) {
		t.Errorf("QEMU's disks of no guest: %v", err)
	}
	rx, tx := int64(bursty(cpu, 9*time.Second))/10, int64(bursty(cpu, 13*time.Second))/25
	n := s.NICs[0]
	if want := (backend.NICStats{DevID: 0, Ifname: fmt.Sprintf("vif%d.0", id),
		NICCounters: backend.NICCounters{RxPackets: rx, RxBytes: rx * 1000, TxPackets: tx, TxBytes: tx * 500}}); !reflect.DeepEqual(n, want) {
		t.Errorf("first NIC %+v, want %+v", n, want)
	}
	e := s.NICs[1]
	if e.Ifname != "web0" || e.DevID != 3 || e.RxPackets != 0 || e.Emulated == nil || e.Emulated.Ifname != "web0-emu" ||
		e.Emulated.RxPackets != int64(bursty(cpu, 9*time.Second))*2/10 {
		t.Errorf("emulated NIC %+v (%+v)", e, e.Emulated)
	}
	v := s.VCPUs
	if len(v) != 2 || v[0].CPUTime != cpu/2 || v[0].State != backend.VCPURunning ||
		(v[0].CPU != 2 && v[0].CPU != 3) || len(v[1].Affinity) != 4 {
		t.Errorf("vCPUs %+v", v)
	}
	h.Pause(ctx, id)
	clk.Add(time.Hour)
	p := statsOf(t, h, id)
	if p.Disks[1] != d || p.CPUTime != cpu || p.VCPUs[0].State != backend.VCPUOffline {
		t.Errorf("paused: %+v, CPU time %v, vCPU %+v", p.Disks[1], p.CPUTime, p.VCPUs[0])
	}
	if pq, _ := h.QEMUDiskStats(ctx, id); len(pq) != 2 || pq[1] != q[1] {
		t.Errorf("paused, QEMU's disks: %+v, want %+v", pq, q)
	}
}

// TestLoadWanders: a running vCPU is busy between 5% and 95% of each
// second, not always the same share, and its CPU time grows at every
// instant, however close, and however far the clock is from its epoch.
func TestLoadWanders(t *testing.T) {
	start := time.Unix(1_700_000_000, 123)
	lo, hi := time.Second, time.Duration(0)
	for s := 0; s < 120; s++ {
		from := start.Add(time.Duration(s) * time.Second)
		b := busyTime(7, from, from.Add(time.Second))
		lo, hi = min(lo, b), max(hi, b)
		if b < 50*time.Millisecond || b > 950*time.Millisecond {
			t.Fatalf("second %d: busy %v", s, b)
		}
	}
	if hi-lo < 300*time.Millisecond {
		t.Errorf("busy between %v and %v a second: too flat to graph", lo, hi)
	}
	if busyTime(7, start, start.Add(time.Minute)) == busyTime(8, start, start.Add(time.Minute)) {
		t.Error("two guests have the same load")
	}
	prev := time.Duration(-1)
	for ns := 0; ns < 100_000; ns += 7 {
		b := busyTime(3, start, start.Add(time.Duration(ns)))
		if b < prev {
			t.Fatalf("CPU time fell from %v to %v at +%dns", prev, b, ns)
		}
		prev = b
	}
	last := 0.0
	for ms := 0; ms < 200_000; ms += 13 {
		v := bursty(time.Duration(ms)*time.Millisecond, 9*time.Second)
		if v < last {
			t.Fatalf("activity fell at %d ms", ms)
		}
		last = v
	}
}

func statsOf(t *testing.T, h *Host, id backend.DomID) backend.GuestStats {
	t.Helper()
	s, err := h.Stats(context.Background(), []backend.DomID{id})
	if err != nil || len(s) != 1 {
		t.Fatalf("stats of %d: %+v, %v", id, s, err)
	}
	return s[0]
}

// BenchmarkStats10000 reads the statistics of 10,000 running guests, each
// with a disk and a NIC, in one call: one read of a state file that holds
// their configurations. BenchmarkGuests10000 is the plain list on the same
// host, for comparison: the state read is most of either.
func BenchmarkStats10000(b *testing.B) {
	h := bigHost(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		s, err := h.Stats(ctx, nil)
		if err != nil || len(s) != bigGuests+1 {
			b.Fatalf("%d stats, %v", len(s), err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/bigGuests, "ns/guest")
}

func BenchmarkGuests10000(b *testing.B) {
	h := bigHost(b)
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		if g, err := h.Guests(ctx); err != nil || len(g) != bigGuests+1 {
			b.Fatalf("%d guests, %v", len(g), err)
		}
	}
}

const bigGuests = 10000

// bigHost is a simulated host running bigGuests guests.
func bigHost(b *testing.B) *Host {
	dir := b.TempDir()
	writeHost(b, dir, bigGuests)
	h, err := Open(Options{Dir: dir, Host: Shape{CPUs: 64, MemoryMiB: 4 << 20, Dom0MemoryMiB: 4096, XenVersion: "4.17.0"},
		PollInterval: -1, KernelBootID: "boot-1"})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { h.Close() })
	return h
}

// writeHost writes a host.json with n running guests, as n creates would
// leave it (creating them one by one rewrites the file n times).
func writeHost(b *testing.B, dir string, n int) {
	now := time.Now()
	st := &hostState{Version: stateVersion, BootID: "b", KernelBootID: "boot-1",
		NextDomID: backend.DomID(n + 1), Dom0MemKiB: 4096 * 1024}
	for i := 1; i <= n; i++ {
		cfg := backendtest.Config(fmt.Sprintf("guest-%05d", i), 0, 262144, 2)
		u := backend.UUID{byte(i >> 8), byte(i), 0x42}
		cfg.CInfo.UUID = u.String()
		cfg.Disks = []libxltypes.Disk{{PdevPath: "/dev/vg/guest", Vdev: "xvda", Backend: "phy", Format: "raw", Readwrite: 1}}
		cfg.NICs = []libxltypes.NIC{{DevID: 0, MAC: "00:16:3e:00:00:01", Bridge: "xenbr0", NICType: "vif"}}
		st.Guests = append(st.Guests, &guest{
			DomID: backend.DomID(i), UUID: u, Name: cfg.CInfo.Name, Marker: "m",
			MaxMemKiB: 262144, TargetMemKiB: 262144, VCPUsMax: 2, VCPUsOnline: 2,
			CreatedAt: now, RunningSince: now, Config: cfg,
		})
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		b.Fatal(err)
	}
	if err := saveState(filepath.Join(dir, "host.json"), st); err != nil {
		b.Fatal(err)
	}
}
