//go:build libxl

package libxl

import (
	"os"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
)

// TestBackendConformance runs the suite every backend passes, on real
// Xen: only as root in a Xen dom0 (test/xen runs it there), with a PV
// kernel at /boot/vmlinuz for the guests.
func TestBackendConformance(t *testing.T) {
	if _, err := os.Stat("/dev/xen/privcmd"); err != nil || os.Geteuid() != 0 {
		t.Skip("not root in a Xen dom0")
	}
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		b, err := New(Options{})
		if err != nil {
			t.Fatal(err)
		}
		return b
	})
}
