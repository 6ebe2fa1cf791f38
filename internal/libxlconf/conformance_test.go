package libxlconf_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/fixtures"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxlconf/libxlconftest"
	"virtxend/internal/libxltypes/jsondiff"
)

// TestConformanceDomainConfig translates each libxlxml2domconfigdata XML
// and compares the result with libvirt's expected libxl JSON, semantically.
// A case in known-gaps.txt must fail; one that passes fails the test so
// that the list shrinks as gaps close.
func TestConformanceDomainConfig(t *testing.T) {
	dir := filepath.Join(fixtures.Dir(t), "libxlxml2domconfigdata")
	files, _ := filepath.Glob(filepath.Join(dir, "*.xml"))
	if len(files) == 0 {
		t.Skipf("no fixture XML files in %s", dir)
	}
	gaps := fixtures.KnownGaps(t, filepath.Join("testdata", "known-gaps.txt"), 1)
	seen := map[string]bool{}
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		seen[name] = true
		t.Run(name, func(t *testing.T) {
			problems := conformanceProblems(t, f)
			reason, isGap := gaps[name]
			switch {
			case isGap && len(problems) == 0:
				t.Errorf("listed in known-gaps.txt (%s) but passes: remove it from the list", reason)
			case isGap:
				t.Skipf("known gap: %s", reason)
			default:
				for _, p := range problems {
					t.Error(p)
				}
			}
		})
	}
	for name := range gaps {
		if !seen[name] {
			t.Errorf("known-gaps.txt lists %s, which is not a fixture", name)
		}
	}
}

func conformanceProblems(t *testing.T, xmlFile string) []string {
	xmlText, err := os.ReadFile(xmlFile)
	if err != nil {
		t.Fatal(err)
	}
	wantJSON, err := os.ReadFile(strings.TrimSuffix(xmlFile, ".xml") + ".json")
	if err != nil {
		t.Fatal(err)
	}
	d, err := domxml.Parse(string(xmlText))
	if err != nil {
		return []string{"domxml.Parse: " + err.Error()}
	}
	cfg, err := libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
	if err != nil {
		return []string{"BuildDomainConfig: " + err.Error()}
	}
	gotJSON, err := cfg.JSON()
	if err != nil {
		t.Fatal(err)
	}
	want, err := jsondiff.Normalize(wantJSON)
	if err != nil {
		t.Fatalf("expected JSON: %v", err)
	}
	got, err := jsondiff.Normalize(gotJSON)
	if err != nil {
		t.Fatalf("our JSON: %v", err)
	}
	return jsondiff.Diff(want, got)
}
