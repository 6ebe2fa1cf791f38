package domxml

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// fixtureDir is libvirt's own Xen test data (see shared/fixtures README).
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

// canonicalFixtures are libvirt-formatted XML: Parse then Format with
// INACTIVE|SECURE must give them back byte for byte.
func TestConformanceCanonical(t *testing.T) {
	dir := fixtureDir(t)
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
				t.Errorf("round trip differs:\n%s", lineDiff(string(want), got))
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
