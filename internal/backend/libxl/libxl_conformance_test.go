//go:build libxl

package libxl

import (
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/fixtures"
	"virtxend/internal/libxlconf/libxlconftest"
	"virtxend/internal/libxltypes/jsondiff"
)

// TestConformanceLibxlCanonical is libvirt's own libxlxml2domconfigtest
// comparison, made possible by linking libxl: both the expected JSON and
// ours are read into libxl_domain_config and written back out by libxl,
// then compared byte for byte. It needs no Xen: libxl's JSON functions
// run on a stand-in context.
func TestConformanceLibxlCanonical(t *testing.T) {
	dir := filepath.Join(fixtures.Dir(t), "libxlxml2domconfigdata")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no fixture XML files in %s", dir)
	}
	gaps := fixtures.KnownGaps(t, filepath.Join(libxlconftest.TestdataDir(), "known-gaps.txt"), 1)
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(name, func(t *testing.T) {
			if reason, ok := gaps[name]; ok {
				t.Skipf("known gap: %s", reason)
			}
			want, err := os.ReadFile(strings.TrimSuffix(f, ".xml") + ".json")
			if err != nil {
				t.Fatal(err)
			}
			got := libxlconftest.TranslateFile(t, f, libxlconftest.FixtureHost())
			wantC := canonicalOrFail(t, "expected", want)
			gotC := canonicalOrFail(t, "ours", got)
			if string(wantC) != string(gotC) {
				t.Errorf("libxl reads them differently:\n--- expected\n%s\n--- ours\n%s", wantC, gotC)
			}
		})
	}
}

// TestGoldenAcceptedByLibxl: libxl reads every golden translation and,
// written back, it means the same as what we wrote.
func TestGoldenAcceptedByLibxl(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(libxlconftest.TestdataDir(), "in", "*.xml"))
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			ours := libxlconftest.TranslateFile(t, f, libxlconftest.GoldenHost())
			back := canonicalOrFail(t, "ours", ours)
			a, _ := jsondiff.Normalize(ours)
			b, _ := jsondiff.Normalize(back)
			if d := jsondiff.Diff(a, b); len(d) > 0 {
				t.Errorf("libxl reads it otherwise:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}

func TestOfflineCanonicalRejects(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	_, err := OfflineCanonicalJSON([]byte(`{"c_info": {"type": "pv"}, "on_poweroff": "nosuch"}`), log)
	if err == nil {
		t.Fatal("accepted")
	}
	if !strings.Contains(err.Error(), "libxl_domain_config_from_json") || !strings.Contains(err.Error(), "unable to convert") {
		t.Errorf("error %q", err)
	}
}

func canonicalOrFail(t *testing.T, what string, js []byte) []byte {
	t.Helper()
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	c, err := OfflineCanonicalJSON(js, log)
	if err != nil {
		t.Fatalf("libxl does not read %s JSON: %v", what, err)
	}
	return c
}

// TestFixtureDefinitionsReadByLibxl: libxl reads the translation of every
// xl/xm fixture definition as we wrote it.
func TestFixtureDefinitionsReadByLibxl(t *testing.T) {
	for _, f := range libxlconftest.FixtureDefinitions(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		if _, refused := libxlconftest.RefusedDefinitions[name]; refused {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(f))+"/"+name, func(t *testing.T) {
			ours, err := libxlconftest.TranslateDefinition(t, f)
			if err != nil {
				t.Fatal(err)
			}
			back := canonicalOrFail(t, "ours", ours)
			a, _ := jsondiff.Normalize(ours)
			b, _ := jsondiff.Normalize(back)
			if d := jsondiff.Diff(a, b); len(d) > 0 {
				t.Errorf("libxl reads it otherwise:\n%s", strings.Join(d, "\n"))
			}
		})
	}
}
