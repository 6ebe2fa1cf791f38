package remote

import (
	"strings"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/caps"
)

// TestCapsHostNUMA: the capabilities describe the host's NUMA nodes as
// libxl reports them (libxlCapsInitNuma), what test/xen's oracle showed
// libvirt's capabilities have: the node's own memory, not the host's, and
// its distances. (The host's PAE comes with its CPU: capsHostCPU.)
func TestCapsHostNUMA(t *testing.T) {
	h := backend.HostInfo{Arch: "x86_64", CPUs: 2, CoresPerSocket: 2, ThreadsPerCore: 1, TotalMemKiB: 1048060,
		NUMA: []backend.NUMANode{{ID: 0, MemKiB: 1048448, Distances: []int{10},
			CPUs: []backend.HostCPU{{ID: 0, Socket: 0, Core: 0}, {ID: 1, Socket: 0, Core: 1}}}}}
	x, err := caps.Capabilities(capsHost(h))
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"<memory unit='KiB'>1048448</memory>",
		"<distances>\n            <sibling id='0' value='10'/>\n          </distances>",
		"<cpu id='1' socket_id='0' die_id='0' cluster_id='0' core_id='1' siblings='1'/>",
	} {
		if !strings.Contains(x, w) {
			t.Errorf("capabilities lack %q:\n%s", w, x)
		}
	}
}
