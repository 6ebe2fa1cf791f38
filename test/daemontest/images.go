package daemontest

import (
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// Disk images for the snapshot tests, made and read with Debian's
// qemu-img and qemu-io (qemu-utils), in 4 KiB blocks.

// NeedQemuImg skips the test when qemu-img or qemu-io is missing.
func NeedQemuImg(t *testing.T) {
	t.Helper()
	for _, tool := range []string{"qemu-img", "qemu-io"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (qemu-utils)", tool)
		}
	}
}

// Image creates a 4 MiB disk image of format at dir/name with pattern in
// its first block (0: none) and returns its path.
func Image(t *testing.T, dir, name, format string, pattern byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if out, err := exec.Command("qemu-img", "create", "-q", "-f", format, path, "4M").CombinedOutput(); err != nil {
		t.Fatalf("qemu-img create %s: %v: %s", path, err, out)
	}
	if pattern != 0 {
		WriteBlock(t, path, 0, pattern)
	}
	return path
}

// WriteBlock writes pattern into block of the image at path, through its
// backing chain as a guest would.
func WriteBlock(t *testing.T, path string, block int, pattern byte) {
	t.Helper()
	cmd := "write -P " + strconv.Itoa(int(pattern)) + " " + strconv.Itoa(block*4096) + " 4k"
	if out, err := exec.Command("qemu-io", "-c", cmd, path).CombinedOutput(); err != nil {
		t.Fatalf("qemu-io -c %q %s: %v: %s", cmd, path, err, out)
	}
}

// HoldsBlock reports whether the image at path (through its chain) reads
// pattern in block.
func HoldsBlock(t *testing.T, path string, block int, pattern byte) bool {
	t.Helper()
	cmd := "read -P " + strconv.Itoa(int(pattern)) + " " + strconv.Itoa(block*4096) + " 4k"
	out, err := exec.Command("qemu-io", "-r", "-U", "-c", cmd, path).CombinedOutput()
	if strings.Contains(string(out), "Pattern verification failed") {
		return false
	}
	if err != nil {
		t.Fatalf("qemu-io -c %q %s: %v: %s", cmd, path, err, out)
	}
	return true
}

// InternalSnapshots is qemu-img's list of the internal snapshots of the
// qcow2 image at path.
func InternalSnapshots(t *testing.T, path string) string {
	t.Helper()
	out, err := exec.Command("qemu-img", "snapshot", "-U", "-l", path).CombinedOutput()
	if err != nil {
		t.Fatalf("qemu-img snapshot -l %s: %v: %s", path, err, out)
	}
	return string(out)
}

// SnapshotInfo is virsh snapshot-info's fields for snapshot snap of dom.
func (d *Daemon) SnapshotInfo(dom, snap string) map[string]string {
	d.t.Helper()
	info := map[string]string{}
	for _, l := range strings.Split(d.MustVirsh("snapshot-info", dom, snap), "\n") {
		if k, v, ok := strings.Cut(l, ":"); ok {
			info[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return info
}
