package xlcfg

import (
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/out")

// TestGolden converts testdata/in/NAME.{xl,xm}.cfg to XML and back and
// compares with testdata/out/NAME.xml and NAME.cfg: cases of our own
// that libvirt's fixtures do not cover. -update rewrites the outputs.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.cfg"))
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		base := strings.TrimSuffix(filepath.Base(f), ".cfg")
		name, ext, _ := strings.Cut(base, ".")
		format := map[string]Format{"xl": XL, "xm": XM}[ext]
		t.Run(base, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			r, err := ToXML(in, format, Options{Secure: true})
			if err != nil {
				t.Fatalf("ToXML: %v", err)
			}
			cfg, err := ToNative(r.XML, format)
			if err != nil {
				t.Fatalf("ToNative: %v", err)
			}
			golden(t, filepath.Join("testdata", "out", name+".xml"), r.XML)
			golden(t, filepath.Join("testdata", "out", name+".cfg"), string(cfg))
			if len(r.Unsupported) > 0 {
				t.Errorf("unsupported settings in a golden input: %v", r.Unsupported)
			}
		})
	}
}

func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs:\n%s", path, fixtures.LineDiff(string(want), got))
	}
}
