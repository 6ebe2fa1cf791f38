package xlcfg

import (
	"bufio"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
)

// fixtureDir is libvirt's own Xen test data (see the fixtures README).
func fixtureDir(t *testing.T) string {
	dir := os.Getenv("LIBVIRT_TEST_FIXTURES")
	if dir == "" {
		dir = filepath.Join("..", "..", "..", "shared", "fixtures", "libvirt-tests")
	}
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("libvirt test fixtures not found at %s (set LIBVIRT_TEST_FIXTURES): %v", dir, err)
	}
	return dir
}

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

// knownGaps reads testdata/known-gaps.txt: "FMT/CASE DIRECTION REASON".
func knownGaps(t *testing.T) map[string]string {
	f, err := os.Open(filepath.Join("testdata", "known-gaps.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gaps := map[string]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		fields := strings.SplitN(line, " ", 3)
		if len(fields) < 3 {
			t.Fatalf("known-gaps.txt: malformed line %q", line)
		}
		gaps[fields[0]+" "+fields[1]] = fields[2]
	}
	return gaps
}

func TestXLConformance(t *testing.T) { runConformance(t, "xl", "xlconfigdata", XL) }

func TestXMConformance(t *testing.T) { runConformance(t, "xm", "xmconfigdata", XM) }

func runConformance(t *testing.T, tag, sub string, f Format) {
	dir := filepath.Join(fixtureDir(t), sub)
	gaps := knownGaps(t)
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
		t.Errorf("%s differs:\n%s", dirn, lineDiff(want, got))
	}
}

// lineDiff is a small line-oriented diff for test messages.
func lineDiff(want, got string) string {
	w := strings.Split(want, "\n")
	g := strings.Split(got, "\n")
	var b strings.Builder
	i, j := 0, 0
	for i < len(w) || j < len(g) {
		switch {
		case i < len(w) && j < len(g) && w[i] == g[j]:
			i++
			j++
		case j < len(g) && indexFrom(w, i, g[j]) < 0:
			b.WriteString("+ " + g[j] + "\n")
			j++
		case i < len(w):
			b.WriteString("- " + w[i] + "\n")
			i++
		default:
			b.WriteString("+ " + g[j] + "\n")
			j++
		}
	}
	return b.String()
}

func indexFrom(s []string, from int, v string) int {
	for k := from; k < len(s); k++ {
		if s[k] == v {
			return k
		}
	}
	return -1
}
