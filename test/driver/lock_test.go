package drivertests

import (
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestTwoDaemonsOnOneRootRefused: daemons with their own pid files and
// socket directories still share the host; the driver lock makes the
// second one exit 1, and the first keeps serving its guests.
func TestTwoDaemonsOnOneRootRefused(t *testing.T) {
	root := daemontest.NewRoot(t)
	start := func(name string) (*daemontest.Daemon, string) { return launchOwn(t, root, name) }
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

// launchOwn starts a daemon on root with its own pid file and socket
// directory (named after name), so that only the driver lock is shared.
func launchOwn(t *testing.T, root, name string) (*daemontest.Daemon, string) {
	sockDir := filepath.Join(root, "socks-"+name)
	conf := daemontest.WriteFile(t, root, name+".conf", `unix_sock_dir = "`+sockDir+`"`+"\n")
	cmd := daemontest.Command(t, root, "-f", conf, "-p", filepath.Join(root, name+".pid"))
	return daemontest.Launch(t, cmd, root), sockDir
}

// TestTwoDaemonsRacing: started together, exactly one gets the host.
func TestTwoDaemonsRacing(t *testing.T) {
	root := daemontest.NewRoot(t)
	a, aSocks := launchOwn(t, root, "a")
	b, bSocks := launchOwn(t, root, "b")
	for deadline := time.Now().Add(bound); !a.Exited() && !b.Exited(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("neither daemon gave way")
		}
	}
	winner, loser, socks := a, b, aSocks
	if a.Exited() {
		winner, loser, socks = b, a, bSocks
	}
	if code := loser.Wait(bound); code != 1 {
		t.Errorf("losing daemon exit %d:\n%s", code, loser.Output())
	}
	winner.WaitForSocket(filepath.Join(socks, paths.RWSocketName))
	uri := "xen+unix:///system?socket=" + filepath.Join(socks, paths.RWSocketName)
	if r := daemontest.Run(t, "virsh", "-q", "-c", uri, "list", "--name"); r.Code != 0 || strings.TrimSpace(r.Stdout) != "Domain-0" {
		t.Errorf("winning daemon: %q %s", r.Stdout, r.Stderr)
	}
	if code := winner.Stop(); code != 0 {
		t.Errorf("winning daemon exit %d", code)
	}
}

// TestRefusedDaemonDisturbsNoWrites: daemons refused by the driver lock
// while the running one writes configs must not touch its files (such as
// its temporary files mid-write).
func TestRefusedDaemonDisturbsNoWrites(t *testing.T) {
	root := daemontest.NewRoot(t)
	first, socks := launchOwn(t, root, "first")
	first.WaitForSocket(filepath.Join(socks, paths.RWSocketName))
	l := newLedger()
	stop := make(chan struct{})
	const clients = 3
	errs := make([]error, clients)
	var wg sync.WaitGroup
	for c := 0; c < clients; c++ {
		conn := daemontest.GoLibvirtAt(t, filepath.Join(socks, paths.RWSocketName))
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[c] = churn(conn, c, l, stop)
		}()
	}
	for i := 0; i < 15; i++ {
		second, _ := launchOwn(t, root, fmt.Sprintf("second%d", i))
		if code := second.Wait(bound); code != 1 {
			t.Errorf("second daemon %d: exit %d", i, code)
		}
	}
	close(stop)
	wg.Wait()
	for c, err := range errs {
		if err != nil {
			t.Errorf("client %d failed while refused daemons came and went: %v", c, err)
		}
	}
	t.Logf("%d operations", l.count.Load())
}
