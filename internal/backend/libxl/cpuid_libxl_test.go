//go:build libxl

package libxl

import (
	"encoding/json"
	"sort"
	"testing"
)

// TestCPUIDTableMatchesLibxl: for every feature in our table, libxl's own
// parser (libxl_cpuid_parse_config) sets the same leaf, subleaf, register
// and bit.
func TestCPUIDTableMatchesLibxl(t *testing.T) {
	names := make([]string, 0, len(cpuidFeatures))
	for n := range cpuidFeatures {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			js, err := offlineCPUIDJSON(name + "=1")
			if err != nil {
				t.Fatalf("libxl does not know it: %v", err)
			}
			var theirs struct {
				BInfo struct {
					CPUID json.RawMessage `json:"cpuid"`
				} `json:"b_info"`
			}
			if err := json.Unmarshal(js, &theirs); err != nil {
				t.Fatal(err)
			}
			var b BuildInfo
			setCPUID(&b, cpuidFeatures[name], '1')
			ours, _ := json.Marshal(b.CPUID)
			a, _ := normalizeJSON([]byte(`{"cpuid":` + string(theirs.BInfo.CPUID) + `}`))
			o, _ := normalizeJSON([]byte(`{"cpuid":` + string(ours) + `}`))
			if d := jsonDiff(a, o); len(d) > 0 {
				t.Errorf("libxl: %s, ours: %s", theirs.BInfo.CPUID, ours)
			}
		})
	}
}
