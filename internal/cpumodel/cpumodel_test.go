package cpumodel

import (
	"encoding/xml"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// The fixtures in testdata are libvirt 11.3's tests/cputestdata files of
// the same names, and the expectations are those of its tests/cputest.c.

func TestMapLoads(t *testing.T) {
	m, err := theMap()
	if err != nil {
		t.Fatal(err)
	}
	if len(m.vendors) != 3 || len(m.features) < 300 || len(m.models) < 150 {
		t.Fatalf("map has %d vendors, %d features, %d models", len(m.vendors), len(m.features), len(m.models))
	}
	if md := m.model("Skylake-Client-IBRS"); md == nil || md.vendor == nil || md.vendor.name != "Intel" || !md.decodeHost {
		t.Fatalf("Skylake-Client-IBRS: %+v", md)
	}
	// Skylake-Client-v1 adds nothing to Skylake-Client: its canonical name.
	if md := m.model("Skylake-Client"); md.canonical == nil || md.canonical.name != "Skylake-Client-v1" {
		t.Fatalf("Skylake-Client's canonical model: %+v", md.canonical)
	}
}

func readFixture(t *testing.T, dir, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "x86_64-"+name+".xml"))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func loadCPU(t *testing.T, name string) *CPU {
	t.Helper()
	c, err := ParseXML(readFixture(t, "testdata", name), Auto, false)
	if err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return c
}

// TestCompare is cputest.c's x86 DO_TEST_COMPARE cases.
func TestCompare(t *testing.T) {
	for _, tc := range []struct {
		host, cpu string
		want      CompareResult
	}{
		{"host", "host", CompareIdentical},
		{"host", "host-better", CompareIncompatible},
		{"host", "host-worse", CompareSuperset},
		{"host", "host-amd-fake", CompareIncompatible},
		{"host", "host-incomp-arch", CompareIncompatible},
		{"host", "host-no-vendor", CompareIdentical},
		{"host-no-vendor", "host", CompareIncompatible},
		{"host", "bogus-model", CompareError},
		{"host", "bogus-feature", CompareError},
		{"host", "min", CompareSuperset},
		{"host", "pentium3", CompareSuperset},
		{"host", "exact", CompareSuperset},
		{"host", "exact-forbid", CompareIncompatible},
		{"host", "exact-forbid-extra", CompareSuperset},
		{"host", "exact-disable", CompareSuperset},
		{"host", "exact-disable2", CompareSuperset},
		{"host", "exact-disable-extra", CompareSuperset},
		{"host", "exact-require", CompareSuperset},
		{"host", "exact-require-extra", CompareIncompatible},
		{"host", "exact-force", CompareSuperset},
		{"host", "strict", CompareIncompatible},
		{"host", "strict-full", CompareIdentical},
		{"host", "strict-disable", CompareIdentical},
		{"host", "strict-force-extra", CompareIdentical},
		{"host", "guest", CompareSuperset},
		{"host", "pentium3-amd", CompareIncompatible},
		{"host-amd", "pentium3-amd", CompareSuperset},
		{"host-worse", "penryn-force", CompareIdentical},
		{"host-SandyBridge", "exact-force-Haswell", CompareIdentical},
	} {
		t.Run(tc.host+"/"+tc.cpu, func(t *testing.T) {
			got, err := Compare(loadCPU(t, tc.host), loadCPU(t, tc.cpu), false)
			if got != tc.want {
				t.Fatalf("got %d (%v), want %d", got, err, tc.want)
			}
			if (err != nil) != (tc.want == CompareError) {
				t.Fatalf("error %v with result %d", err, got)
			}
		})
	}
}

func TestCompareFailIncompatible(t *testing.T) {
	host := loadCPU(t, "host")
	_, err := Compare(host, loadCPU(t, "exact-forbid"), true)
	w := virerr.As(err).Wire()
	if w.Code != libvirt.ErrCPUIncompatible || w.Domain != virerr.FromCPU ||
		w.Message != "the CPU is incompatible with host CPU: Host CPU provides forbidden features: vmx" {
		t.Errorf("forbidden feature: %+v", w)
	}
	_, err = Compare(host, loadCPU(t, "exact-require-extra"), true)
	if w := virerr.As(err).Wire(); !strings.HasPrefix(w.Message, "the CPU is incompatible with host CPU: Host CPU does not provide required features: ") {
		t.Errorf("required features: %+v", w)
	}
	_, err = Compare(host, loadCPU(t, "strict"), true)
	if w := virerr.As(err).Wire(); !strings.HasPrefix(w.Message, "the CPU is incompatible with host CPU: Host CPU does not strictly match guest CPU: Extra features: ") {
		t.Errorf("strict: %+v", w)
	}
	_, err = Compare(nil, host, true)
	if w := virerr.As(err).Wire(); w.Message != "the CPU is incompatible with host CPU: unknown host CPU" {
		t.Errorf("unknown host: %+v", w)
	}
	if r, err := Compare(nil, host, false); r != CompareIncompatible || err != nil {
		t.Errorf("unknown host without failIncompatible: %d %v", r, err)
	}
}

// loadCPUs is cputest.c's cpuTestLoadMultiXML: every /cpuTest/cpu as a host CPU.
func loadCPUs(t *testing.T, dir, name string) []*CPU {
	t.Helper()
	doc := readFixture(t, dir, name)
	var test struct {
		CPUs []struct {
			Inner string `xml:",innerxml"`
		} `xml:"cpu"`
	}
	if err := xml.Unmarshal([]byte(doc), &test); err != nil {
		t.Fatal(err)
	}
	var out []*CPU
	for _, c := range test.CPUs {
		cpu, err := ParseXML("<cpu>"+c.Inner+"</cpu>", Host, false)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		out = append(out, cpu)
	}
	return out
}

// TestBaseline is cputest.c's x86 DO_TEST_BASELINE cases.
func TestBaseline(t *testing.T) { runBaselines(t, "testdata") }

func runBaselines(t *testing.T, dir string) {
	for _, tc := range []struct {
		name             string
		expand, migrate  bool
		fails            bool
		resultFileSuffix string
	}{
		{name: "incompatible-vendors", fails: true},
		{name: "no-vendor", resultFileSuffix: "result"},
		{name: "some-vendors", resultFileSuffix: "result"},
		{name: "simple", resultFileSuffix: "result"},
		{name: "simple", expand: true, resultFileSuffix: "expanded"},
		{name: "features", resultFileSuffix: "result"},
		{name: "features", expand: true, resultFileSuffix: "expanded"},
		{name: "Westmere+Nehalem", resultFileSuffix: "result"},
		{name: "Westmere+Nehalem", migrate: true, resultFileSuffix: "migratable"},
	} {
		t.Run(tc.name+"-"+tc.resultFileSuffix, func(t *testing.T) {
			cpus := loadCPUs(t, dir, "baseline-"+tc.name)
			got, err := Baseline(cpus, tc.migrate)
			if err == nil && tc.expand {
				err = ExpandFeatures(got)
			}
			if tc.fails {
				if err == nil {
					t.Fatalf("baseline succeeded: %s", got.Format())
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := readFixture(t, dir, "baseline-"+tc.name+"-"+tc.resultFileSuffix)
			if got.Format() != want {
				t.Fatalf("got\n%s\nwant\n%s", got.Format(), want)
			}
			for i, c := range cpus {
				if r, err := Compare(c, got, false); r != CompareSuperset && r != CompareIdentical {
					t.Errorf("baseline incompatible with CPU %d: %d %v", i, r, err)
				}
			}
		})
	}
}

// parseCPUData is virCPUx86DataParse: <cpudata arch='x86'> with <cpuid>
// and <msr> items.
func parseCPUData(t *testing.T, doc string) data {
	t.Helper()
	var cd struct {
		Items []mapDataRaw `xml:",any"`
	}
	if err := xml.Unmarshal([]byte(doc), &cd); err != nil {
		t.Fatal(err)
	}
	var d data
	for _, raw := range cd.Items {
		it, err := parseDataItem(raw)
		if err != nil {
			t.Fatal(err)
		}
		d.addItem(it)
	}
	return d
}

// TestHostCPUID is cputest.c's cpuTestHostCPUID: the host CPU decoded from
// a real machine's CPUID dump, as libvirt formats it.
func TestHostCPUID(t *testing.T) { runHostCPUIDs(t, "testdata") }

var cpuidFile = regexp.MustCompile(`^x86_64-cpuid-(.*)-host\.xml$`)

func runHostCPUIDs(t *testing.T, dir string) {
	files, _ := filepath.Glob(filepath.Join(dir, "x86_64-cpuid-*-host.xml"))
	if len(files) == 0 {
		t.Fatalf("no CPUID fixtures in %s", dir)
	}
	m, err := theMap()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		name := cpuidFile.FindStringSubmatch(filepath.Base(f))[1]
		t.Run(name, func(t *testing.T) {
			d := parseCPUData(t, readFixture(t, dir, "cpuid-"+name))
			c := &CPU{Type: Host, Mode: Custom, Arch: "x86_64"}
			if err := m.decode(c, d, nil, false); err != nil {
				t.Fatal(err)
			}
			want := readFixture(t, dir, "cpuid-"+name+"-host")
			if got := c.Format(); got != want {
				t.Fatalf("got\n%s\nwant\n%s", got, want)
			}
		})
	}
}

// TestTopologyNumbers: topology attributes are read as virXMLPropUInt
// reads them (virStrToLong_uip): leading blanks and a '+' taken, a '-'
// and trailing text refused.
func TestTopologyNumbers(t *testing.T) {
	cpu := func(sockets string) string {
		return "<cpu><topology sockets='" + sockets + "' cores='2' threads='1'/></cpu>"
	}
	for _, s := range []string{"2", " 2", "+2"} {
		c, err := ParseXML(cpu(s), Auto, false)
		if err != nil || c.Sockets != 2 {
			t.Errorf("sockets=%q: %+v, %v", s, c, err)
		}
	}
	for _, s := range []string{"-2", "2 ", "two", ""} {
		if _, err := ParseXML(cpu(s), Auto, false); err == nil {
			t.Errorf("sockets=%q accepted", s)
		}
	}
}
