// Package process tests the virtxend process from outside: command line,
// files, sockets, signals, activation and notification (issue: the daemon
// process, exactly as its man page describes).
package process

import (
	"os/exec"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

func runBinary(t *testing.T, root string, args ...string) (string, int) {
	t.Helper()
	cmd := daemontest.Command(t, root, args...)
	out, _ := cmd.CombinedOutput()
	return string(out), cmd.ProcessState.ExitCode()
}

func TestVersionMatchesManPage(t *testing.T) {
	for _, arg := range []string{"--version", "-V"} {
		out, code := runBinary(t, t.TempDir(), arg)
		if code != 0 || out != "virtxend (libvirt) 11.3.0\n" {
			t.Errorf("%s: exit %d, output %q", arg, code, out)
		}
	}
}

func TestHelpNamesEveryOptionAndPath(t *testing.T) {
	root := t.TempDir()
	out, code := runBinary(t, root, "--help")
	if code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, want := range []string{"--help", "--verbose", "--daemon", "--timeout", "--config", "--version",
		"--pid-file", root + "/etc/libvirt/virtxend.conf", root + "/run/libvirt/virtxend-sock-ro",
		root + "/run/virtxend.pid"} {
		if !strings.Contains(out, want) {
			t.Errorf("help lacks %q:\n%s", want, out)
		}
	}
}

func TestBadCommandLines(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"-t", "-1"}, "invalid value for timeout: '-1'"},
		{[]string{"--timeout=abc"}, "invalid value for timeout: 'abc'"},
		{[]string{"-t", "99999999999"}, "invalid value for timeout"},
		{[]string{"stray"}, "unexpected, non-option, command line arguments: stray"},
		{[]string{"--bogus"}, "unrecognized option '--bogus'"},
		{[]string{"-x"}, "invalid option -- 'x'"},
		{[]string{"-t"}, "option requires an argument -- 't'"},
		{[]string{"--config"}, "option '--config' requires an argument"},
		{[]string{"--daemon=yes"}, "option '--daemon' doesn't allow an argument"},
	}
	for _, c := range cases {
		out, code := runBinary(t, t.TempDir(), c.args...)
		lines := strings.Split(strings.TrimSpace(out), "\n")
		if code != 1 || !strings.Contains(lines[0], c.want) || len(lines) != 2 ||
			lines[1] != "Try 'virtxend --help' for more information." {
			t.Errorf("%v: exit %d, output %q; want exit 1, %q and the usage hint", c.args, code, out, c.want)
		}
	}
}

func TestRefusesToRunAsNonRoot(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	root := t.TempDir()
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", daemontest.Binary(t))
	cmd.Env = []string{"VIRTXEND_ROOT=" + root}
	out, _ := cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 1 || !strings.Contains(string(out), "must be run as root") {
		t.Fatalf("exit %d, output %q", cmd.ProcessState.ExitCode(), out)
	}
}
