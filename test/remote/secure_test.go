package remote

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// hvmVNC is an HVM guest whose VNC display has a password.
func hvmVNC(name string) string {
	return `<domain type='xen'>
  <name>` + name + `</name>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices><graphics type='vnc' port='-1' passwd='sekrit'/></devices>
</domain>`
}

// TestVirshDumpxmlSecurityInfo: graphics passwords appear only with
// --security-info, and the saved config and live status keep them, so
// they survive a daemon restart.
func TestVirshDumpxmlSecurityInfo(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	d.MustVirsh("define", guestFile(t, "s1", hvmVNC("s1")))
	check := func(d *daemontest.Daemon, when string) {
		t.Helper()
		for _, args := range [][]string{{"dumpxml"}, {"dumpxml", "--inactive"}} {
			if out := d.MustVirsh(append(args, "s1")...); strings.Contains(out, "passwd") {
				t.Errorf("%s: %v shows the password:\n%s", when, args, out)
			}
			if out := d.MustVirsh(append(args, "--security-info", "s1")...); !strings.Contains(out, "passwd='sekrit'") {
				t.Errorf("%s: %v --security-info lacks the password:\n%s", when, args, out)
			}
		}
	}
	check(d, "defined")
	saved, err := os.ReadFile(filepath.Join(root, "etc/libvirt/libxl/s1.xml"))
	if err != nil || !strings.Contains(string(saved), "passwd='sekrit'") {
		t.Errorf("saved config lacks the password (%v):\n%s", err, saved)
	}
	d.MustVirsh("start", "s1")
	check(d, "running")
	// The live XML has the port the driver chose, as libxl's does.
	if out := d.MustVirsh("dumpxml", "s1"); !strings.Contains(out, "<graphics type='vnc' port='5900' autoport='yes'") {
		t.Errorf("live XML lacks the chosen VNC port:\n%s", out)
	}
	if d.Stop() != 0 {
		t.Fatal("daemon did not stop cleanly")
	}
	d = daemontest.Start(t, root)
	check(d, "running, after a restart")
	d.MustVirsh("destroy", "s1")
	check(d, "stopped again")
}
