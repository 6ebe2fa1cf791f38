package cpumodel

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// libvirtSrc is a libvirt source tree (apt-get source libvirt) to check
// against, from VIRTXEND_LIBVIRT_SRC; the checks are skipped without one.
func libvirtSrc(t *testing.T) string {
	dir := os.Getenv("VIRTXEND_LIBVIRT_SRC")
	if dir == "" {
		t.Skip("VIRTXEND_LIBVIRT_SRC is not set")
	}
	return dir
}

// TestMapIsLibvirts: the embedded map is the source tree's, file for file.
func TestMapIsLibvirts(t *testing.T) {
	src := filepath.Join(libvirtSrc(t), "src", "cpu_map")
	files, _ := filepath.Glob(filepath.Join(src, "x86_*.xml"))
	files = append(files, filepath.Join(src, "index.xml"))
	ours, _ := cpuMap.ReadDir("cpu_map")
	if len(ours) != len(files)+1 { // and README.md
		t.Errorf("%d files embedded, libvirt has %d", len(ours)-1, len(files))
	}
	for _, f := range files {
		want, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		got, err := cpuMap.ReadFile("cpu_map/" + filepath.Base(f))
		if err != nil || !bytes.Equal(got, want) {
			t.Errorf("%s differs from libvirt's (%v)", filepath.Base(f), err)
		}
	}
}

// TestLibvirtCPUTests runs every host CPUID decode and x86 baseline of
// libvirt's own tests/cputestdata.
func TestLibvirtCPUTests(t *testing.T) {
	dir := filepath.Join(libvirtSrc(t), "tests", "cputestdata")
	t.Run("HostCPUID", func(t *testing.T) { runHostCPUIDs(t, dir) })
	t.Run("Baseline", func(t *testing.T) { runBaselines(t, dir) })
}
