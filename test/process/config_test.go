package process

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

func TestConfigErrorsExitWithoutTouchingAnything(t *testing.T) {
	cases := []struct {
		name, file, content, want string
	}{
		{"wrong type", "virtxend.conf", "\n\nmax_clients = \"many\"\n", "virtxend.conf:3: max_clients"},
		{"syntax", "virtxend.conf", "max_clients = = 1\n", "virtxend.conf:1"},
		{"auth not offered", "virtxend.conf", "auth_unix_rw = \"polkit\"\n", "auth_unix_rw"},
		{"unknown auth", "virtxend.conf", "auth_unix_ro = \"kerberos\"\n", "unsupported auth kerberos"},
		{"bad backend", "libxl.conf", "backend = \"kvm\"\n", "libxl.conf:1: backend"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			root := daemontest.NewRoot(t)
			daemontest.WriteFile(t, root, filepath.Join("etc/libvirt", c.file), c.content)
			for _, args := range [][]string{nil, {"-d"}} { // -d: the foreground process says why
				out, code := runBinary(t, root, args...)
				if code != 1 || !strings.Contains(out, c.want) || strings.Count(strings.TrimSpace(out), "\n") != 0 {
					t.Errorf("%v: exit %d, output %q; want exit 1 and one line with %q", args, code, out, c.want)
				}
			}
			if _, err := os.Stat(filepath.Join(root, "run")); !os.IsNotExist(err) {
				t.Error("the daemon created its run directory despite the bad config")
			}
		})
	}
}

func TestExplicitConfigMustExist(t *testing.T) {
	root := daemontest.NewRoot(t)
	out, code := runBinary(t, root, "-f", filepath.Join(root, "nope.conf"))
	if code != 1 || !strings.Contains(out, "nope.conf") {
		t.Fatalf("exit %d, output %q", code, out)
	}
}

func TestExplicitConfigIsUsed(t *testing.T) {
	root := daemontest.NewRoot(t)
	sockDir := filepath.Join(root, "elsewhere")
	conf := daemontest.WriteFile(t, root, "my.conf", `unix_sock_dir = "`+sockDir+`"`)
	d := daemontest.Launch(t, daemontest.Command(t, root, "--config", conf), root)
	d.WaitForSocket(filepath.Join(sockDir, "virtxend-sock"))
	d.Stop()
}

func TestLogOutputsAndVerbose(t *testing.T) {
	root := daemontest.NewRoot(t)
	logFile := filepath.Join(root, "daemon.log")
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", `log_outputs = "2:file:`+logFile+`"`)
	d := daemontest.Start(t, root, "--verbose")
	d.Stop()
	data, err := os.ReadFile(logFile)
	if err != nil || !strings.Contains(string(data), "virtxend is ready") {
		t.Fatalf("log file: %v\n%s", err, data)
	}
	// Without -v the default level (warning) hides info messages.
	root2 := daemontest.NewRoot(t)
	d2 := daemontest.Start(t, root2)
	d2.Stop()
	if strings.Contains(d2.Output(), "virtxend is ready") {
		t.Errorf("info message shown at the default level:\n%s", d2.Output())
	}
}
