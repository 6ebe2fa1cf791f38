package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/fixtures"
)

// canonicalFixtures are libvirt-formatted XML: Parse then Format with
// INACTIVE|SECURE must give them back byte for byte.
func TestConformanceCanonical(t *testing.T) {
	dir := fixtures.Dir(t)
	var files []string
	for _, sub := range []string{"xlconfigdata", "xmconfigdata"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no fixture XML files")
	}
	for _, f := range files {
		f := f
		if notCanonical[strings.TrimSuffix(filepath.Base(f), ".xml")] {
			continue
		}
		t.Run(filepath.Base(filepath.Dir(f))+"/"+filepath.Base(f), func(t *testing.T) {
			want, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			d, err := Parse(string(want))
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			got, err := FormatFlags(d, FormatInactive|FormatSecure)
			if err != nil {
				t.Fatalf("Format: %v", err)
			}
			if got != string(want) {
				t.Errorf("round trip differs:\n%s", fixtures.LineDiff(string(want), got))
			}
		})
	}
}

// notCanonical are fixture XMLs libvirt only reads (XML→cfg) or never
// uses, so they are not libvirt's formatted output (fixtures README).
var notCanonical = map[string]bool{
	"sexpr2xml-pv-bootloader":          true,
	"test-fullvirt-usbtablet-no-bus":   true,
	"test-fullvirt-vnuma-autocomplete": true,
	"test-fullvirt-vnuma-nodistances":  true,
	"test-fullvirt-vnuma-partialdist":  true,
}
