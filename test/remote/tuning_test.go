package remote

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// tuningXML is a PV guest with three vCPUs, two of them online.
func tuningXML(name string) string {
	return strings.Replace(pvXML(name), "<vcpu current='1'>2</vcpu>", "<vcpu current='2'>3</vcpu>", 1)
}

func wantLines(t *testing.T, what, out string, lines ...string) {
	t.Helper()
	for _, l := range lines {
		if !strings.Contains(out, l) {
			t.Errorf("%s lacks %q:\n%s", what, l, out)
		}
	}
}

func wantFail(t *testing.T, r daemontest.Result, args []string, want string) {
	t.Helper()
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("virsh %v: exit %d, stderr %q; want %q", args, r.Code, r.Stderr, want)
	}
}

// TestVirshVcpuinfoAndVcpupin: vcpuinfo and vcpupin of a defined and of a
// running guest on the simulated host (4 CPUs); the query lists every
// vCPU; pins set live and in the config read back from the hypervisor,
// the live and the inactive XML.
func TestVirshVcpuinfoAndVcpupin(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", tuningXML("g1")))
	// Shut off: virsh falls back to the config's pinning for the online vCPUs.
	wantLines(t, "vcpuinfo, shut off", d.MustVirsh("vcpuinfo", "g1"),
		"VCPU:           0\nCPU:            N/A\nState:          N/A\nCPU time        N/A\nCPU Affinity:   yyyy",
		"VCPU:           1\n")
	wantLines(t, "vcpupin, shut off", d.MustVirsh("vcpupin", "g1"), " 0   0-3", " 1   0-3", " 2   0-3")
	d.MustVirsh("vcpupin", "g1", "0", "1-2", "--config")
	wantLines(t, "vcpupin after a config pin", d.MustVirsh("vcpupin", "g1"), " 0   1-2", " 1   0-3", " 2   0-3")
	d.MustVirsh("start", "g1")
	out := d.MustVirsh("vcpuinfo", "g1")
	wantLines(t, "vcpuinfo, running", out, "VCPU:           0\nCPU:            ", "\nState:          running\nCPU time:",
		"CPU Affinity:   -yy-", "VCPU:           1\n")
	if !strings.Contains(out, "VCPU:           0\nCPU:            1\n") && !strings.Contains(out, "VCPU:           0\nCPU:            2\n") {
		t.Errorf("vCPU 0 runs outside its pin 1-2:\n%s", out)
	}
	if strings.Contains(out, "VCPU:           2") {
		t.Errorf("vcpuinfo lists the offline vCPU 2:\n%s", out)
	}
	// A live pin: the hypervisor runs vCPU 1 on CPU 3, the live XML says
	// so, the config does not.
	d.MustVirsh("vcpupin", "g1", "1", "3")
	wantLines(t, "vcpuinfo after pinning", d.MustVirsh("vcpuinfo", "g1"), "VCPU:           1\nCPU:            3\n", "CPU Affinity:   ---y")
	wantLines(t, "vcpupin --live", d.MustVirsh("vcpupin", "g1", "--live"), " 0   1-2", " 1   3", " 2   0-3")
	wantLines(t, "vcpupin --config", d.MustVirsh("vcpupin", "g1", "--config"), " 0   1-2", " 1   0-3", " 2   0-3")
	wantLines(t, "vcpupin of vCPU 1", d.MustVirsh("vcpupin", "g1", "--vcpu", "1"), " 1   3")
	wantLines(t, "dumpxml", d.MustVirsh("dumpxml", "g1"), "<vcpupin vcpu='0' cpuset='1-2'/>", "<vcpupin vcpu='1' cpuset='3'/>")
	inactive := d.MustVirsh("dumpxml", "--inactive", "g1")
	if strings.Contains(inactive, "<vcpupin vcpu='1'") {
		t.Errorf("a live pin reached the config:\n%s", inactive)
	}
	// --live --config pins both.
	d.MustVirsh("vcpupin", "g1", "0", "0", "--live", "--config")
	wantLines(t, "vcpupin --config after --live --config", d.MustVirsh("vcpupin", "g1", "--config"), " 0   0\n")
	wantLines(t, "vcpuinfo after --live --config", d.MustVirsh("vcpuinfo", "g1"), "VCPU:           0\nCPU:            0\n")
	// The live pin survives a daemon restart (status file) and the guest
	// keeps it (host state).
	d.Stop()
	d = daemontest.Start(t, d.Root)
	wantLines(t, "vcpupin after restart", d.MustVirsh("vcpupin", "g1"), " 0   0\n", " 1   3\n")
	wantLines(t, "vcpuinfo after restart", d.MustVirsh("vcpuinfo", "g1"), "VCPU:           1\nCPU:            3\n")

	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"vcpupin", "g1", "2", "1"}, "error: invalid argument: vcpu '2' is not active"},
		{[]string{"vcpupin", "g1", "5", "1"}, "error: invalid argument: vcpu '5' is not active"},
		{[]string{"vcpupin", "nosuch", "0", "1"}, "failed to get domain 'nosuch'"},
		{[]string{"vcpupin", "g1", "0", "9"}, "error: CPU 9 in cpulist '9' exceed the maxcpu 4"},
	} {
		wantFail(t, d.Virsh(c.args...), c.args, c.want)
	}
	d.MustVirsh("destroy", "g1")
	wantFail(t, d.Virsh("vcpupin", "g1", "0", "1", "--live"), nil, "error: Requested operation is not valid: domain is not running")
}

// TestVirshSchedinfo: credit2 by default, weight and cap set live and
// read back; libxl has no persistent scheduler parameters, so --config
// and --live are refused as libvirt's libxl driver refuses them.
func TestVirshSchedinfo(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", tuningXML("g1")))
	r := d.Virsh("schedinfo", "g1")
	if r.Code == 0 || !strings.Contains(r.Stdout, "Scheduler      : Unknown") || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("schedinfo of a shut-off guest: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	d.MustVirsh("start", "g1")
	if out := d.MustVirsh("schedinfo", "g1"); out != "Scheduler      : credit2\nweight         : 256\ncap            : 0\n" {
		t.Errorf("schedinfo:\n%q", out)
	}
	out := d.MustVirsh("schedinfo", "g1", "--set", "weight=512", "--set", "cap=50")
	if out != "Scheduler      : credit2\nweight         : 512\ncap            : 50\n" {
		t.Errorf("schedinfo --set:\n%q", out)
	}
	if out := d.MustVirsh("schedinfo", "g1", "--current"); !strings.Contains(out, "weight         : 512\ncap            : 50") {
		t.Errorf("schedinfo --current:\n%q", out)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"schedinfo", "g1", "--config"}, "error: unsupported flags (0x2) in function libxlDomainGetSchedulerParametersFlags"},
		{[]string{"schedinfo", "g1", "--live", "--set", "weight=300"}, "error: unsupported flags (0x1) in function libxlDomainGetSchedulerParametersFlags"},
		{[]string{"schedinfo", "g1", "--set", "weight=0"}, "error: internal error: Failed to set scheduler parameters for domain '1' with libxenlight"},
		{[]string{"schedinfo", "g1", "--set", "weight=70000"}, "error: internal error: Failed to set scheduler parameters for domain '1' with libxenlight"},
		{[]string{"schedinfo", "g1", "--set", "cap=301"}, "error: internal error: Failed to set scheduler parameters for domain '1' with libxenlight"},
		{[]string{"schedinfo", "g1", "--set", "shares=1"}, "error: invalid scheduler option: shares"},
	} {
		wantFail(t, d.Virsh(c.args...), c.args, c.want)
	}
	// Domain-0 has a weight and vCPUs too, as on Xen.
	if out := d.MustVirsh("schedinfo", "Domain-0"); out != "Scheduler      : credit2\nweight         : 256\ncap            : 0\n" {
		t.Errorf("schedinfo Domain-0:\n%q", out)
	}
	if out := d.MustVirsh("vcpuinfo", "Domain-0"); strings.Count(out, "VCPU:") != 4 {
		t.Errorf("vcpuinfo Domain-0:\n%s", out)
	}
	// The refused values changed nothing; the host keeps what was set
	// across a daemon restart.
	d.Stop()
	d = daemontest.Start(t, d.Root)
	if out := d.MustVirsh("schedinfo", "g1"); !strings.Contains(out, "weight         : 512\ncap            : 50") {
		t.Errorf("schedinfo after refusals and a restart:\n%q", out)
	}
}

// TestVirshNumatuneAndPM: numatune reports interleave over the host's one
// node; dompmsuspend and dompmwakeup with their events.
func TestVirshNumatuneAndPM(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	events := startEventLoop(t, d)
	d.MustVirsh("define", guestFile(t, "g1", tuningXML("g1")))
	wantFail(t, d.Virsh("numatune", "g1"), nil, "error: Requested operation is not valid: domain is not running")
	d.MustVirsh("start", "g1")
	if out := d.MustVirsh("numatune", "g1"); out != "numa_mode      : interleave\nnuma_nodeset   : 0\n" {
		t.Errorf("numatune:\n%q", out)
	}
	wantFail(t, d.Virsh("numatune", "g1", "--config"), nil, "error: unsupported flags (0x2) in function libxlDomainGetNumaParameters")
	wantFail(t, d.Virsh("numatune", "g1", "--nodeset", "0"), nil, "error: this function is not supported by the connection driver: virDomainSetNumaParameters")

	wantFail(t, d.Virsh("dompmwakeup", "g1"), nil, "error: Requested operation is not valid: Domain is not suspended")
	wantFail(t, d.Virsh("dompmsuspend", "g1", "disk"), nil, "error: argument unsupported: PMSuspend type 1 not supported by libxenlight driver")
	wantFail(t, d.Virsh("dompmsuspend", "g1", "mem", "--duration", "30"), nil, "error: argument unsupported: Duration not supported. Use 0 for now")
	d.MustVirsh("dompmsuspend", "g1", "mem")
	if s := d.DomState("g1"); s != "pmsuspended (unknown)" {
		t.Errorf("state after dompmsuspend: %q", s)
	}
	wantFail(t, d.Virsh("dompmsuspend", "g1", "mem"), nil, "error: internal error: Failed to suspend domain '1'")
	d.MustVirsh("dompmwakeup", "g1")
	if out := d.MustVirsh("domstate", "--reason", "g1"); strings.TrimSpace(out) != "running (event wakeup)" {
		t.Errorf("state after dompmwakeup: %q", out)
	}
	events.waitFor(t, "'g1': PMSuspended Memory")
	events.waitFor(t, "'g1': Started Event wakeup")
	wantFail(t, d.Virsh("dompmsuspend", "Domain-0", "mem"), nil, "Domain-0 does not support requested operation")
}

// cpuFile writes a CPU definition for cpu-compare or cpu-baseline.
func cpuFile(t *testing.T, name, xml string) string {
	p := filepath.Join(t.TempDir(), name+".xml")
	if err := os.WriteFile(p, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestVirshCPUCompareAndBaseline: the host CPU of the capabilities, which
// libvirt names from libxl's CPUID words (the simulated host's are an
// Intel Core i7-8700's: Broadwell-v1 with Skylake's extra features),
// compares identical to itself; older models are a superset, newer ones
// incompatible; the baseline of the host is the guest model closest to it.
func TestVirshCPUCompareAndBaseline(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	caps := d.MustVirsh("capabilities")
	wantLines(t, "capabilities", caps, "<features>\n        <pae/>\n      </features>\n      <model>Broadwell-v1</model>\n",
		"<feature name='vmx'/>", "<feature name='invtsc'/>")
	capsFile := cpuFile(t, "caps", caps)
	wantLines(t, "cpu-compare of the host", d.MustVirsh("cpu-compare", capsFile), "is identical to host CPU")
	older := cpuFile(t, "older", "<cpu match='exact'><model>Penryn</model></cpu>")
	wantLines(t, "cpu-compare Penryn", d.MustVirsh("cpu-compare", older), "Host CPU is a superset of CPU described in")
	newer := cpuFile(t, "newer", "<cpu match='exact'><model>Icelake-Server</model></cpu>")
	// virsh exits 1 for an incompatible CPU, without an error.
	if r := d.Virsh("cpu-compare", newer); r.Code != 1 || !strings.Contains(r.Stdout, "is incompatible with host CPU") || r.Stderr != "" {
		t.Errorf("cpu-compare Icelake-Server: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	wantFail(t, d.Virsh("cpu-compare", "--error", newer), nil,
		"error: the CPU is incompatible with host CPU: Host CPU does not provide required features: ")
	wantFail(t, d.Virsh("cpu-compare", cpuFile(t, "bogus", "<cpu match='exact'><model>Bogus</model></cpu>")), nil,
		"error: internal error: Unknown CPU model Bogus")
	wantFail(t, d.Virsh("cpu-compare", "--validate", cpuFile(t, "attr", "<cpu foo='1'><model>Penryn</model></cpu>")), nil,
		"Unable to validate doc against /usr/share/libvirt/schemas/cpu.rng")

	base := d.MustVirsh("cpu-baseline", capsFile)
	if !strings.HasPrefix(base, "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Skylake-Client</model>\n") ||
		!strings.Contains(base, "<feature policy='disable' name='arat'/>") {
		t.Errorf("cpu-baseline:\n%s", base)
	}
	wantLines(t, "cpu-compare of the baseline", d.MustVirsh("cpu-compare", cpuFile(t, "base", base)), "is identical to host CPU")
	exp := d.MustVirsh("cpu-baseline", "--features", "--migratable", capsFile)
	if !strings.Contains(exp, "<feature policy='require' name='sse2'/>") || strings.Contains(exp, "invtsc") {
		t.Errorf("cpu-baseline --features --migratable:\n%s", exp)
	}
	two := cpuFile(t, "two", `<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor></cpu>
<cpu><arch>x86_64</arch><model>Nehalem</model><vendor>Intel</vendor></cpu>`)
	if out := d.MustVirsh("cpu-baseline", two); out != "<cpu mode='custom' match='exact'>\n  <model fallback='allow'>Nehalem</model>\n  <vendor>Intel</vendor>\n</cpu>\n" { // as libvirtd 9.0's test driver answers
		t.Errorf("cpu-baseline of Westmere and Nehalem:\n%q", out)
	}
	mixed := cpuFile(t, "mixed", `<cpu><arch>x86_64</arch><model>Westmere</model><vendor>Intel</vendor></cpu>
<cpu><arch>x86_64</arch><model>Opteron_G3</model><vendor>AMD</vendor></cpu>`)
	wantFail(t, d.Virsh("cpu-baseline", mixed), nil, "error: operation failed: CPU vendors do not match")
}

// TestTuningOnTheReadOnlySocket: the queries answer there, the changes
// are refused with libvirt's words.
func TestTuningOnTheReadOnlySocket(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", tuningXML("g1")))
	d.MustVirsh("start", "g1")
	capsFile := cpuFile(t, "caps", d.MustVirsh("capabilities"))
	ro := func(args ...string) daemontest.Result {
		return daemontest.Run(t, "virsh", append([]string{"-q", "-c", d.ROURI()}, args...)...)
	}
	for _, args := range [][]string{
		{"vcpuinfo", "g1"}, {"vcpupin", "g1"}, {"schedinfo", "g1"}, {"numatune", "g1"},
		{"cpu-compare", capsFile}, {"cpu-baseline", capsFile}, {"cpu-models", "x86_64"},
	} {
		if r := ro(args...); r.Code != 0 {
			t.Errorf("%v on the read-only socket: exit %d %s", args, r.Code, r.Stderr)
		}
	}
	for _, c := range []struct {
		args []string
		api  string
	}{
		{[]string{"vcpupin", "g1", "0", "1"}, "virDomainPinVcpu"},
		{[]string{"vcpupin", "g1", "0", "1", "--live"}, "virDomainPinVcpuFlags"},
		{[]string{"schedinfo", "g1", "--set", "weight=100"}, "virDomainSetSchedulerParameters"},
		{[]string{"dompmsuspend", "g1", "mem"}, "virDomainPMSuspendForDuration"},
		{[]string{"dompmwakeup", "g1"}, "virDomainPMWakeup"},
	} {
		wantFail(t, ro(c.args...), c.args, "operation forbidden: read only access prevents "+c.api)
	}
}

// pythonTuning reads the same through libvirt-python's bindings and
// prints the error code and domain of the refusals.
const pythonTuning = `
import sys, libvirt
libvirt.registerErrorHandler(lambda *a: None, None)
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("g1")
info, maps = dom.vcpus()
print("vcpus", [(i[0], i[1]) for i in info], [m[:4] for m in maps])
print("pininfo", [m[:4] for m in dom.vcpuPinInfo(0)])
print("sched", dom.schedulerType(), sorted(dom.schedulerParameters().items()))
print("numa", sorted(dom.numaParameters().items()))
dom.setSchedulerParametersFlags({"weight": 1024}, 0)
print("weight", dom.schedulerParametersFlags(0)["weight"])
models = conn.getCPUModelNames("x86_64")
print("models", len(models), models[0], "Skylake-Client" in models)
for what, f in (("config", lambda: dom.schedulerParametersFlags(libvirt.VIR_DOMAIN_AFFECT_CONFIG)),
                ("pin", lambda: dom.pinVcpuFlags(2, (True,), 0)),
                ("wakeup", lambda: dom.pMWakeup(0)),
                ("compare", lambda: conn.compareCPU("<cpu match='exact'><model>Icelake-Server</model></cpu>", libvirt.VIR_CONNECT_COMPARE_CPU_FAIL_INCOMPATIBLE)),
                ("models", lambda: conn.getCPUModelNames("foo"))):
    try:
        f()
        print(what, "ok")
    except libvirt.libvirtError as e:
        print(what, e.get_error_code(), e.get_error_domain())
`

func TestPythonTuning(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	d.MustVirsh("define", guestFile(t, "g1", tuningXML("g1")))
	d.MustVirsh("start", "g1")
	r := d.Python(pythonTuning)
	if r.Code != 0 {
		t.Fatalf("python: exit %d\n%s%s", r.Code, r.Stdout, r.Stderr)
	}
	wantLines(t, "python", r.Stdout,
		"vcpus [(0, 1), (1, 1)] [(True, True, True, True), (True, True, True, True)]",
		"pininfo [(True, True, True, True), (True, True, True, True)]",
		"sched ('credit2', 2) [('cap', 0), ('weight', 256)]",
		"numa [('numa_mode', 2), ('numa_nodeset', '0')]",
		"weight 1024",
		"config 8 41", // VIR_ERR_INVALID_ARG from VIR_FROM_LIBXL
		"pin 8 41",
		"wakeup 55 41",  // VIR_ERR_OPERATION_INVALID
		"compare 91 31", // VIR_ERR_CPU_INCOMPATIBLE from VIR_FROM_CPU
		"models "+strconv.Itoa(x86Models(t))+" 486 True",
		"models 8 41",
	)
}

// TestVirshCPUModels: virsh cpu-models, which libvirt's Xen driver lacks,
// lists the models of libvirt's x86 CPU map, in its order, as libvirt's
// QEMU driver does; other architectures are refused in libvirt's words,
// or, for those whose maps are not carried, saying so.
func TestVirshCPUModels(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	models := strings.Fields(d.MustVirsh("cpu-models", "x86_64"))
	if len(models) != x86Models(t) || models[0] != "486" || !slices.Contains(models, "Broadwell-v1") {
		t.Errorf("cpu-models x86_64: %d models %v", len(models), models)
	}
	if i686 := strings.Fields(d.MustVirsh("cpu-models", "i686")); !slices.Equal(i686, models) {
		t.Errorf("cpu-models i686: %v", i686)
	}
	wantFail(t, d.Virsh("cpu-models", "sparc"), nil, "error: this function is not supported by the connection driver: 'sparc' architecture is not supported by CPU driver")
	wantFail(t, d.Virsh("cpu-models", "foo"), nil, "error: invalid argument: cannot find architecture foo")
	wantFail(t, d.Virsh("cpu-models", "aarch64"), nil, "error: Operation not supported: the CPU models of architecture 'aarch64' are not known here")
}

// x86Models counts the models libvirt's x86 CPU map defines (a model's
// own <model name=...> is indented once; its ancestor's, inside, twice).
func x86Models(t *testing.T) int {
	files, err := filepath.Glob("../../internal/cpumodel/cpu_map/x86_*.xml")
	if err != nil || len(files) == 0 {
		t.Fatalf("libvirt's x86 CPU map: %v", err)
	}
	n := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		n += strings.Count(string(b), "\n  <model name=")
	}
	return n
}
