package libxl

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"virtxend/internal/backend"
)

// The loop devices over an image are found by their backing file, as
// sysfs lists it; a raw image without one, a shrink and a block device
// are refused before the image changes.
func TestGrowLoopFileRefusals(t *testing.T) {
	dir := t.TempDir()
	img := filepath.Join(dir, "disk.img")
	if err := os.WriteFile(img, make([]byte, 4096), 0o600); err != nil {
		t.Fatal(err)
	}
	sys := filepath.Join(dir, "sys")
	for dev, backing := range map[string]string{"loop3": img, "loop4": "/other.img"} {
		os.MkdirAll(filepath.Join(sys, dev, "loop"), 0o755)
		os.WriteFile(filepath.Join(sys, dev, "loop", "backing_file"), []byte(backing+"\n"), 0o644)
	}
	defer func(old string) { sysBlock = old }(sysBlock)
	sysBlock = sys
	loops, err := loopsOver(img)
	if err != nil || len(loops) != 1 || loops[0] != "/dev/loop3" {
		t.Fatalf("loops over %s: %v %v", img, loops, err)
	}
	if err := growLoopFile(img, 1024); !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("shrink: %v", err)
	}
	if err := growLoopFile("/dev/null", 1<<20); !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("a device: %v", err)
	}
	alone := filepath.Join(dir, "alone.img")
	os.WriteFile(alone, nil, 0o600)
	if err := growLoopFile(alone, 1<<20); !errors.Is(err, backend.ErrFailed) {
		t.Errorf("no loop device: %v", err)
	}
	if st, _ := os.Stat(alone); st.Size() != 0 {
		t.Errorf("an image without a loop device grew to %d", st.Size())
	}
}
