//go:build libxl

package libxl

import (
	"encoding/json"
	"testing"

	"virtxend/internal/libxlconf"
	"virtxend/internal/libxltypes/jsondiff"
)

// TestCPUIDTableMatchesLibxl: for every feature in our table, libxl's own
// parser (libxl_cpuid_parse_config) sets the same leaf, subleaf, register
// and bit.
func TestCPUIDTableMatchesLibxl(t *testing.T) {
	for _, name := range libxlconf.CPUIDFeatures() {
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
			policy, _ := libxlconf.CPUIDPolicy(name, true)
			ours, _ := json.Marshal(policy)
			a, _ := jsondiff.Normalize([]byte(`{"cpuid":` + string(theirs.BInfo.CPUID) + `}`))
			o, _ := jsondiff.Normalize([]byte(`{"cpuid":` + string(ours) + `}`))
			if d := jsondiff.Diff(a, o); len(d) > 0 {
				t.Errorf("libxl: %s, ours: %s", theirs.BInfo.CPUID, ours)
			}
		})
	}
}
