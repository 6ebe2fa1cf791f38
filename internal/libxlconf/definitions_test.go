package libxlconf_test

import (
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/libxlconf/libxlconftest"
)

// TestFixtureDefinitionsTranslate: every definition in libvirt's xl and
// xm fixtures that domxml accepts translates, except those libvirt
// refuses too, which fail with libvirt's reason.
func TestFixtureDefinitionsTranslate(t *testing.T) {
	for _, f := range libxlconftest.FixtureDefinitions(t) {
		name := strings.TrimSuffix(filepath.Base(f), ".xml")
		t.Run(filepath.Base(filepath.Dir(f))+"/"+name, func(t *testing.T) {
			_, err := libxlconftest.TranslateDefinition(t, f)
			want, refused := libxlconftest.RefusedDefinitions[name]
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
