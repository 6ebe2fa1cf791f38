package libxl

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/fixtures"
)

// refusedDefinitions are the xl/xm fixture definitions libvirt's libxl
// driver would refuse to start, with the reason it gives.
var refusedDefinitions = map[string]string{
	"test-paravirt-net-e1000":     "only model 'netfront' is supported for Xen PV domains",
	"test-paravirt-net-fakemodel": "only model 'netfront' is supported for Xen PV domains",
	"test-paravirt-net-vifname":   "only model 'netfront' is supported for Xen PV domains",
}

// fixtureDefinitions are libvirt's xl and xm conversion fixtures: a wide
// set of real Xen guest definitions.
func fixtureDefinitions(t *testing.T) []string {
	dir := fixtures.Dir(t)
	var files []string
	for _, sub := range []string{"xlconfigdata", "xmconfigdata"} {
		m, _ := filepath.Glob(filepath.Join(dir, sub, "*.xml"))
		files = append(files, m...)
	}
	if len(files) == 0 {
		t.Skip("no xl/xm fixture definitions")
	}
	return files
}

// TestFixtureDefinitionsTranslate: every definition in libvirt's xl and
// xm fixtures that domxml accepts translates, except those libvirt
// refuses too, which fail with libvirt's reason.
func TestFixtureDefinitionsTranslate(t *testing.T) {
	for _, f := range fixtureDefinitions(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(filepath.Base(filepath.Dir(f))+"/"+name, func(t *testing.T) {
			_, err := translateDefinition(t, f)
			want, refused := refusedDefinitions[name]
			switch {
			case refused && err == nil:
				t.Errorf("accepted; libvirt refuses it: %s", want)
			case refused && !strings.Contains(err.Error(), want):
				t.Errorf("error %q, want %q", err, want)
			case !refused && err != nil:
				t.Error(err)
			}
		})
	}
}

// translateDefinition parses and translates one file; a definition domxml
// refuses skips the test.
func translateDefinition(t *testing.T, f string) ([]byte, error) {
	t.Helper()
	x, err := os.ReadFile(f)
	if err != nil {
		t.Fatal(err)
	}
	d, err := domxml.Parse(string(x))
	if err != nil {
		t.Skipf("domxml refuses it: %v", err)
	}
	c, err := BuildDomainConfig(d, goldenHost())
	if err != nil {
		return nil, err
	}
	return c.JSON()
}
