// Package scripts tests the shell functions that decide what CI runs
// (scripts/test's, and test/xen/lib.sh's only), with bash itself.
package scripts

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// retryScope runs scripts/test's retry_scope on a first run's lines and
// returns the settings it picks and their description.
func retryScope(t *testing.T, lines ...string) string {
	t.Helper()
	first := filepath.Join(t.TempDir(), "first-run.txt")
	if err := os.WriteFile(first, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The functions alone, not the suite that scripts/test runs.
	script := `eval "$(sed -n '/^retry_alone() {/,/^}/p;/^retry_scope() {/,/^}/p' scripts/test)"
retry_scope "$1"; echo "[${scope[*]}] $what"`
	cmd := exec.Command("bash", "-c", script, "bash", first)
	cmd.Dir = "../.."
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	return strings.TrimSpace(string(out))
}

// oraclePassed is every oracle check's PASS line.
func oraclePassed(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile("../../test/xen/oracle.sh")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, l := range strings.Split(string(b), "\n") {
		if checks, ok := strings.CutPrefix(l, `CHECKS="`); ok {
			for _, c := range strings.Fields(strings.TrimSuffix(checks, `"`)) {
				lines = append(lines, "PASS "+c+": 1 section alike")
			}
		}
	}
	if len(lines) == 0 {
		t.Fatal("no CHECKS in test/xen/oracle.sh")
	}
	return lines
}

func TestRetryScope(t *testing.T) {
	passed := oraclePassed(t)
	for _, tc := range []struct {
		name  string
		lines []string
		want  string
	}{
		{"a check failed", append([]string{"FAIL libxl-conformance: libxl.test rc=1"}, passed...),
			"[ONLY=libxl-conformance] the checks that failed (libxl-conformance)"},
		{"QEMU ended early", []string{"PASS xl-pci: ok", "FAIL virsh-pci: no result", "FAIL oracle-host: no result", "FAIL vm: QEMU ended after 548 s"},
			"[ONLY=virsh-pci+oracle-host] the checks that failed (virsh-pci oracle-host)"},
		{"two checks", []string{"FAIL virsh-stats: x", "FAIL virsh-hotplug: y"},
			"[ONLY=virsh-stats+virsh-hotplug] the checks that failed (virsh-stats virsh-hotplug)"},
		{"only the oracle", []string{"PASS virsh-pv: ok", "FAIL oracle-pci: 3 differences"},
			"[ONLY=oracle] the oracle alone (only its checks failed)"},
		{"the daemon, the oracle passed", append([]string{"FAIL daemon-start: no pid", "FAIL virsh-pv: the daemon is not running"}, passed...),
			"[NO_ORACLE=1] all but the oracle (its checks passed)"},
		{"the daemon", []string{"FAIL daemon-start: no pid", "FAIL oracle-start: x"}, "[] the whole run"},
		{"the harness", []string{"FAIL harness: run.sh stopped early (rc=1)"}, "[] the whole run"},
		{"only the VM", append([]string{"FAIL vm: the VM did not power off"}, passed...),
			"[NO_ORACLE=1] all but the oracle (its checks passed)"},
	} {
		if got := retryScope(t, tc.lines...); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

// run.sh ONLY=CHECK runs that check and what it stands on.
func TestOnly(t *testing.T) {
	for _, tc := range []struct {
		only, check string
		runs        bool
	}{
		{"", "virsh-pci", true},
		{"oracle", "virsh-pci", true},
		{"virsh-pci", "virsh-pci", true},
		{"virsh-pci", "daemon-start", true},
		{"virsh-pci", "virsh-pv", false},
		{"virsh-pci+virsh-stats", "virsh-pv-disk-nic", true},
		{"virsh-hotplug", "virsh-pv-disk-nic", true},
		{"virsh-pv-disk-nic", "virsh-stats", false},
		{"virsh-pcix", "virsh-pci", false},
	} {
		script := `eval "$(sed -n '/^only() {/,/^}/p' test/xen/lib.sh)"; XT_ONLY=$1; only "$2"`
		cmd := exec.Command("bash", "-c", script, "bash", tc.only, tc.check)
		cmd.Dir = "../.."
		out, err := cmd.CombinedOutput()
		if runs := err == nil; runs != tc.runs || len(out) > 0 {
			t.Errorf("ONLY=%s: %s runs: %v, want %v %s", tc.only, tc.check, runs, tc.runs, out)
		}
	}
}
