package qemuimg

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// needQemuImg skips a test that runs qemu-img and qemu-io when they are
// not installed (scripts/install-deps installs them: qemu-utils).
func needQemuImg(t *testing.T) *Tool {
	t.Helper()
	for _, tool := range []string{"qemu-img", "qemu-io"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not in PATH (Debian package qemu-utils; scripts/install-deps installs it)", tool)
		}
	}
	return &Tool{}
}

func testCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	t.Cleanup(cancel)
	return ctx
}

const mib = 1 << 20

// qemuIO runs one qemu-io command on an image of format format, returning
// its output and whether it succeeded.
func qemuIO(t *testing.T, img, format, command string, readOnly bool) (string, error) {
	t.Helper()
	args := []string{"-f", format, "-c", command, img}
	if readOnly {
		args = append([]string{"-r"}, args...)
	}
	out, err := exec.Command("qemu-io", args...).CombinedOutput()
	return string(out), err
}

// write fills n bytes at off of the image with pattern p.
func write(t *testing.T, img, format string, p byte, off, n int) {
	t.Helper()
	cmd := fmt.Sprintf("write -P 0x%02x %d %d", p, off, n)
	if out, err := qemuIO(t, img, format, cmd, false); err != nil {
		t.Fatalf("qemu-io %s %s: %v\n%s", img, cmd, err, out)
	}
}

// holds reports whether the n bytes at off of the image, read through its
// backing chain, are all p.
func holds(t *testing.T, img, format string, p byte, off, n int) bool {
	t.Helper()
	cmd := fmt.Sprintf("read -P 0x%02x %d %d", p, off, n)
	out, err := qemuIO(t, img, format, cmd, true)
	if strings.Contains(out, "Pattern verification failed") {
		return false
	}
	if err != nil {
		t.Fatalf("qemu-io %s %s: %v\n%s", img, cmd, err, out)
	}
	return true
}

// mustHold fails the test unless the image holds p at off.
func mustHold(t *testing.T, img, format string, p byte, off, n int) {
	t.Helper()
	if !holds(t, img, format, p, off, n) {
		t.Errorf("%s: %d bytes at %d are not all 0x%02x", filepath.Base(img), n, off, p)
	}
}

// newImage creates an image of format and size in dir, filled with p
// (raw: qemu-img create makes it sparse, zeros).
func newImage(t *testing.T, dir, name, format string, p byte) string {
	t.Helper()
	img := filepath.Join(dir, name)
	out, err := exec.Command("qemu-img", "create", "-q", "-f", format, img, "1M").CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img create %s: %v\n%s", img, err, out)
	}
	if p != 0 {
		write(t, img, format, p, 0, mib)
	}
	return img
}
