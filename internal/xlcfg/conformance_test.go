package xlcfg

import (
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"

	"virtxend/internal/fixtures"
)

// oneWay lists the cases libvirt's xlconfigtest / xmconfigtest run in
// one direction only (fixtures README), and the files it never uses.
var oneWay = map[string]string{
	"xl/disk-positional-parms-full":              "cfg2xml",
	"xl/disk-positional-parms-partial":           "cfg2xml",
	"xl/disk-qed":                                "cfg2xml",
	"xl/paravirt-cmdline-extra-root":             "cfg2xml",
	"xl/paravirt-cmdline-bogus-extra-root":       "cfg2xml",
	"xl/paravirt-type":                           "cfg2xml",
	"xl/fullvirt-type":                           "cfg2xml",
	"xl/fullvirt-direct-kernel-boot-extra":       "cfg2xml",
	"xl/fullvirt-direct-kernel-boot-bogus-extra": "cfg2xml",
	"xl/fullvirt-vnuma-autocomplete":             "xml2cfg",
	"xl/fullvirt-vnuma-nodistances":              "xml2cfg",
	"xl/fullvirt-vnuma-partialdist":              "xml2cfg",
	"xm/paravirt-root":                           "cfg2xml",
	"xm/paravirt-extra-root":                     "cfg2xml",
	"xm/fullvirt-default-feature":                "cfg2xml",
	"xm/pci-dev-syntax":                          "cfg2xml",
	"xm/sexpr2xml-pv-bootloader":                 "none",
	"xm/fullvirt-usbtablet-no-bus":               "none",
	"xm/paravirt-net-modelstr":                   "none",
}

func TestXLConformance(t *testing.T) { runConformance(t, "xl", "xlconfigdata", XL) }

func TestXMConformance(t *testing.T) { runConformance(t, "xm", "xmconfigdata", XM) }

func runConformance(t *testing.T, tag, sub string, f Format) {
	dir := filepath.Join(fixtures.Dir(t), sub)
	gaps := fixtures.KnownGaps(t, filepath.Join("testdata", "known-gaps.txt"), 2)
	for _, name := range fixtureCases(t, dir) {
		id := tag + "/" + name
		dirs := oneWay[id]
		if dirs == "none" {
			continue
		}
		base := filepath.Join(dir, "test-"+name)
		if name == "sexpr2xml-pv-bootloader" {
			base = filepath.Join(dir, name)
		}
		t.Run(name, func(t *testing.T) {
			for _, dirn := range []string{"cfg2xml", "xml2cfg"} {
				if dirs != "" && dirs != dirn {
					continue
				}
				t.Run(dirn, func(t *testing.T) {
					checkCase(t, base, dirn, f, gaps[id+" "+dirn])
				})
			}
		})
	}
}

func fixtureCases(t *testing.T, dir string) []string {
	seen := map[string]bool{}
	for _, ext := range []string{"*.cfg", "*.xml"} {
		m, _ := filepath.Glob(filepath.Join(dir, ext))
		for _, p := range m {
			n := strings.TrimSuffix(filepath.Base(p), filepath.Ext(p))
			seen[strings.TrimPrefix(n, "test-")] = true
		}
	}
	if len(seen) == 0 {
		t.Skipf("no fixtures in %s", dir)
	}
	var out []string
	for n := range seen {
		out = append(out, n)
	}
	sort.Strings(out)
	return out
}

func checkCase(t *testing.T, base, dirn string, f Format, gap string) {
	cfg, err1 := os.ReadFile(base + ".cfg")
	xml, err2 := os.ReadFile(base + ".xml")
	if err1 != nil || err2 != nil {
		t.Skipf("pair incomplete: %v %v", err1, err2)
	}
	var got, want string
	var err error
	if dirn == "cfg2xml" {
		want = string(xml)
		var r *Result
		if r, err = ToXML(cfg, f, Options{Secure: true}); err == nil {
			got = r.XML
		}
	} else {
		want = string(cfg)
		var b []byte
		b, err = ToNative(string(xml), f)
		got = string(b)
	}
	ok := err == nil && got == want
	switch {
	case gap != "" && ok:
		t.Fatalf("listed in testdata/known-gaps.txt (%s) but passes: remove the line", gap)
	case gap != "":
		t.Skipf("known gap: %s", gap)
	case err != nil:
		t.Fatalf("%s: %v", dirn, err)
	case !ok:
		t.Errorf("%s differs:\n%s", dirn, fixtures.LineDiff(want, got))
	}
}
