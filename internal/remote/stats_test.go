package remote

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/driver"
	"virtxend/internal/paths"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// statsServer serves the remote program with a driver on a simulated host
// running guest g (a blkback disk, a NIC), on a read-write and a
// read-only socket; it returns a client on each, xen:///system opened.
func statsServer(t *testing.T) (rw, ro *rpc.Conn, g libvirt.Domain) {
	t.Helper()
	p := paths.Under(t.TempDir())
	cfg := config.DefaultLibxl()
	h, err := sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), ShutdownDelay: -1, PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	drv, err := driver.New(cfg, p, h, nil, driver.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	dom, err := drv.CreateXML(context.Background(), `<domain type='xen'><name>g</name><memory>131072</memory>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='block'><driver name='phy'/><source dev='/dev/null'/><target dev='xvda'/></disk>
<interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='xenbr0'/></interface></devices></domain>`, 0)
	if err != nil {
		t.Fatal(err)
	}
	srv := &rpc.Server{Name: "virtxend", MinWorkers: 2, MaxWorkers: 4}
	srv.Register(New(Deps{Driver: drv, SocketDir: p.SocketDir()}))
	t.Cleanup(func() { srv.Close() })
	dial := func(readOnly bool) *rpc.Conn {
		sock := filepath.Join(t.TempDir(), "sock")
		ln, err := net.Listen("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		go srv.ServeListener(ln, rpc.ListenerOptions{ReadOnly: readOnly})
		c, err := rpc.Dial(context.Background(), sock, nil, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		body, _ := xdr.Marshal(&libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///system"}})
		if _, err := c.Call(context.Background(), ProgramNumber, ProgramVersion, 1, body); err != nil {
			t.Fatal(err)
		}
		return c
	}
	return dial(false), dial(true), wireDomain(dom)
}

func call(t *testing.T, c *rpc.Conn, proc uint32, args, ret any) error {
	t.Helper()
	body, err := xdr.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.Call(context.Background(), ProgramNumber, ProgramVersion, proc, body)
	if err != nil {
		return err
	}
	if ret != nil {
		if err := xdr.Unmarshal(out.Body, ret); err != nil {
			t.Fatalf("procedure %d: %v", proc, err)
		}
	}
	return nil
}

// TestStatisticsOnReadOnlySocket: every monitoring call answers on the
// read-only socket, as libvirt allows them there.
func TestStatisticsOnReadOnlySocket(t *testing.T) {
	_, ro, g := statsServer(t)
	var bs libvirt.DomainBlockStatsRet
	if err := call(t, ro, 64, &libvirt.DomainBlockStatsArgs{Dom: g, Path: "xvda"}, &bs); err != nil || bs.RdReq < 0 {
		t.Errorf("BLOCK_STATS: %+v %v", bs, err)
	}
	var bsf libvirt.DomainBlockStatsFlagsRet
	if err := call(t, ro, 243, &libvirt.DomainBlockStatsFlagsArgs{Dom: g, Path: "xvda", Nparams: 16}, &bsf); err != nil || len(bsf.Params) != 6 {
		t.Errorf("BLOCK_STATS_FLAGS: %+v %v", bsf, err)
	}
	var is libvirt.DomainInterfaceStatsRet
	if err := call(t, ro, 65, &libvirt.DomainInterfaceStatsArgs{Dom: g, Device: "00:16:3e:00:00:01"}, &is); err != nil {
		t.Errorf("INTERFACE_STATS: %v", err)
	}
	var ms libvirt.DomainMemoryStatsRet
	if err := call(t, ro, 159, &libvirt.DomainMemoryStatsArgs{Dom: g, MaxStats: 13}, &ms); err != nil || len(ms.Stats) != 2 {
		t.Errorf("MEMORY_STATS: %+v %v", ms, err)
	}
	var cs libvirt.DomainGetCPUStatsRet
	if err := call(t, ro, 262, &libvirt.DomainGetCPUStatsArgs{Dom: g, Nparams: 1, StartCPU: -1, Ncpus: 1}, &cs); err != nil || len(cs.Params) != 1 {
		t.Errorf("GET_CPU_STATS: %+v %v", cs, err)
	}
	var ji libvirt.DomainGetJobInfoRet
	if err := call(t, ro, 163, &libvirt.DomainGetJobInfoArgs{Dom: g}, &ji); err != nil {
		t.Errorf("GET_JOB_INFO: %v", err)
	}
	var js libvirt.DomainGetJobStatsRet
	if err := call(t, ro, 298, &libvirt.DomainGetJobStatsArgs{Dom: g}, &js); err != nil {
		t.Errorf("GET_JOB_STATS: %v", err)
	}
	var all libvirt.ConnectGetAllDomainStatsRet
	if err := call(t, ro, 344, &libvirt.ConnectGetAllDomainStatsArgs{}, &all); err != nil || len(all.RetStats) != 2 {
		t.Errorf("GET_ALL_DOMAIN_STATS: %d records, %v", len(all.RetStats), err)
	}
	// The lease source is allowed read-only; the guest has no interface on
	// a network, so there are no leases to ask libvirtd for.
	var ia libvirt.DomainInterfaceAddressesRet
	if err := call(t, ro, 353, &libvirt.DomainInterfaceAddressesArgs{Dom: g, Source: 0}, &ia); err != nil || len(ia.Ifaces) != 0 {
		t.Errorf("INTERFACE_ADDRESSES (lease) read-only: %+v %v", ia, err)
	}
}

// TestStatisticsDispatchLimits: the daemon's own checks of the sizes a
// client asks for, in libvirt's words.
func TestStatisticsDispatchLimits(t *testing.T) {
	rw, _, g := statsServer(t)
	for _, c := range []struct {
		proc uint32
		args any
		msg  string
	}{
		{243, &libvirt.DomainBlockStatsFlagsArgs{Dom: g, Path: "xvda", Nparams: -1}, "internal error: nparams must be non-negative"},
		{243, &libvirt.DomainBlockStatsFlagsArgs{Dom: g, Path: "xvda", Nparams: 17}, "internal error: nparams too large"},
		{159, &libvirt.DomainMemoryStatsArgs{Dom: g, MaxStats: 1025}, "internal error: maxStats > REMOTE_DOMAIN_MEMORY_STATS_MAX"},
		{262, &libvirt.DomainGetCPUStatsArgs{Dom: g, Nparams: 17, Ncpus: 1}, "internal error: nparams too large"},
		{262, &libvirt.DomainGetCPUStatsArgs{Dom: g, Nparams: 1, Ncpus: 129}, "internal error: ncpus too large"},
	} {
		w := virerr.As(call(t, rw, c.proc, c.args, nil)).Wire()
		if w.Code != libvirt.ErrInternalError || w.Domain != virerr.FromRPC || w.Message != c.msg {
			t.Errorf("%d %+v: %+v, want %q", c.proc, c.args, w, c.msg)
		}
	}
	// The count of parameters, and strings only to a caller that takes
	// them.
	var bsf libvirt.DomainBlockStatsFlagsRet
	if err := call(t, rw, 243, &libvirt.DomainBlockStatsFlagsArgs{Dom: g, Path: "xvda"}, &bsf); err != nil || bsf.Nparams != 6 || bsf.Params != nil {
		t.Errorf("count: %+v %v", bsf, err)
	}
	var with, without libvirt.ConnectGetAllDomainStatsRet
	if err := call(t, rw, 344, &libvirt.ConnectGetAllDomainStatsArgs{Doms: []libvirt.Domain{g}, Stats: 16}, &with); err != nil ||
		len(with.RetStats) != 1 || with.RetStats[0].Params[1].Field != "net.0.name" {
		t.Errorf("a list of one, net group: %+v %v", with, err)
	}
	if err := call(t, rw, 344, &libvirt.ConnectGetAllDomainStatsArgs{Doms: []libvirt.Domain{{Name: "nope", UUID: libvirt.UUID{9}}}}, &without); err != nil ||
		len(without.RetStats) != 0 {
		t.Errorf("a list of a domain that does not exist: %+v %v", without, err)
	}
}

// BenchmarkAllDomainStatsWire is virt-manager's poll of 2,000 guests
// (VIRTXEND_BENCH_DOMAINS), a tenth of them running, through the socket:
// the driver, the reply's XDR and the client's decoding of it.
func BenchmarkAllDomainStatsWire(b *testing.B) {
	n := 2000
	if v, err := strconv.Atoi(os.Getenv("VIRTXEND_BENCH_DOMAINS")); err == nil && v > 0 {
		n = v
	}
	p := paths.Under(b.TempDir())
	cfg := config.DefaultLibxl()
	cfg.Sim.MemoryMiB = 1 << 20
	h, err := sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), ShutdownDelay: -1, PollInterval: -1})
	if err != nil {
		b.Fatal(err)
	}
	drv, err := driver.New(cfg, p, h, nil, driver.Options{})
	if err != nil {
		b.Fatal(err)
	}
	defer drv.Close()
	ctx := context.Background()
	for i := 0; i < n; i++ {
		d, err := drv.Define(ctx, fmt.Sprintf(`<domain type='xen'><name>b%d</name><memory unit='MiB'>128</memory>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os><devices>
<disk type='block'><driver name='phy'/><source dev='/dev/null'/><target dev='xvda'/></disk>
<interface type='bridge'><source bridge='xenbr0'/></interface></devices></domain>`, i), 0)
		if err != nil {
			b.Fatal(err)
		}
		if i < n/10 {
			if _, err := drv.Create(ctx, d, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	srv := &rpc.Server{Name: "virtxend", MinWorkers: 2, MaxWorkers: 4}
	srv.Register(New(Deps{Driver: drv, SocketDir: p.SocketDir()}))
	defer srv.Close()
	sock := filepath.Join(b.TempDir(), "sock")
	ln, err := net.Listen("unix", sock)
	if err != nil {
		b.Fatal(err)
	}
	go srv.ServeListener(ln, rpc.ListenerOptions{})
	c, err := rpc.Dial(ctx, sock, nil, nil)
	if err != nil {
		b.Fatal(err)
	}
	defer c.Close()
	body, _ := xdr.Marshal(&libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///system"}})
	if _, err := c.Call(ctx, ProgramNumber, ProgramVersion, 1, body); err != nil {
		b.Fatal(err)
	}
	args, _ := xdr.Marshal(&libvirt.ConnectGetAllDomainStatsArgs{Stats: 63})
	b.ReportAllocs()
	for b.Loop() {
		out, err := c.Call(ctx, ProgramNumber, ProgramVersion, 344, args)
		if err != nil {
			b.Fatal(err)
		}
		var ret libvirt.ConnectGetAllDomainStatsRet
		if err := xdr.Unmarshal(out.Body, &ret); err != nil || len(ret.RetStats) != n+1 {
			b.Fatalf("%d records, %v", len(ret.RetStats), err)
		}
	}
}
