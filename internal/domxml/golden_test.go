package domxml

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/fixtures"
)

var update = flag.Bool("update", false, "rewrite golden files in testdata/out")

// fixedRand makes generated UUIDs and MACs deterministic.
func fixedRand() *bytes.Reader {
	return bytes.NewReader(bytes.Repeat([]byte{0x5a, 0xa5, 0x3c, 0xc3}, 64))
}

// TestGolden parses testdata/in/*.xml and compares the inactive dumpxml
// (with secrets) to testdata/out; formatting the output again must not
// change it.
func TestGolden(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	if len(files) == 0 {
		t.Fatal("no golden inputs")
	}
	for _, f := range files {
		name := filepath.Base(f)
		t.Run(name, func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := ParseWith(string(in), Options{Rand: fixedRand()})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := FormatFlags(d, FormatInactive|FormatSecure)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			out := filepath.Join("testdata", "out", name)
			if *update {
				if err := os.WriteFile(out, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(out)
			if err != nil {
				t.Fatalf("%v (run with -update)", err)
			}
			if got != string(want) {
				t.Errorf("differs from %s:\n%s", out, fixtures.LineDiff(string(want), got))
			}
			assertStable(t, got)
		})
	}
}

// assertStable: libvirt's output parses back to itself.
func assertStable(t *testing.T, xml string) {
	t.Helper()
	d, err := ParseWith(xml, Options{Rand: fixedRand()})
	if err != nil {
		t.Fatalf("re-parse: %v", err)
	}
	again, err := FormatFlags(d, FormatInactive|FormatSecure)
	if err != nil {
		t.Fatal(err)
	}
	if again != xml {
		t.Errorf("not stable:\n%s", fixtures.LineDiff(xml, again))
	}
}

// TestLibxlInputs: the XML inputs of libvirt's libxlxml2domconfigtest must
// parse, and their formatted form must be stable.
func TestLibxlInputs(t *testing.T) {
	dir := fixtures.Dir(t)
	files, _ := filepath.Glob(filepath.Join(dir, "libxlxml2domconfigdata", "*.xml"))
	for _, f := range files {
		t.Run(strings.TrimSuffix(filepath.Base(f), ".xml"), func(t *testing.T) {
			in, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := ParseWith(string(in), Options{Rand: fixedRand()})
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := FormatFlags(d, FormatInactive|FormatSecure)
			if err != nil {
				t.Fatal(err)
			}
			assertStable(t, got)
		})
	}
}
