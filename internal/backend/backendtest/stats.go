package backendtest

import (
	"context"
	"fmt"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// StatsDisk and StatsBridge are the disk and NIC the Stats case gives its
// guest: a raw disk on blkback (a backend on real Xen replaces PdevPath
// with an image that exists) and a PV NIC on xenbr0.
var (
	StatsDisk = libxltypes.Disk{PdevPath: "/dev/null", Vdev: "xvda", Backend: "phy", Format: "raw", Readwrite: 1}
	StatsNIC  = libxltypes.NIC{DevID: 0, Bridge: "xenbr0", NICType: "vif"}
)

// testStats: one call reports every guest asked for, Domain-0 first and
// then by id, with its vCPUs and the counters of its disk and NIC; a
// guest that does not exist is left out.
func testStats(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	host, err := b.HostInfo(ctx)
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config("conf-stats", 10, 128*1024, 2)
	cfg.Disks = []libxltypes.Disk{StatsDisk}
	cfg.NICs = []libxltypes.NIC{StatsNIC}
	run := create(t, b, cfg, false)
	defer b.Destroy(ctx, run)
	paused := create(t, b, Config("conf-stats-paused", 11, 64*1024, 1), true)
	defer b.Destroy(ctx, paused)
	Eventually(t, b, run, "both vCPUs online", func(gi backend.GuestInfo) bool { return gi.VCPUsOnline == 2 })

	all := stats(t, b, nil)
	if len(all) < 3 || all[0].DomID != backend.Dom0 || len(all[0].VCPUs) == 0 {
		t.Fatalf("every domain: %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].DomID <= all[i-1].DomID {
			t.Fatalf("not in domid order: %d after %d", all[i].DomID, all[i-1].DomID)
		}
	}
	some := stats(t, b, []backend.DomID{paused, 99999, run})
	if len(some) != 2 || some[0].DomID != run || some[1].DomID != paused {
		t.Fatalf("stats of %d, 99999 and %d: %+v", paused, run, some)
	}
	r, p := some[0], some[1]
	checkIdentity(t, b, r.GuestInfo)
	checkIdentity(t, b, p.GuestInfo)
	checkVCPUs(t, host, r, 2)
	checkVCPUs(t, host, p, 1)
	for _, v := range p.VCPUs {
		if v.State == backend.VCPURunning {
			t.Errorf("vCPU %d of a paused guest runs", v.ID)
		}
	}
	if len(r.Disks) != 1 || r.Disks[0].Vdev != "xvda" || !counted(r.Disks[0].RdReq, r.Disks[0].RdBytes,
		r.Disks[0].WrReq, r.Disks[0].WrBytes, r.Disks[0].FlushReq) || r.Disks[0].Errors < -1 {
		t.Errorf("disks %+v, want xvda with its counters", r.Disks)
	}
	if n := r.NICs; len(n) != 1 || n[0].DevID != 0 || n[0].Ifname != fmt.Sprintf("vif%d.0", run) ||
		!counted(n[0].RxBytes, n[0].RxPackets, n[0].TxBytes, n[0].TxPackets) {
		t.Errorf("NICs %+v, want devid 0 on vif%d.0 with its counters", n, run)
	}
	if len(p.Disks) != 0 || len(p.NICs) != 0 {
		t.Errorf("the device-less guest has disks %+v and NICs %+v", p.Disks, p.NICs)
	}
	// Counters never go back.
	again := stats(t, b, []backend.DomID{run})
	if len(again) != 1 || again[0].CPUTime < r.CPUTime || again[0].Disks[0].RdReq < r.Disks[0].RdReq ||
		again[0].NICs[0].TxPackets < r.NICs[0].TxPackets {
		t.Errorf("counters went back: %+v then %+v", r, again)
	}
}

func stats(t *testing.T, b backend.Backend, ids []backend.DomID) []backend.GuestStats {
	t.Helper()
	s, err := b.Stats(context.Background(), ids)
	if err != nil {
		t.Fatalf("stats of %v: %v", ids, err)
	}
	return s
}

// checkIdentity: the stats' dominfo is the guest's.
func checkIdentity(t *testing.T, b backend.Backend, got backend.GuestInfo) {
	t.Helper()
	gi := guest(t, b, got.DomID)
	if got.Name != gi.Name || got.UUID != gi.UUID || got.Marker != gi.Marker || got.VCPUsMax != gi.VCPUsMax {
		t.Errorf("stats say %+v, the guest is %+v", got, gi)
	}
}

// checkVCPUs: every vCPU is listed once, in order, the online ones on a
// physical CPU of the host within their affinity.
func checkVCPUs(t *testing.T, host backend.HostInfo, s backend.GuestStats, online int) {
	t.Helper()
	if len(s.VCPUs) != s.VCPUsMax {
		t.Fatalf("domain %d: %d vCPUs listed of %d", s.DomID, len(s.VCPUs), s.VCPUsMax)
	}
	n := 0
	for i, v := range s.VCPUs {
		if v.ID != i || len(v.Affinity) == 0 || v.CPUTime < 0 {
			t.Errorf("domain %d vCPU %d: %+v", s.DomID, i, v)
		}
		if !v.Online {
			continue
		}
		n++
		if v.CPU < 0 || v.CPU >= host.MaxCPUs || !contains(v.Affinity, v.CPU) {
			t.Errorf("domain %d vCPU %d on CPU %d, affinity %v", s.DomID, i, v.CPU, v.Affinity)
		}
	}
	if n != online {
		t.Errorf("domain %d: %d vCPUs online, want %d", s.DomID, n, online)
	}
}

func counted(vals ...int64) bool {
	for _, v := range vals {
		if v < 0 {
			return false
		}
	}
	return true
}

func contains(list []int, v int) bool {
	for _, x := range list {
		if x == v {
			return true
		}
	}
	return false
}
