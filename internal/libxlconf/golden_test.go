package libxlconf_test

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxlconf/libxlconftest"
	"virtxend/internal/libxltypes/jsondiff"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/out")

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
			cfg, err := libxlconf.BuildDomainConfig(d, libxlconftest.GoldenHost())
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
				w, _ := jsondiff.Normalize(want)
				g, _ := jsondiff.Normalize(got)
				t.Errorf("differs from %s:\n%s", out, strings.Join(jsondiff.Diff(w, g), "\n"))
			}
		})
	}
}
