//go:build libxl

package libxl

import (
	"os"
	"strings"
)

// cpuVendorAMD tells an AMD host (svm) from an Intel one (vmx) by dom0's
// view of the CPU.
func cpuVendorAMD() bool {
	b, err := os.ReadFile("/proc/cpuinfo")
	return err == nil && strings.Contains(string(b), "AuthenticAMD")
}
