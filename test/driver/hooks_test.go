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
// reconnect for a guest found running at start; a failing prepare, start or
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
	d.Signal(syscall.SIGHUP)
	for deadline := time.Now().Add(bound); ; time.Sleep(20 * time.Millisecond) {
		if b, _ := os.ReadFile(filepath.Join(hooks, "calls.log")); strings.Contains(string(b), "reload") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no reload hook after SIGHUP")
		}
	}
	expect("reload", "- reload begin SIGHUP ")
	d.Stop()
	expect("daemon stop", "- shutdown - shutdown ")

	d = daemontest.Start(t, root)
	expect("daemon start with a guest running", "- start - start ", "hk reconnect begin - "+live)
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
