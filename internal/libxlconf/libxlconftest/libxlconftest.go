// Package libxlconftest holds what the translation's tests share with the
// libxl backend's tests that check it against libxl's own JSON reader: the
// hosts libvirt's fixtures assume, libvirt's xl and xm fixture definitions
// and the translation's testdata. Only tests import it.
package libxlconftest

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/fixtures"
	"virtxend/internal/libxlconf"
)

// TestdataDir is internal/libxlconf/testdata, the golden inputs and
// outputs and known-gaps.txt. A test binary run away from the source tree
// (test/xen runs the libxl backend's in a Xen dom0) finds them in
// "testdata" beside it.
func TestdataDir() string {
	_, self, _, _ := runtime.Caller(0) // .../internal/libxlconf/libxlconftest/libxlconftest.go
	dir := filepath.Join(filepath.Dir(filepath.Dir(self)), "testdata")
	if _, err := os.Stat(dir); err != nil {
		return "testdata"
	}
	return dir
}

// FixtureHost is the host libvirt's libxlxml2domconfigtest assumes: libxl
// answers 1234 KiB of shadow memory and 6 NUMA nodes, graphics ports start
// at 5900, the driver enables nested HVM and the host CPU has vmx.
func FixtureHost() libxlconf.Host {
	return libxlconf.Host{
		NUMANodes:     6,
		MaxCPUs:       8,
		NestedHVM:     true,
		HWVirt:        "vmx",
		ShadowMemKiB:  func(uint64, int) uint64 { return 1234 },
		CheckEmulator: func(string) error { return nil },
	}
}

// GoldenHost is the fixture host that also resolves libvirt networks,
// FLASK labels and USB devices by vendor and product.
func GoldenHost() libxlconf.Host {
	h := FixtureHost()
	h.NetworkBridge = func(n string) (string, error) { return "virbr-" + n, nil }
	h.FlaskSID = func(string) (uint32, error) { return 7, nil }
	h.FindUSB = func(vendor, product uint) (uint, uint, error) { return 4, 2, nil }
	return h
}

// RefusedDefinitions are the xl/xm fixture definitions libvirt's libxl
// driver would refuse to start, with the reason it gives.
var RefusedDefinitions = map[string]string{
	"test-paravirt-net-e1000":     "only model 'netfront' is supported for Xen PV(H) domains",
	"test-paravirt-net-fakemodel": "only model 'netfront' is supported for Xen PV(H) domains",
	"test-paravirt-net-vifname":   "only model 'netfront' is supported for Xen PV(H) domains",
}

// FixtureDefinitions are libvirt's xl and xm conversion fixtures: a wide
// set of real Xen guest definitions.
func FixtureDefinitions(t *testing.T) []string {
	dir := fixtures.Dir(t)
	var files []string
	for _, sub := range []string{"xlconfigdata", "xmconfigdata"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no xl/xm fixture definitions")
	}
	return files
}

// TranslateDefinition parses and translates one file; a definition domxml
// refuses skips the test.
func TranslateDefinition(t *testing.T, f string) ([]byte, error) {
	t.Helper()
	x, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := domxml.Parse(string(x))
	if err != nil {
		t.Skipf("domxml refuses it: %v", err)
	}
	c, err := libxlconf.BuildDomainConfig(d, GoldenHost())
	if err != nil {
		return nil, err
	}
	return c.JSON()
}

// TranslateFile parses and translates one file for h, which must succeed.
func TranslateFile(t *testing.T, f string, h libxlconf.Host) []byte {
	t.Helper()
	x, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := domxml.Parse(string(x))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	c, err := libxlconf.BuildDomainConfig(d, h)
	if err != nil {
		t.Fatalf("BuildDomainConfig: %v", err)
	}
	j, err := c.JSON()
	if err != nil {
		t.Fatal(err)
	}
	return j
}
