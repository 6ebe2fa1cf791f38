// Package tools checks that Debian's unchanged virt-manager tools work
// against the daemon on the simulated Xen host, with Debian's libvirtd
// beside it for storage and networks as scripts/run-simulated runs them:
// virt-install, virt-clone, virt-xml, and virt-manager under Xvfb (its New
// VM wizard, a guest's text console, performance graphs and snapshots);
// and libvirt-dbus, libvirt's D-Bus API.
package tools

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// osinfo names the guests' OS for virt-install, which Debian 12's needs
// when it cannot detect one from the install media: debian11, the newest
// Debian that Debian 12's osinfo-db knows.
const osinfo = "debian11"

// installArgs are virt-install's arguments for a small guest named name
// on network (virt-install's --network value), without disks or install
// method; --noautoconsole, as no console client runs in a test.
func installArgs(name, network string, more ...string) []string {
	return append([]string{"--name", name, "--memory", "256", "--vcpus", "1",
		"--osinfo", osinfo, "--network", network, "--noautoconsole"}, more...)
}

// file writes a file of size bytes in a directory of the test's and
// returns its path.
func file(t *testing.T, name string, size int) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, make([]byte, size), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// waitRunning waits until the guest is running.
func waitRunning(t *testing.T, d *daemontest.Daemon, name string) {
	t.Helper()
	d.WaitState(name, "running (booted)")
}

// mustContain fails unless s contains every one of want.
func mustContain(t *testing.T, what, s string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(s, w) {
			t.Fatalf("%s lacks %q:\n%s", what, w, s)
		}
	}
}
