package driver

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/job"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

func (f *fakeLibvirtd) NetworkConnect(context.Context) error { return nil }

func (f *fakeLibvirtd) NetworkGetDHCPLeases(_ context.Context, net libvirt.Network, mac string, _ uint32) ([]libvirt.NetworkDhcpLease, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.leases[net.Name+"/"+mac], nil
}

// statsDevices are a raw image on blkback (the driver libxl picks), a
// disk named for blkback, a qcow2 image (qdisk) and an interface on a
// bridge.
func statsDevices(t *testing.T) (string, string) {
	dir := t.TempDir()
	raw := filepath.Join(dir, "a.img")
	if err := os.WriteFile(raw, make([]byte, 1<<20), 0o600); err != nil {
		t.Fatal(err)
	}
	q := filepath.Join(dir, "c.qcow2")
	hdr := []byte("QFI\xfb\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x40\x00\x00\x00")
	if err := os.WriteFile(q, hdr, 0o600); err != nil {
		t.Fatal(err)
	}
	return raw, `<devices>
  <disk type='file' device='disk'><source file='` + raw + `'/><target dev='xvda'/></disk>
  <disk type='block' device='disk'><driver name='phy'/><source dev='/dev/null'/><target dev='xvdb'/></disk>
  <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='` + q + `'/><target dev='xvdc'/></disk>
  <interface type='bridge'><mac address='00:16:3e:00:00:0a'/><source bridge='xenbr0'/></interface>
</devices>`
}

// TestLiveInterfaceNames: a running guest's interfaces are named as libxl
// named their backends, an HVM guest's emulated NICs by their taps, and
// the inactive view drops the names again.
func TestLiveInterfaceNames(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "pv", 1, `<devices><interface type='bridge'><source bridge='xenbr0'/></interface>
<interface type='bridge'><source bridge='xenbr0'/><target dev='mine'/></interface></devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	x, _ := drv.GetXMLDesc(ctx, started, 0)
	if !strings.Contains(x, "<target dev='vif"+itoa(started.ID)+".0'/>") || !strings.Contains(x, "<target dev='mine'/>") {
		t.Errorf("live XML:\n%s", x)
	}
	if x, _ := drv.GetXMLDesc(ctx, started, uint32(libvirt.DomainXMLInactive)); strings.Contains(x, "vif") || !strings.Contains(x, "'mine'") {
		t.Errorf("inactive XML:\n%s", x)
	}
	hvm, err := drv.CreateXML(ctx, `<domain type='xen'><name>hvm</name><uuid>02345678-1234-1234-1234-123456789abc</uuid>
<memory unit='MiB'>128</memory><os><type arch='x86_64' machine='xenfv'>hvm</type></os>
<devices><interface type='bridge'><source bridge='xenbr0'/></interface>
<interface type='bridge'><source bridge='xenbr0'/><model type='netfront'/></interface></devices></domain>`, 0)
	if err != nil {
		t.Fatal(err)
	}
	x, _ = drv.GetXMLDesc(ctx, hvm, 0)
	id := itoa(hvm.ID)
	if !strings.Contains(x, "<target dev='vif"+id+".0-emu'/>") || !strings.Contains(x, "<target dev='vif"+id+".1'/>") {
		t.Errorf("HVM live XML:\n%s", x)
	}
}

func itoa(id int32) string { return strconv.Itoa(int(id)) }

// TestBlockStats: a disk's counters, by target or source path, and all
// disks summed, blkback's and the device model's; libvirt's errors for a
// path that is no disk and for flags.
func TestBlockStats(t *testing.T) {
	drv, _ := newEnv(t).start()
	raw, devs := statsDevices(t)
	d := define(t, drv, "g", 1, devs)
	if _, err := drv.BlockStats(ctx, d, "xvda"); err == nil {
		t.Fatal("block stats of an inactive domain")
	} else {
		wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	}
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(20 * time.Millisecond)
	a, err := drv.BlockStats(ctx, started, "xvda")
	if err != nil || a.RdReq < 0 || a.Errs != 0 {
		t.Fatalf("xvda: %+v, %v", a, err)
	}
	if byPath, err := drv.BlockStats(ctx, started, raw); err != nil || byPath.RdReq < a.RdReq {
		t.Errorf("by path: %+v, %v", byPath, err)
	}
	b, err := drv.BlockStats(ctx, started, "xvdb")
	if err != nil {
		t.Fatalf("xvdb: %v", err)
	}
	// Beyond libvirt, which refuses it ("unsupported disk driver qemu"),
	// the qcow2 disk the device model serves has QEMU's counters, with
	// no errors count, and the sum of all disks has it.
	c, err := drv.BlockStats(ctx, started, "xvdc")
	if err != nil || c.RdReq < 0 || c.Errs != -1 {
		t.Fatalf("xvdc: %+v, %v", c, err)
	}
	if all, err := drv.BlockStats(ctx, started, ""); err != nil || all.RdReq < a.RdReq+b.RdReq+c.RdReq || all.Errs != -1 {
		t.Errorf("all disks: %+v, %v (xvda %+v, xvdb %+v, xvdc %+v)", all, err, a, b, c)
	}
	_, err = drv.BlockStats(ctx, started, "xvdz")
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: invalid path: xvdz")
	// The simulated load may be as low as 5% of a vCPU: the counters
	// can take a while to move.
	later := b
	for deadline := time.Now().Add(10 * time.Second); later.RdReq <= b.RdReq && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
		later, _ = drv.BlockStats(ctx, started, "xvdb")
	}
	if later.RdReq <= b.RdReq || later.RdBytes <= b.RdBytes {
		t.Errorf("xvdb did not grow: %+v then %+v", b, later)
	}

	n, count, err := drv.BlockStatsFlags(ctx, started, "xvda", 0, 0)
	if err != nil || count != 6 || n != nil {
		t.Errorf("count: %v %d %v", n, count, err)
	}
	n, count, err = drv.BlockStatsFlags(ctx, started, "xvda", 3, typedparam.StringOkay)
	if err != nil || count != 3 || n[0].Field != "wr_bytes" || n[1].Field != "wr_operations" || n[2].Field != "rd_bytes" {
		t.Errorf("three: %+v %d %v", n, count, err)
	}
	_, _, err = drv.BlockStatsFlags(ctx, started, "xvda", 6, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainBlockStatsFlags")
}

// TestBlockStatsFormats: a phy disk must be raw, as libvirt checks.
func TestBlockStatsFormats(t *testing.T) {
	for _, c := range []struct {
		devno int
		name  string
	}{{202 << 8, "xvda"}, {202<<8 | 1<<4 | 2, "xvdb2"}, {1<<28 | 16<<8, "xvdq"}, {3 << 8, "hda"}, {22<<8 | 64, "hdd"},
		{8<<8 | 33, "sdc1"}, {202<<8 | 3<<4 | 1, "d3p1"}, {-1, "vda"}, {-1, "xvd"}, {-1, "xvda01"}, {-1, "hde"}} {
		if got := diskPathToID(c.name); got != c.devno {
			t.Errorf("diskPathToID(%q) = %d, want %d", c.name, got, c.devno)
		}
	}
	phyQcow := func(typ string) error {
		disk := diskDevices(mustParse(t, `<domain type='xen'><name>x</name><memory>1</memory><os><type>xen</type></os><devices>
<disk type='block'><driver name='phy' type='`+typ+`'/><source dev='/dev/x'/><target dev='xvda'/></disk></devices></domain>`))[0]
		_, err := diskCounters(5, &disk, []backend.DiskStats{{Vdev: "xvda", RdReq: 1, RdBytes: 1, WrReq: 1, WrBytes: 1, FlushReq: 1, Errors: -1}}, nil)
		return err
	}
	wantErr(t, phyQcow("qcow2"), libvirt.ErrOperationUnsupported, virerr.FromLibxl, "Operation not supported: unsupported format qcow2")
	wantErr(t, phyQcow("raw"), libvirt.ErrOperationFailed, virerr.FromLibxl,
		"operation failed: cannot read /sys/bus/xen-backend/devices/vbd-5-51712/statistics/oo_req")
}

func mustParse(t *testing.T, xml string) *libvirtxml.Domain {
	t.Helper()
	def, err := parseDefForTest(xml)
	if err != nil {
		t.Fatal(err)
	}
	return def
}

// TestInterfaceStats: by device name and by MAC, swapped into the guest's
// view by the backend; libvirt's errors otherwise.
func TestInterfaceStats(t *testing.T) {
	drv, _ := newEnv(t).start()
	_, devs := statsDevices(t)
	started, err := drv.Create(ctx, define(t, drv, "g", 1, devs), 0)
	if err != nil {
		t.Fatal(err)
	}
	vif := "vif" + itoa(started.ID) + ".0"
	// The simulated load may be as low as 5% of a vCPU: the first
	// packet can take a while.
	var a backend.NICCounters
	for deadline := time.Now().Add(10 * time.Second); a.RxPackets == 0 && time.Now().Before(deadline); {
		time.Sleep(20 * time.Millisecond)
		a, err = drv.InterfaceStats(ctx, started, vif)
	}
	if err != nil || a.RxPackets <= 0 || a.TxBytes < 0 || a.RxErrs != 0 {
		t.Fatalf("%s: %+v, %v", vif, a, err)
	}
	// virMacAddrParse: either case, one digit an octet, and anything
	// from a blank on after the sixth.
	for _, mac := range []string{"00:16:3E:00:00:0A", "0:16:3e:0:0:a", "00:16:3e:00:00:0a \n"} {
		if b, err := drv.InterfaceStats(ctx, started, mac); err != nil || b.RxPackets < a.RxPackets {
			t.Errorf("by MAC %q: %+v, %v", mac, b, err)
		}
	}
	_, err = drv.InterfaceStats(ctx, started, "vif99.0")
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: 'vif99.0' is not a known interface")
	_, err = drv.InterfaceStats(ctx, started, "00:16:3e:00:00:0b")
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: '00:16:3e:00:00:0b' is not a known interface")
}

// TestMemoryAndCPUStats: dommemstat's two figures, cpu-stats' total and
// per-vCPU times, and the API's checks of its arguments.
func TestMemoryAndCPUStats(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "g", 1, "")
	if m, err := drv.MemoryStats(ctx, Domain{UUID: uuidOf(9)}, 0, 7); err != nil || m != nil {
		t.Errorf("nr 0 asks for nothing: %v %v", m, err)
	}
	_, err := drv.MemoryStats(ctx, d, 2, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "")
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	m, err := drv.MemoryStats(ctx, started, 100, 0)
	if err != nil || len(m) != 2 || m[0] != (MemoryStat{6, 128 * 1024}) || m[1] != (MemoryStat{5, 256 * 1024}) {
		t.Errorf("memory stats %+v, %v", m, err)
	}
	if m, _ := drv.MemoryStats(ctx, started, 1, 0); len(m) != 1 || m[0].Tag != 6 {
		t.Errorf("one stat: %+v", m)
	}
	_, err = drv.MemoryStats(ctx, started, 2, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainMemoryStats")

	time.Sleep(10 * time.Millisecond)
	if _, n, err := drv.GetCPUStats(ctx, started, 0, 0, 0, 0); err != nil || n != 2 {
		t.Errorf("CPUs: %d %v", n, err)
	}
	if _, n, err := drv.GetCPUStats(ctx, started, 0, -1, 1, 0); err != nil || n != 1 {
		t.Errorf("total params: %d %v", n, err)
	}
	total, n, err := drv.GetCPUStats(ctx, started, 1, -1, 1, 0)
	if err != nil || n != 1 || total[0].Field != "cpu_time" || total[0].Value.I.(uint64) == 0 {
		t.Fatalf("total: %+v %d %v", total, n, err)
	}
	per, n, err := drv.GetCPUStats(ctx, started, 1, 0, 4, 0)
	if err != nil || n != 1 || len(per) != 4 || per[0].Field != "cpu_time" || per[1].Value.I != uint64(0) || per[2].Value.D != 0 {
		t.Errorf("per vCPU (one of two online, as libxl lists them): %+v %d %v", per, n, err)
	}
	from1, _, err := drv.GetCPUStats(ctx, started, 1, 1, 1, 0)
	if err != nil || len(from1) != 1 || from1[0].Field != "cpu_time" {
		t.Errorf("from vCPU 1: %+v %v", from1, err)
	}
	_, _, err = drv.GetCPUStats(ctx, started, 1, -1, 2, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "ncpus must be 1 when start_cpu is -1")
	_, _, err = drv.GetCPUStats(ctx, started, 1, -2, 1, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "start_cpu in virDomainGetCPUStats must be zero or greater")
	_, _, err = drv.GetCPUStats(ctx, started, 1, 0, 0, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "params in virDomainGetCPUStats must not be NULL")
	_, _, err = drv.GetCPUStats(ctx, started, 1, -1, 1, 2)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainGetCPUStats")
}

// TestJobInfo: no job; a job another call holds, with its time; the flags
// libxl's driver refuses.
func TestJobInfo(t *testing.T) {
	drv, _ := newEnv(t).start()
	dom := define(t, drv, "g", 1, "")
	if ji, err := drv.GetJobInfo(ctx, dom); err != nil || ji.Type != int32(libvirt.DomainJobNone) {
		t.Fatalf("idle: %+v %v", ji, err)
	}
	d, _ := drv.find(dom)
	if err := d.job.Begin(ctx, job.Modify, time.Second); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Millisecond)
	ji, err := drv.GetJobInfo(ctx, dom)
	if err != nil || ji.Type != int32(libvirt.DomainJobUnbounded) || ji.TimeElapsed < 5 {
		t.Errorf("busy: %+v %v", ji, err)
	}
	typ, params, err := drv.GetJobStats(ctx, dom, 0)
	if err != nil || typ != int32(libvirt.DomainJobUnbounded) || len(params) != 1 || params[0].Field != "time_elapsed" {
		t.Errorf("stats: %d %+v %v", typ, params, err)
	}
	d.job.End()
	if typ, params, err := drv.GetJobStats(ctx, dom, 0); err != nil || typ != 0 || params != nil {
		t.Errorf("idle stats: %d %+v %v", typ, params, err)
	}
	_, _, err = drv.GetJobStats(ctx, dom, 2)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain,
		"Flag 'VIR_DOMAIN_JOB_STATS_COMPLETED' is required by flag 'VIR_DOMAIN_JOB_STATS_KEEP_COMPLETED'")
	if typ, params, err := drv.GetJobStats(ctx, dom, 1); err != nil || typ != 0 || params != nil {
		t.Errorf("no completed job: %d %+v %v", typ, params, err)
	}
	_, _, err = drv.GetJobStats(ctx, dom, 4)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlDomainGetJobStats")
}

// TestInterfaceAddresses: the leases of the interface's MAC on its
// network; interfaces with none are left out; the agent refused.
func TestInterfaceAddresses(t *testing.T) {
	f := newFakeLibvirtd()
	f.leases = map[string][]libvirt.NetworkDhcpLease{
		"default/00:16:3e:00:00:01": {{Ipaddr: "192.168.122.10", Prefix: 24}, {Type: 1, Ipaddr: "fd00::10", Prefix: 64}},
	}
	drv, h := newEnv(t).startWith(f)
	d := define(t, drv, "g", 1, "<devices>"+nicXML("default", 1)+nicXML("lan", 2)+"</devices>")
	started, _ := startedConfig(t, drv, h, d)
	got, err := drv.InterfaceAddresses(ctx, *started, 0, 0)
	if err != nil || len(got) != 1 || got[0].Name != "vif"+itoa(started.ID)+".0" || got[0].HWAddr != "00:16:3e:00:00:01" ||
		len(got[0].Addrs) != 2 || got[0].Addrs[1] != (IPAddr{1, "fd00::10", 64}) {
		t.Fatalf("leases: %+v, %v", got, err)
	}
	_, err = drv.InterfaceAddresses(ctx, *started, 1, 0)
	wantErr(t, err, libvirt.ErrArgumentUnsupported, virerr.FromLibxl, "argument unsupported: Unsupported IP address data source 1")
	if _, err := drv.InterfaceAddresses(ctx, *started, 2, 0); err != nil { // the ARP table: test/stats fills one
		t.Errorf("the ARP table: %v", err)
	}
	_, err = drv.InterfaceAddresses(ctx, *started, 0, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainInterfaceAddresses")
}

// countingBackend counts the hypervisor reads of statistics.
type countingBackend struct {
	backend.Backend
	reads atomic.Int32
}

func (c *countingBackend) Stats(ctx context.Context, ids []backend.DomID) ([]backend.GuestStats, error) {
	c.reads.Add(1)
	return c.Backend.Stats(ctx, ids)
}

// TestAllDomainStats: every group's keys for running, paused and inactive
// domains, from one hypervisor read for all of them; the filters, a list
// of domains, ENFORCE_STATS, NOWAIT beside a busy domain.
func TestAllDomainStats(t *testing.T) {
	e := newEnv(t)
	cb := &countingBackend{Backend: e.sim()}
	drv, err := New(e.cfg, e.root, cb, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	_, devs := statsDevices(t)
	run, err := drv.Create(ctx, define(t, drv, "run", 1, devs), 0)
	if err != nil {
		t.Fatal(err)
	}
	paused, err := drv.Create(ctx, define(t, drv, "paused", 2, ""), uint32(libvirt.DomainStartPaused))
	if err != nil {
		t.Fatal(err)
	}
	off := define(t, drv, "off", 3, devs)
	for i := 0; i < 20; i++ {
		if _, err := drv.Create(ctx, define(t, drv, "many"+itoa(int32(i)), byte(10+i), ""), 0); err != nil {
			t.Fatal(err)
		}
	}
	time.Sleep(20 * time.Millisecond)
	before := cb.reads.Load()
	recs, err := drv.GetAllDomainStats(ctx, nil, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	if n := cb.reads.Load() - before; n != 1 {
		t.Errorf("%d hypervisor reads for %d domains", n, len(recs))
	}
	if len(recs) != 24 || recs[0].Dom.Name != Dom0Name || recs[len(recs)-1].Dom.Name != "off" {
		t.Fatalf("%d records, first %s last %s", len(recs), recs[0].Dom.Name, recs[len(recs)-1].Dom.Name)
	}
	byName := map[string]map[string]any{}
	for _, r := range recs {
		m := map[string]any{}
		for _, p := range r.Params {
			m[p.Field] = p.Value.I
		}
		byName[r.Dom.Name] = m
	}
	r := byName["run"]
	vif := "vif" + itoa(run.ID) + ".0"
	for k, want := range map[string]any{
		"state.state": int32(1), "state.reason": int32(1), "balloon.current": uint64(128 * 1024), "balloon.maximum": uint64(256 * 1024),
		"vcpu.current": uint32(1), "vcpu.maximum": uint32(2), "vcpu.0.state": int32(1), "net.count": uint32(1), "net.0.name": vif,
		"block.count": uint32(3), "block.0.name": "xvda", "block.1.path": "/dev/null", "block.2.name": "xvdc",
		"block.0.capacity": uint64(1 << 20), "block.2.capacity": uint64(1 << 30), "block.0.errors": uint64(0),
	} {
		if r[k] != want {
			t.Errorf("run: %s = %v (%T), want %v", k, r[k], r[k], want)
		}
	}
	for _, k := range []string{"cpu.time", "vcpu.0.time", "net.0.rx.bytes", "net.0.tx.pkts", "net.0.rx.drop", "block.0.rd.reqs",
		"block.0.wr.bytes", "block.0.fl.reqs", "block.1.rd.bytes", "block.0.allocation", "block.0.physical"} {
		if _, ok := r[k].(uint64); !ok {
			t.Errorf("run: no %s", k)
		}
	}
	for _, k := range []string{"block.2.rd.reqs", "vcpu.1.state", "vcpu.0.wait", "cpu.user"} {
		if _, ok := r[k]; ok {
			t.Errorf("run: %s = %v", k, r[k])
		}
	}
	if p := byName["paused"]; p["state.state"] != int32(3) || p["vcpu.0.state"] != int32(0) || p["net.count"] != uint32(0) {
		t.Errorf("paused: %v", p)
	}
	o := byName["off"]
	if o["state.state"] != int32(5) || o["balloon.current"] != uint64(128*1024) || o["block.count"] != uint32(3) ||
		o["block.0.capacity"] != uint64(1<<20) || o["cpu.time"] != nil || o["vcpu.0.state"] != nil || o["net.count"] != nil {
		t.Errorf("off: %v", o)
	}

	// Groups and filters.
	recs, _ = drv.GetAllDomainStats(ctx, nil, statsState, uint32(libvirt.ConnectGetAllDomainsStatsShutoff))
	if len(recs) != 1 || recs[0].Dom.Name != "off" || len(recs[0].Params) != 2 {
		t.Errorf("shut off, state: %+v", recs)
	}
	recs, _ = drv.GetAllDomainStats(ctx, nil, statsCPU|statsPerf, uint32(libvirt.ConnectGetAllDomainsStatsPaused))
	if len(recs) != 1 || recs[0].Dom.Name != "paused" || len(recs[0].Params) != 1 || recs[0].Params[0].Field != "cpu.time" {
		t.Errorf("paused, cpu and perf: %+v", recs)
	}
	_, err = drv.GetAllDomainStats(ctx, nil, statsCPU|statsPerf, statsEnforce)
	wantErr(t, err, libvirt.ErrArgumentUnsupported, virerr.FromLibxl,
		"argument unsupported: Stats types bits 0x40 are not supported by this daemon")
	_, err = drv.GetAllDomainStats(ctx, nil, 0, 1<<20)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x100000) in function libxlConnectGetAllDomainStats")
	recs, _ = drv.GetAllDomainStats(ctx, []Domain{off, {Name: "gone", UUID: uuidOf(99)}, paused}, statsState, 0)
	if len(recs) != 2 || recs[0].Dom.Name != "off" || recs[1].Dom.Name != "paused" {
		t.Errorf("a list: %+v", recs)
	}
	recs, _ = drv.GetAllDomainStats(ctx, []Domain{off, paused}, statsState, uint32(libvirt.ConnectGetAllDomainsStatsActive))
	if len(recs) != 1 || recs[0].Dom.Name != "paused" {
		t.Errorf("a list, active only: %+v", recs)
	}

	// NOWAIT: a domain another call holds is reported without its
	// disks' counters, at once; without NOWAIT the call waits for it.
	d, _ := drv.find(run)
	if err := d.job.Begin(ctx, job.Modify, time.Second); err != nil {
		t.Fatal(err)
	}
	recs, err = drv.GetAllDomainStats(ctx, []Domain{run}, statsBlock|statsCPU, statsNowait)
	if err != nil || len(recs) != 1 || hasField(recs[0].Params, "block.0.rd.reqs") || !hasField(recs[0].Params, "cpu.time") ||
		!hasField(recs[0].Params, "block.0.name") {
		t.Errorf("NOWAIT while busy: %+v, %v", recs, err)
	}
	done := make(chan []StatsRecord)
	go func() {
		r, _ := drv.GetAllDomainStats(ctx, []Domain{run}, statsBlock, 0)
		done <- r
	}()
	select {
	case <-done:
		t.Fatal("did not wait for the job")
	case <-time.After(50 * time.Millisecond):
	}
	d.job.End()
	if r := <-done; len(r) != 1 || !hasField(r[0].Params, "block.0.rd.reqs") {
		t.Errorf("after the wait: %+v", r)
	}
	_ = paused
}

func hasField(l typedparam.List, name string) bool {
	for _, p := range l {
		if p.Field == name {
			return true
		}
	}
	return false
}

const statsPerf = uint32(libvirt.DomainStatsPerf)

// TestImageSizes: images as QEMU's driver reads those it cannot ask QEMU
// about: a raw image's capacity is its size, another format's the size
// its header gives, read at libvirt's offset whatever the magic, or the
// file's size where the header is too short or gives none.
func TestImageSizes(t *testing.T) {
	raw, _ := statsDevices(t)
	dir := filepath.Dir(raw)
	s, ok := imageSizes(raw, "raw")
	if !ok || s.Capacity != 1<<20 || s.Physical != 1<<20 {
		t.Errorf("raw: %+v %v", s, ok)
	}
	s, ok = imageSizes(filepath.Join(dir, "c.qcow2"), "qcow2")
	if !ok || s.Capacity != 1<<30 || s.Physical != 32 {
		t.Errorf("qcow2: %+v %v", s, ok)
	}
	// a raw image of zeros read as qcow2: a size of 0 in its "header"
	if s, ok := imageSizes(raw, "qcow2"); !ok || s.Capacity != 1<<20 {
		t.Errorf("zeros as qcow2: %+v %v", s, ok)
	}
	vmdk := filepath.Join(dir, "d.vmdk")
	hdr := make([]byte, 20)
	copy(hdr, "KDMV\x01\x00\x00\x00\x00\x00\x00\x00\x00\x10")
	if err := os.WriteFile(vmdk, hdr, 0o600); err != nil {
		t.Fatal(err)
	}
	if s, ok := imageSizes(vmdk, "vmdk"); !ok || s.Capacity != 0x1000*512 || s.Physical != 20 {
		t.Errorf("vmdk, sectors of 512 bytes: %+v %v", s, ok)
	}
	short := filepath.Join(dir, "e.qcow2")
	if err := os.WriteFile(short, []byte("QFI\xfb\x00\x00\x00\x03"), 0o600); err != nil {
		t.Fatal(err)
	}
	if s, ok := imageSizes(short, "qcow2"); !ok || s.Capacity != 8 {
		t.Errorf("a header too short: %+v %v", s, ok)
	}
	if s, ok := imageSizes("/dev/null", "raw"); !ok || s != (ImageSizes{}) {
		t.Errorf("/dev/null: %+v %v", s, ok)
	}
	_, err := readImageSizes("/nonexistent", "raw")
	wantErr(t, err, libvirt.ErrSystemError, virerr.FromLibxl, "Failed to open file '/nonexistent': No such file or directory")
	_, err = readImageSizes(dir, "raw")
	wantErr(t, err, libvirt.ErrSystemError, virerr.FromLibxl, "cannot read header '"+dir+"': Is a directory")
}

// TestBlockInfo: virsh domblkinfo's sizes of a disk named by its target
// or its source, the guest shut off or running, with the errors of
// libvirt's QEMU driver for a disk it has not, a drive without media, a
// network disk and a flag.
func TestBlockInfo(t *testing.T) {
	drv, _ := newEnv(t).start()
	raw, devs := statsDevices(t)
	devs = strings.Replace(devs, "</devices>", `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>
  <disk type='network' device='disk'><driver name='qemu' type='raw'/><source protocol='rbd' name='pool/image'><host name='mon'/></source><target dev='xvde'/></disk>
</devices>`, 1)
	d := define(t, drv, "g", 1, devs)
	for _, running := range []bool{false, true} {
		if running {
			var err error
			if d, err = drv.Create(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
		}
		for _, name := range []string{"xvda", raw} {
			if s, err := drv.BlockInfo(ctx, d, name, 0); err != nil || s.Capacity != 1<<20 || s.Physical != 1<<20 {
				t.Errorf("running %v, %s: %+v %v", running, name, s, err)
			}
		}
		if s, err := drv.BlockInfo(ctx, d, "xvdc", 0); err != nil || s.Capacity != 1<<30 || s.Physical != 32 {
			t.Errorf("running %v, qcow2: %+v %v", running, s, err)
		}
		_, err := drv.BlockInfo(ctx, d, "xvdz", 0)
		wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: invalid path xvdz not assigned to domain")
		_, err = drv.BlockInfo(ctx, d, "hdc", 0)
		wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: disk 'hdc' does not currently have a source assigned")
		_, err = drv.BlockInfo(ctx, d, "xvde", 0)
		wantErr(t, err, libvirt.ErrInternalError, virerr.FromStorage, "internal error: missing storage backend for network files using rbd protocol")
		_, err = drv.BlockInfo(ctx, d, "xvda", 1)
		wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainGetBlockInfo")
	}
}

// FuzzHeaderCapacity: any header of any format is read without a panic,
// and a capacity is the bytes at the format's offset, in its unit.
func FuzzHeaderCapacity(f *testing.F) {
	f.Add("qcow2", []byte("QFI\xfb\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x10\x00\x00\x00\x00\x40\x00\x00\x00"))
	f.Add("qcow2", []byte("QFI\xfb\x00\x00\x00\x01"))
	f.Add("vmdk", []byte("KDMV\x01\x00\x00\x00\x00\x00\x00\x00\xff\xff\xff\xff\xff\xff\xff\xff"))
	f.Add("raw", []byte("anything"))
	f.Fuzz(func(t *testing.T, format string, hdr []byte) {
		c, ok := headerCapacity(format, hdr)
		h, known := imageHeaders[format]
		if !ok {
			if c != 0 {
				t.Fatalf("%s %q: %d without a capacity", format, hdr, c)
			}
			return
		}
		if !known || len(hdr) < h.offset+8 || c%h.unit != 0 {
			t.Fatalf("%s %q: capacity %d", format, hdr, c)
		}
	})
}

// FuzzDiskPathToID: any name is numbered or refused without a panic, and
// a number is one of libxl's majors.
func FuzzDiskPathToID(f *testing.F) {
	for _, s := range []string{"xvda", "hdd63", "sdp15", "d1p2", "xvdzzzzzzz9", "d-1p2", "sd", "xvda0"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		id := diskPathToID(name)
		if id < -1 {
			t.Fatalf("%q: %d", name, id)
		}
		if id >= 0 && id&(1<<28) == 0 {
			if major := id >> 8; major != 202 && major != 3 && major != 22 && major != 8 {
				t.Fatalf("%q: major %d", name, major)
			}
		}
	})
}

// BenchmarkAllDomainStats is virt-manager's poll (its six groups, no
// flags) of 2,000 guests with a disk and a NIC, 200 of them running.
func BenchmarkAllDomainStats(b *testing.B) {
	e := newEnv(b)
	e.cfg.Sim.MemoryMiB = 1 << 20
	drv, _ := e.start()
	for i := 0; i < 2000; i++ {
		xml := fmt.Sprintf(`<domain type='xen'><name>b%d</name><memory unit='MiB'>128</memory>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os><devices>
<disk type='block'><driver name='phy'/><source dev='/dev/null'/><target dev='xvda'/></disk>
<interface type='bridge'><source bridge='xenbr0'/></interface></devices></domain>`, i)
		d, err := drv.Define(ctx, xml, 0)
		if err != nil {
			b.Fatal(err)
		}
		if i < 200 {
			if _, err := drv.Create(ctx, d, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if recs, err := drv.GetAllDomainStats(ctx, nil, 63, 0); err != nil || len(recs) != 2001 {
			b.Fatalf("%d records, %v", len(recs), err)
		}
	}
}

// TestReconnectNamesInterfaces: a guest a daemon without interface names
// started gets them when a daemon reconnects to it, as its start would
// have given them.
func TestReconnectNamesInterfaces(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	d := define(t, drv, "old", 1, `<devices><interface type='bridge'><source bridge='xenbr0'/></interface></devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	obj, _ := drv.find(d)
	drv.editLive(obj, func(def *libvirtxml.Domain) { def.Devices.Interfaces[0].Target = nil })
	if err := drv.writeStatus(obj.snap()); err != nil {
		t.Fatal(err)
	}
	drv.Close()
	again, _ := e.start()
	x, err := again.GetXMLDesc(ctx, started, 0)
	if err != nil || !strings.Contains(x, "<target dev='vif"+itoa(started.ID)+".0'/>") {
		t.Errorf("after the reconnect (%v):\n%s", err, x)
	}
}

// TestDiskErrors: virsh domblkerror's two calls, the count of a running
// guest's disks and then its disks in an error state, none; libvirt's
// errors for a guest that does not run and for a flag.
func TestDiskErrors(t *testing.T) {
	drv, _ := newEnv(t).start()
	_, devs := statsDevices(t)
	d := define(t, drv, "g", 1, devs)
	_, err := drv.DiskErrors(ctx, d, 0, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	if d, err = drv.Create(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := drv.DiskErrors(ctx, d, 0, 0); n != 3 || err != nil {
		t.Errorf("the count: %d %v", n, err)
	}
	if n, err := drv.DiskErrors(ctx, d, 3, 0); n != 0 || err != nil {
		t.Errorf("the errors: %d %v", n, err)
	}
	_, err = drv.DiskErrors(ctx, d, 3, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainGetDiskErrors")
}

// stuckQEMU is the simulated host with a device model that never answers
// for its disks' counters (libxl holding its QMP socket).
type stuckQEMU struct{ *sim.Host }

func (stuckQEMU) QEMUDiskStats(ctx context.Context, _ backend.DomID) ([]backend.DiskStats, error) {
	<-ctx.Done()
	return nil, ctx.Err()
}

// TestBlockStatsQEMUStuck: a device model that does not answer costs a
// statistics call qemuStatsWait, not more, and nothing to a call for a
// disk blkback serves; its disk is then refused as libvirt refuses it, and
// domstats reports the disk without counters.
func TestBlockStatsQEMUStuck(t *testing.T) {
	e := newEnv(t)
	h := e.sim()
	drv, err := New(e.cfg, e.root, stuckQEMU{h}, nil, Options{})
	if err != nil {
		h.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	_, devs := statsDevices(t)
	started, err := drv.Create(ctx, define(t, drv, "g", 1, devs), 0)
	if err != nil {
		t.Fatal(err)
	}
	// a disk blkback serves does not ask the device model
	t0 := time.Now()
	if _, err := drv.BlockStats(ctx, started, "xvda"); err != nil || time.Since(t0) >= qemuStatsWait {
		t.Errorf("xvda (blkback): %v after %v", err, time.Since(t0))
	}
	t0 = time.Now()
	_, err = drv.BlockStats(ctx, started, "xvdc")
	wantErr(t, err, libvirt.ErrOperationUnsupported, virerr.FromLibxl, "Operation not supported: unsupported disk driver qemu")
	if took := time.Since(t0); took < qemuStatsWait || took > 10*qemuStatsWait {
		t.Errorf("the call took %v, the wait is %v", took, qemuStatsWait)
	}
	recs, err := drv.GetAllDomainStats(ctx, []Domain{started}, uint32(libvirt.DomainStatsBlock), 0)
	if err != nil || len(recs) != 1 {
		t.Fatalf("domstats: %v, %v", recs, err)
	}
	keys := map[string]bool{}
	for _, p := range recs[0].Params {
		keys[p.Field] = true
	}
	if !keys["block.0.rd.reqs"] || !keys["block.2.name"] || keys["block.2.rd.reqs"] {
		t.Errorf("domstats with the device model stuck: %v", keys)
	}
}
