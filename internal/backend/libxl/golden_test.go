package libxl

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/domxml"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/out")

// goldenHost is the fixture host that also resolves libvirt networks,
// FLASK labels and USB devices by vendor and product.
func goldenHost() Host {
	h := fixtureHost()
	h.NetworkBridge = func(n string) (string, error) { return "virbr-" + n, nil }
	h.FlaskSID = func(string) (uint32, error) { return 7, nil }
	h.FindUSB = func(vendor, product uint) (uint, uint, error) { return 4, 2, nil }
	return h
}

// TestGoldenDomainConfig translates testdata/in/*.xml, for what libvirt's
// fixtures do not cover, and compares the JSON byte for byte with
// testdata/out; -update rewrites them for review.
func TestGoldenDomainConfig(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := domxml.Parse(string(in))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			cfg, err := BuildDomainConfig(d, goldenHost())
			if err != nil {
				t.Fatalf("BuildDomainConfig: %v", err)
			}
			got, err := cfg.JSON()
			if err != nil {
				t.Fatal(err)
			}
			got = append(got, '\n')
			out := filepath.Join("testdata", "out", name+".json")
			if *update {
				if err := os.WriteFile(out, got, 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if string(got) != string(want) {
				w, _ := normalizeJSON(want)
				g, _ := normalizeJSON(got)
				t.Errorf("differs from %s:\n%s", out, strings.Join(jsonDiff(w, g), "\n"))
			}
		})
	}
}
