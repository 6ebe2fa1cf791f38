package drivertests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestTwoDaemonsOnOneRootRefused: daemons with their own pid files and
// socket directories still share the host; the driver lock makes the
// second one exit 1, and the first keeps serving its guests.
func TestTwoDaemonsOnOneRootRefused(t *testing.T) {
	root := daemontest.NewRoot(t)
	start := func(name string) (*daemontest.Daemon, string) {
		sockDir := filepath.Join(root, "socks-"+name)
		conf := daemontest.WriteFile(t, root, name+".conf", `unix_sock_dir = "`+sockDir+`"`+"\n")
		cmd := daemontest.Command(t, root, "-f", conf, "-p", filepath.Join(root, name+".pid"))
		return daemontest.Launch(t, cmd, root), sockDir
	}
	first, firstSocks := start("first")
	first.WaitForSocket(filepath.Join(firstSocks, paths.RWSocketName))
	uri := "xen+unix:///system?socket=" + filepath.Join(firstSocks, paths.RWSocketName)
	virsh := func(args ...string) daemontest.Result {
		return daemontest.Run(t, "virsh", append([]string{"-q", "-c", uri}, args...)...)
	}
	xml := daemontest.WriteFile(t, t.TempDir(), "g.xml", guestXML("g", ""))
	if r := virsh("define", xml); r.Code != 0 {
		t.Fatalf("define: %s", r.Stderr)
	}
	if r := virsh("start", "g"); r.Code != 0 {
		t.Fatalf("start: %s", r.Stderr)
	}

	second, _ := start("second")
	if code := second.Wait(bound); code != 1 {
		t.Errorf("second daemon exit %d, want 1", code)
	}
	out := second.Output()
	if !strings.Contains(out, "another instance of the libxl driver is running") ||
		!strings.Contains(out, first.Paths.DriverLock()) {
		t.Errorf("second daemon's message does not name the driver lock:\n%s", out)
	}

	if b, err := os.ReadFile(first.Paths.DriverLock()); err != nil || strings.TrimSpace(string(b)) != strconv.Itoa(first.Cmd.Process.Pid) {
		t.Errorf("driver lock holds %q (%v), want the first daemon's pid %d", b, err, first.Cmd.Process.Pid)
	}
	if first.Exited() {
		t.Fatalf("first daemon died:\n%s", first.Output())
	}
	if r := virsh("domstate", "g"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "running" {
		t.Errorf("first daemon after the refusal: %q %s", r.Stdout, r.Stderr)
	}
	if r := virsh("destroy", "g"); r.Code != 0 {
		t.Errorf("destroy: %s", r.Stderr)
	}
	if code := first.Stop(); code != 0 {
		t.Errorf("first daemon exit %d", code)
	}
}
