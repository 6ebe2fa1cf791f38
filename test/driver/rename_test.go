package drivertests

import (
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestVirshDomrename: virsh domrename, which libvirt's Xen driver does not
// serve, renames a shut-off guest as libvirt's QEMU driver does: its
// autostart goes with it, the old name is gone, its events are
// UNDEFINED/RENAMED then DEFINED/RENAMED, and it is there under its new
// name after a kill -9; a running guest, a taken name, and the read-only
// socket are refused with libvirt's errors. libvirt-python's rename too.
func TestVirshDomrename(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	define(t, d, "old", guestXML("old", ""))
	define(t, d, "taken", guestXML("taken", ""))
	d.MustVirsh("autostart", "old")
	events := virshEvents(t, d)

	d.MustVirsh("domrename", "old", "new")
	events.Expect("event 'lifecycle' for domain 'old': Undefined Renamed")
	events.Expect("event 'lifecycle' for domain 'new': Defined Renamed")
	if list := listAll(t, d); list["old"] || !list["new"] {
		t.Errorf("after domrename: %v", list)
	}
	if info := d.MustVirsh("dominfo", "new"); !strings.Contains(info, "Autostart:      enable") {
		t.Errorf("autostart did not follow:\n%s", info)
	}
	virshFails(t, d, "error: Requested operation is not valid: domain with name 'taken' already exists", "domrename", "new", "taken")
	virshFails(t, d, "error: Requested operation is not valid: Can't rename domain to itself", "domrename", "new", "new")
	r := daemontest.Run(t, "virsh", "-c", d.ROURI(), "domrename", "new", "other")
	if r.Code == 0 || !strings.Contains(r.Stderr, "operation forbidden: read only access prevents virDomainRename") {
		t.Errorf("read-only domrename: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("start", "new")
	virshFails(t, d, "error: Requested operation is not valid: cannot rename active domain", "domrename", "new", "other")
	d.MustVirsh("destroy", "new")

	py := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
conn.lookupByName("new").rename("py", 0)
print(conn.lookupByName("py").name())
`)
	if strings.TrimSpace(py.Stdout) != "py" {
		t.Fatalf("python rename: %q %s", py.Stdout, py.Stderr)
	}
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	d2 := daemontest.Start(t, root)
	if list := listAll(t, d2); list["new"] || list["old"] || !list["py"] {
		t.Errorf("after kill -9: %v", list)
	}
	if info := d2.MustVirsh("dominfo", "py"); !strings.Contains(info, "Autostart:      enable") {
		t.Errorf("autostart after kill -9:\n%s", info)
	}
}

// virshFails runs virsh and checks that it fails printing want.
// virshEvents is `virsh event --all --loop`, listening: a throwaway
// domain's events have reached it.
func virshEvents(t *testing.T, d *daemontest.Daemon) *daemontest.Terminal {
	t.Helper()
	events := d.VirshTerminal("event", "--all", "--loop")
	probe := daemontest.WriteFile(t, t.TempDir(), "probe.xml", guestXML("probe", ""))
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(events.Output(), "'probe'"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("virsh event printed nothing:\n%s", events.Output())
		}
		d.Virsh("define", probe)
		d.Virsh("undefine", "probe")
	}
	return events
}

func virshFails(t *testing.T, d *daemontest.Daemon, want string, args ...string) {
	t.Helper()
	if r := d.Virsh(args...); r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("virsh %s: exit %d, stderr %q; want %q", strings.Join(args, " "), r.Code, r.Stderr, want)
	}
}
