package drivertests

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// hookScript logs each call (its arguments, and the domain element's head
// and name of the XML it reads) to the log beside it, and fails the calls
// whose guest is named fail-OP for that OP.
const hookScript = `#!/bin/sh
in=$(cat)
head=$(printf '%s' "$in" | grep -o "<domain [^>]*>" | head -n 1)
echo "$* $head" >>"$(dirname "$0")/calls.log"
case "$1" in fail-$2) echo "refused by the $2 hook" >&2; exit 1 ;; esac
exit 0
`

// TestHooks: libvirt's hook scripts in /etc/libvirt/hooks run as libvirt's
// daemons and libxl driver run them: the daemon hook at start, reload and
// shutdown; the libxl hook's prepare, start and started around a start (the
// last reading the live XML with the domid), stopped and release at its end,
// reconnect for a guest found running at start (one it refuses runs on,
// unmanaged, as libvirt leaves it, and is not adopted); a failing prepare, start or
// started hook fails the start with libvirt's error, leaving the guest shut
// off (the cleanup hooks run where libvirt runs them).
func TestHooks(t *testing.T) {
	root := daemontest.NewRoot(t)
	hooks := filepath.Join(root, "etc", "libvirt", "hooks")
	for _, name := range []string{"daemon", "libxl"} {
		daemontest.WriteFile(t, hooks, name, hookScript)
		if err := os.Chmod(filepath.Join(hooks, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	calls := func() []string {
		t.Helper()
		b, _ := os.ReadFile(filepath.Join(hooks, "calls.log"))
		os.Remove(filepath.Join(hooks, "calls.log"))
		return strings.Split(strings.TrimSuffix(string(b), "\n"), "\n")
	}
	expect := func(what string, want ...string) {
		t.Helper()
		if got := calls(); strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Errorf("%s: hooks called\n%s\nwant\n%s", what, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
	}

	d := daemontest.Start(t, root)
	expect("daemon start", "- start - start ")
	id := defineStart(t, d, "hk", guestXML("hk", ""))
	live := "<domain type='xen' id='" + strconv.Itoa(id) + "'>"
	expect("start", "hk prepare begin - <domain type='xen'>", "hk start begin - <domain type='xen'>",
		"hk started begin - "+live)
	refusedID := defineStart(t, d, "fail-reconnect", guestXML("fail-reconnect", ""))
	refused := "<domain type='xen' id='" + strconv.Itoa(refusedID) + "'>"
	calls()
	d.Signal(syscall.SIGHUP)
	waitForFile(t, filepath.Join(hooks, "calls.log"), "reload")
	expect("reload", "- reload begin SIGHUP ")
	d.Stop()
	expect("daemon stop", "- shutdown - shutdown ")

	d = daemontest.Start(t, root)
	expect("daemon start with guests running", "- start - start ",
		"fail-reconnect reconnect begin - "+refused, "fail-reconnect stopped end - "+refused,
		"fail-reconnect release end - <domain type='xen'>", "hk reconnect begin - "+live)
	// The guest the reconnect hook refused runs on, unmanaged, as libvirt leaves it.
	if got := d.DomState("fail-reconnect"); got != "shut off (unknown)" {
		t.Errorf("the guest whose reconnect hook failed: %q", got)
	}
	if out := daemontest.SimXL(t, root, "list"); !strings.Contains(out, "fail-reconnect") {
		t.Errorf("the guest whose reconnect hook failed no longer runs:\n%s", out)
	}
	d.MustVirsh("destroy", "hk")
	expect("destroy", "hk stopped end - "+live, "hk release end - <domain type='xen'>")

	for _, op := range []string{"prepare", "start", "started"} {
		name := "fail-" + op
		define(t, d, name, guestXML(name, ""))
		calls()
		r := d.Virsh("start", name)
		want := "error: Hook script execution failed: internal error: Child process (LC_ALL=C "
		wantEnd := filepath.Join(hooks, "libxl") + " " + name + " " + op + " begin -) unexpected exit status 1: refused by the " + op + " hook"
		if r.Code == 0 || !strings.Contains(r.Stderr, want) || !strings.Contains(r.Stderr, wantEnd) {
			t.Errorf("start with a failing %s hook: %+v", op, r)
		}
		if got := d.DomState(name); !strings.HasPrefix(got, "shut off") {
			t.Errorf("after a failing %s hook %s is %q", op, name, got)
		}
		var ops []string
		for _, c := range calls() {
			ops = append(ops, strings.Fields(c)[1])
		}
		wantOps := map[string]string{"prepare": "prepare", "start": "prepare start stopped release",
			"started": "prepare start started stopped release"}[op]
		if strings.Join(ops, " ") != wantOps {
			t.Errorf("a failing %s hook: hooks %v, want %s", op, ops, wantOps)
		}
	}
}

// TestMigrateHook: the destination's libxl hook filters an incoming
// migration's definition (its migrate operation reads the XML and prints
// the one to use). The hook is added while the daemon runs and taken up at
// its reload, as libvirt takes a new hook.
func TestMigrateHook(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	defineStart(t, a.Daemon, "g", guestXML("g", ""))
	hooks := filepath.Join(b.Root, "etc", "libvirt", "hooks")
	daemontest.WriteFile(t, hooks, "libxl", `#!/bin/sh
case "$2" in
migrate) sed 's|</domain>|<description>filtered by the migrate hook</description></domain>|' ;;
*) cat >/dev/null ;;
esac
`)
	daemontest.WriteFile(t, hooks, "daemon", "#!/bin/sh\n[ \"$2\" = reload ] && touch \"$(dirname \"$0\")/reloaded\"\nexit 0\n")
	for _, name := range []string{"libxl", "daemon"} {
		if err := os.Chmod(filepath.Join(hooks, name), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	b.Signal(syscall.SIGHUP)
	waitForFile(t, filepath.Join(hooks, "reloaded"), "")
	r := a.Python(`
import sys, libvirt
src, dst = libvirt.open(sys.argv[1]), libvirt.open(sys.argv[2])
there = src.lookupByName("g").migrate3(dst, {libvirt.VIR_MIGRATE_PARAM_URI: "tcp://" + sys.argv[3]}, libvirt.VIR_MIGRATE_LIVE)
print("there", there.isActive(), "filtered by the migrate hook" in there.XMLDesc(0))
`, b.URI(), b.Addr)
	if !strings.Contains(r.Stdout, "there 1 True") {
		t.Errorf("migration through the destination's hook: %s%s", r.Stdout, r.Stderr)
	}
}

// waitForFile waits until the file at path exists and holds want.
func waitForFile(t *testing.T, path, want string) {
	t.Helper()
	for deadline := time.Now().Add(bound); ; time.Sleep(20 * time.Millisecond) {
		if b, err := os.ReadFile(path); err == nil && strings.Contains(string(b), want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never held %q", path, want)
		}
	}
}
