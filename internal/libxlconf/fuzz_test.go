package libxlconf_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxlconf/libxlconftest"
	"virtxend/internal/libxltypes"
)

// FuzzBuildDomainConfig: any definition domxml accepts translates without
// panicking, and what translates is valid JSON that reads back into the
// same configuration.
func FuzzBuildDomainConfig(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "in", "*.xml"))
	for _, p := range files {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(string(b))
		}
	}
	f.Add(hvmHead + `<devices><graphics type='vnc'/><serial type='tcp'><source mode='bind' host='h' service='1'/></serial></devices></domain>`)
	f.Add(hvmHead + `<cpu><numa><cell id='0' cpus='0-1' memory='1048576'/></numa></cpu></domain>`)
	f.Fuzz(func(t *testing.T, doc string) {
		d, err := domxml.Parse(doc)
		if err != nil {
			return
		}
		c, err := libxlconf.BuildDomainConfig(d, libxlconftest.FixtureHost())
		if err != nil {
			return
		}
		j, err := c.JSON()
		if err != nil {
			t.Fatalf("JSON: %v", err)
		}
		var back libxltypes.DomainConfig
		if err := json.Unmarshal(j, &back); err != nil {
			t.Fatalf("JSON does not read back: %v", err)
		}
		j2, _ := back.JSON()
		if string(j) != string(j2) {
			t.Fatalf("JSON changes on a round trip:\n%s\n%s", j, j2)
		}
	})
}
