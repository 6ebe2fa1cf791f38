package driver

import (
	"log/slog"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/cpumodel"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

func uintParams(kv ...any) []libvirt.TypedParam {
	var out []libvirt.TypedParam
	for i := 0; i < len(kv); i += 2 {
		out = append(out, typedparam.NewUInt(kv[i].(string), uint32(kv[i+1].(int))))
	}
	return out
}

func paramValues(ps []libvirt.TypedParam) map[string]any {
	m := map[string]any{}
	for _, p := range ps {
		m[p.Field] = p.Value.I
	}
	return m
}

func TestScheduler(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "s", 1, "<cputune><shares>300</shares></cputune>")
	_, _, err := drv.GetSchedulerType(ctx, d)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	err = drv.SetSchedulerParametersFlags(ctx, d, uintParams("weight", 10), 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	drv.Create(ctx, d, 0)
	name, n, err := drv.GetSchedulerType(ctx, d)
	if err != nil || name != "credit2" || n != 2 {
		t.Fatalf("type %q %d %v", name, n, err)
	}
	// <cputune><shares> is the weight the guest started with.
	ps, err := drv.GetSchedulerParametersFlags(ctx, d, 2, typedparam.StringOkay)
	if err != nil || len(ps) != 2 || ps[0].Field != "weight" || ps[0].Value.I != uint32(300) || ps[1].Field != "cap" || ps[1].Value.I != uint32(0) {
		t.Fatalf("params %+v %v", ps, err)
	}
	if err := drv.SetSchedulerParametersFlags(ctx, d, uintParams("weight", 512, "cap", 50), 0); err != nil {
		t.Fatal(err)
	}
	if ps, _ := drv.GetSchedulerParametersFlags(ctx, d, 5, 0); len(ps) != 2 || ps[0].Value.I != uint32(512) || ps[1].Value.I != uint32(50) {
		t.Fatalf("after set: %+v", ps)
	}
	if ps, _ := drv.GetSchedulerParametersFlags(ctx, d, 1, 0); len(ps) != 1 || ps[0].Field != "weight" {
		t.Fatalf("one asked for: %+v", ps)
	}
	// Only the cap: the weight stays. 4294967295 is libxl's -1, "leave it".
	if err := drv.SetSchedulerParametersFlags(ctx, d, uintParams("cap", 0, "weight", -1), 0); err != nil {
		t.Fatal(err)
	}
	if ps, _ := drv.GetSchedulerParametersFlags(ctx, d, 2, 0); ps[0].Value.I != uint32(512) || ps[1].Value.I != uint32(0) {
		t.Fatalf("after cap only: %+v", ps)
	}
	fail := "internal error: Failed to set scheduler parameters for domain '1' with libxenlight"
	for _, bad := range [][]libvirt.TypedParam{uintParams("weight", 0), uintParams("weight", 65536), uintParams("cap", 201)} {
		err := drv.SetSchedulerParametersFlags(ctx, d, bad, 0)
		wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, fail)
	}
	err = drv.SetSchedulerParametersFlags(ctx, d, uintParams("weight", 1), uint32(libvirt.DomainAffectConfig))
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainSetSchedulerParametersFlags")
	_, err = drv.GetSchedulerParametersFlags(ctx, d, 2, uint32(libvirt.DomainAffectConfig)|typedparam.StringOkay)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainGetSchedulerParametersFlags")
	err = drv.SetSchedulerParametersFlags(ctx, d, uintParams("shares", 1), 0)
	wantErr(t, err, libvirt.ErrArgumentUnsupported, virerr.FromNone, "argument unsupported: parameter 'shares' not supported")
	err = drv.SetSchedulerParametersFlags(ctx, d, []libvirt.TypedParam{typedparam.NewString("weight", "1")}, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromNone, "invalid argument: invalid type 'string' for parameter 'weight', expected 'uint'")
}

func TestSchedulerWithoutWeights(t *testing.T) {
	for _, tc := range []struct{ sched, name string }{{"rtds", ""}, {"null", ""}, {"arinc653", "arinc653"}, {"credit", "credit"}} {
		e := newEnv(t)
		e.cfg.Sim.Scheduler = tc.sched
		drv, _ := e.start()
		d := define(t, drv, "s", 1, "")
		drv.Create(ctx, d, 0)
		name, n, err := drv.GetSchedulerType(ctx, d)
		switch tc.name {
		case "":
			wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Failed to get scheduler id for domain '1' with libxenlight")
		case "credit":
			if err != nil || name != "credit" || n != 2 {
				t.Errorf("%s: %q %d %v", tc.sched, name, n, err)
			}
			continue
		default:
			if err != nil || name != tc.name || n != 0 {
				t.Errorf("%s: %q %d %v", tc.sched, name, n, err)
			}
		}
		_, err = drv.GetSchedulerParametersFlags(ctx, d, 2, 0)
		wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Only 'credit' and 'credit2' schedulers are supported")
		err = drv.SetSchedulerParametersFlags(ctx, d, uintParams("weight", 5), 0)
		wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Only 'credit' and 'credit2' schedulers are supported")
	}
}

func TestNumaParameters(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "n", 1, "")
	_, _, err := drv.GetNumaParameters(ctx, d, 0, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	drv.Create(ctx, d, 0)
	ps, n, err := drv.GetNumaParameters(ctx, d, 0, typedparam.StringOkay)
	if err != nil || n != 2 || ps != nil {
		t.Fatalf("count: %v %d %v", ps, n, err)
	}
	ps, n, err = drv.GetNumaParameters(ctx, d, 2, typedparam.StringOkay)
	if err != nil || n != 2 {
		t.Fatal(n, err)
	}
	if v := paramValues(ps); v["numa_mode"] != int32(2) || v["numa_nodeset"] != "0" {
		t.Fatalf("params %+v", v)
	}
	if ps, n, _ = drv.GetNumaParameters(ctx, d, 1, 0); n != 1 || ps[0].Field != "numa_mode" {
		t.Fatalf("one: %+v", ps)
	}
	_, _, err = drv.GetNumaParameters(ctx, d, 2, affectConfig)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainGetNumaParameters")
}

func TestPMSuspendAndWakeup(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	d := define(t, drv, "pm", 1, "")
	w := watch(t, drv)
	err := drv.PMSuspendForDuration(ctx, d, 0, 0, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	drv.Create(ctx, d, 0)
	w.expect(lc{"pm", libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedBooted)})
	err = drv.PMSuspendForDuration(ctx, d, 1, 0, 0)
	wantErr(t, err, libvirt.ErrArgumentUnsupported, virerr.FromLibxl, "argument unsupported: PMSuspend type 1 not supported by libxenlight driver")
	err = drv.PMSuspendForDuration(ctx, d, 0, 60, 0)
	wantErr(t, err, libvirt.ErrArgumentUnsupported, virerr.FromLibxl, "argument unsupported: Duration not supported. Use 0 for now")
	err = drv.PMSuspendForDuration(ctx, d, 0, 0, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainPMSuspendForDuration")
	err = drv.PMWakeup(ctx, d, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain is not suspended")
	if err := drv.PMSuspendForDuration(ctx, d, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"pm", libvirt.DomainEventPmsuspended, int32(libvirt.DomainEventPmsuspendedMemory)})
	st, reason, _ := drv.GetState(ctx, d, 0)
	r, _ := drv.LookupByUUID(ctx, d.UUID)
	g, _ := h.Guest(ctx, backend.DomID(r.ID))
	if st != libvirt.DomainPmsuspended || reason != 0 || g.State != backend.StateShutdown || g.ShutdownReason != backend.ReasonSuspend {
		t.Fatalf("suspended: %d %d, guest %+v", st, reason, g)
	}
	err = drv.PMSuspendForDuration(ctx, d, 0, 0, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Failed to suspend domain '1'")
	// The suspend shutdown the hypervisor reports is no guest shutdown,
	// and a restarted driver finds the domain still suspended.
	h.Poll()
	drv.Close()
	drv, _ = e.start()
	w = watch(t, drv)
	if st, _, _ := drv.GetState(ctx, d, 0); st != libvirt.DomainPmsuspended {
		t.Fatalf("after restart: state %d", st)
	}
	if err := drv.PMWakeup(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"pm", libvirt.DomainEventStarted, int32(libvirt.DomainEventStartedWakeup)})
	st, reason, _ = drv.GetState(ctx, d, 0)
	if st != libvirt.DomainRunning || reason != int32(libvirt.DomainRunningWakeup) {
		t.Fatalf("woken: %d %d", st, reason)
	}
	err = drv.PMWakeup(ctx, d, 2)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainPMWakeup")
	// A paused guest: libxl reports the suspend done though the guest
	// never acknowledged it, so the domain is PMSUSPENDED and cannot be
	// woken up (libvirt's libxl driver on Xen 4.17 answered so in
	// test/xen's oracle, tuning/pm-suspend, and ours alike).
	if err := drv.Suspend(ctx, d); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"pm", libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused)})
	if err := drv.PMSuspendForDuration(ctx, d, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"pm", libvirt.DomainEventPmsuspended, int32(libvirt.DomainEventPmsuspendedMemory)})
	err = drv.PMWakeup(ctx, d, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Failed to resume domain '1'")
	if st, reason, _ := drv.GetState(ctx, d, 0); st != libvirt.DomainPmsuspended || reason != int32(libvirt.DomainPmsuspendedUnknown) {
		t.Fatalf("paused, suspended, not woken up: %d %d", st, reason)
	}
	dom0, _ := drv.LookupByID(ctx, 0)
	err = drv.PMSuspendForDuration(ctx, dom0, 0, 0, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain-0 does not support requested operation")
}

func TestCompareAndBaselineCPU(t *testing.T) {
	drv, _ := newEnv(t).start()
	host, pae, err := drv.HostCPU(ctx)
	if err != nil || host == nil || !pae || host.Model != "Broadwell-v1" || host.Arch != "x86_64" {
		t.Fatalf("host CPU %+v pae %v %v", host, pae, err)
	}
	caps := host.Format()
	if r, err := drv.CompareCPU(ctx, caps, 0); r != 1 || err != nil {
		t.Fatalf("host with itself: %d %v", r, err)
	}
	if r, err := drv.CompareCPU(ctx, "<cpu match='exact'><model>Penryn</model></cpu>", 0); r != 2 || err != nil {
		t.Fatalf("Penryn: %d %v", r, err)
	}
	if r, err := drv.CompareCPU(ctx, "<cpu match='exact'><model>Icelake-Server</model></cpu>", 0); r != 0 || err != nil {
		t.Fatalf("Icelake-Server: %d %v", r, err)
	}
	_, err = drv.CompareCPU(ctx, "<cpu match='exact'><model>Icelake-Server</model></cpu>", compareFailIncompatible)
	if e := virerr.As(err); e.Code != libvirt.ErrCPUIncompatible || !strings.HasPrefix(e.Error(), "the CPU is incompatible with host CPU: Host CPU does not provide required features: ") {
		t.Fatalf("incompatible: %v", err)
	}
	_, err = drv.CompareCPU(ctx, "<cpu><model>Nonesuch</model></cpu>", 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromCPU, "internal error: Unknown CPU model Nonesuch")
	_, err = drv.CompareCPU(ctx, "<cpu", 0)
	wantErr(t, err, libvirt.ErrXMLDetail, virerr.FromCPU, "")
	_, err = drv.CompareCPU(ctx, "<domain/>", 0)
	wantErr(t, err, libvirt.ErrXMLError, virerr.FromCPU, "XML error: XML does not contain expected 'cpu' element")
	_, err = drv.CompareCPU(ctx, "<cpu foo='1'><model>Penryn</model></cpu>", compareValidateXML)
	wantErr(t, err, libvirt.ErrXMLInvalidSchema, virerr.FromXML, "")
	_, err = drv.CompareCPU(ctx, caps, 4)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlConnectCompareCPU")

	// Broadwell-v1 names host CPUs only; the guest model closest to the
	// host is Skylake-Client without arat (CPUID leaf 6, which libxl does
	// not report).
	out, err := drv.BaselineCPU(ctx, []string{caps, caps}, 0)
	if err != nil || !strings.HasPrefix(out, "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Skylake-Client</model>\n") ||
		!strings.HasSuffix(out, "  <feature policy='disable' name='arat'/>\n</cpu>\n") {
		t.Fatalf("baseline:\n%s %v", out, err)
	}
	if !strings.Contains(out, "<feature policy='require' name='vmx'/>") {
		t.Fatalf("baseline keeps the host's extra features:\n%s", out)
	}
	expanded, err := drv.BaselineCPU(ctx, []string{caps}, baselineExpandFeatures|baselineMigratable)
	if err != nil || !strings.Contains(expanded, "<feature policy='require' name='sse2'/>") || strings.Contains(expanded, "name='invtsc'") {
		t.Fatalf("expanded, migratable:\n%s %v", expanded, err)
	}
	_, err = drv.BaselineCPU(ctx, nil, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromCPU, "invalid argument: no CPUs given")
	_, err = drv.BaselineCPU(ctx, []string{"<cpu><model>Penryn</model></cpu>"}, 0)
	wantErr(t, err, libvirt.ErrXMLError, virerr.FromCPU, "XML error: Missing CPU architecture")
	_, err = drv.BaselineCPU(ctx, []string{caps}, 4)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x4) in function libxlConnectBaselineCPU")
}

// TestHostCPUWithoutModel: where no model of the map fits the words Xen
// reports, the host CPU is unknown (libvirt's libxl driver would not
// start), PAE is still known, and cpu-compare finds nothing compatible.
func TestHostCPUWithoutModel(t *testing.T) {
	var c hostCPUCache
	h := backend.HostInfo{CPUs: 2, CoresPerSocket: 1, ThreadsPerCore: 1, HWCap: [8]uint32{1 << 6}}
	cpu, pae, err := c.decode(h, slog.New(slog.DiscardHandler))
	if cpu != nil || !pae || err != nil {
		t.Fatalf("%+v %v %v", cpu, pae, err)
	}
	if r, err := cpumodel.Compare(cpu, &cpumodel.CPU{Type: cpumodel.Guest, Model: "qemu64"}, false); r != cpumodel.CompareIncompatible || err != nil {
		t.Fatalf("compare: %d %v", r, err)
	}
}
