package tools

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// busctl runs busctl on the test's bus, its answer in JSON.
func busctl(t *testing.T, bus string, args ...string) json.RawMessage {
	t.Helper()
	r := daemontest.Run(t, "busctl", append([]string{"--address=" + bus, "--json=short"}, args...)...)
	if r.Code != 0 {
		t.Fatalf("busctl %s: exit %d: %s", strings.Join(args, " "), r.Code, r.Stderr)
	}
	if strings.TrimSpace(r.Stdout) == "" {
		return nil // a method that returns nothing
	}
	var answer struct {
		Data json.RawMessage `json:"data"`
	}
	if err := json.Unmarshal([]byte(r.Stdout), &answer); err != nil {
		t.Fatalf("busctl %s: %v: %s", strings.Join(args, " "), err, r.Stdout)
	}
	return answer.Data
}

// TestLibvirtDBus: Debian's libvirt-dbus, libvirt's D-Bus API (what
// Cockpit's machines page and D-Bus scripts use), which offers Xen as
// /org/libvirt/Xen on xen:///, serves the daemon's guests on a system bus
// of the test's own: it runs, as its system service does, with the
// daemon's sockets at their usual place (a mount namespace of its own).
// Through it a guest is defined, started, listed, paused, resumed, read
// (its properties and bulk statistics), destroyed and undefined, and each
// step comes back as libvirt-dbus's DomainEvent signal.
func TestLibvirtDBus(t *testing.T) {
	for _, tool := range []string{"/usr/sbin/libvirt-dbus", "dbus-daemon", "busctl"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed (scripts/install-deps installs libvirt-dbus): %v", tool, err)
		}
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	bus, busLog := startBus(t)
	startLibvirtDBus(t, d, bus)
	monitor := daemontest.Beside(t, "busctl monitor", exec.Command("busctl", "--address="+bus, "--json=short", "monitor",
		"--match=type='signal',interface='org.libvirt.Connect',member='DomainEvent'"))
	// the signals of the first step must not go by before the monitor is one
	for deadline := time.Now().Add(10 * time.Second); !strings.Contains(busLog.String(), "became a monitor"); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("busctl monitor did not become one:\n%s", busLog.String())
		}
	}

	const xen = "/org/libvirt/Xen"
	var path string
	// the first call opens libvirt-dbus's connection to the daemon
	json.Unmarshal(busctl(t, bus, "call", "org.libvirt", xen, "org.libvirt.Connect", "DomainDefineXML", "s",
		`<domain type='xen'><name>dbus</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`), &[]any{&path})
	if !strings.HasPrefix(path, xen+"/domain/_") {
		t.Fatalf("DomainDefineXML: %q", path)
	}
	dom := func(method, sig string, args ...string) json.RawMessage {
		t.Helper()
		return busctl(t, bus, append([]string{"call", "org.libvirt", path, "org.libvirt.Domain", method, sig}, args...)...)
	}
	prop := func(name string) string {
		t.Helper()
		return string(busctl(t, bus, "get-property", "org.libvirt", path, "org.libvirt.Domain", name))
	}
	dom("Create", "u", "0")
	if got := prop("Active") + prop("Name") + prop("OSType"); got != `true"dbus""xen"` {
		t.Errorf("Active, Name, OSType: %s", got)
	}
	var paths [][]string
	json.Unmarshal(busctl(t, bus, "call", "org.libvirt", xen, "org.libvirt.Connect", "ListDomains", "u", "1"), &paths) // active
	if len(paths) != 1 || len(paths[0]) != 2 || !strings.Contains(strings.Join(paths[0], " "), path) {
		t.Errorf("ListDomains(active): %v (Domain-0 and %s)", paths, path)
	}
	dom("Suspend", "")
	dom("Resume", "")
	stats := string(dom("GetStats", "uu", "0", "0"))
	// running, unpaused (5); the variants of a{sv}
	for _, k := range []string{`"state.state":{"type":"v","data":{"type":"i","data":1}}`, `"state.reason":{"type":"v","data":{"type":"i","data":5}}`,
		`"vcpu.current":{"type":"v","data":{"type":"u","data":1}}`, `"balloon.maximum":{"type":"v","data":{"type":"t","data":131072}}`} {
		if !strings.Contains(stats, k) {
			t.Errorf("GetStats lacks %s: %s", k, stats)
		}
	}
	dom("Destroy", "u", "0")
	dom("Undefine", "u", "0")

	// DomainEvent (o path, i event, i detail) for each step: defined
	// (added), started (booted), suspended (paused), resumed (unpaused),
	// stopped (destroyed), undefined (removed)
	want := "0/0 2/0 3/0 4/0 5/1 1/0"
	var got string
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		if got = domainEvents(monitor.String(), path); got == want {
			return
		}
	}
	t.Errorf("DomainEvent signals %q, want %q; the monitor saw:\n%s", got, want, monitor.String())
}

// domainEvents is "EVENT/DETAIL ..." of the DomainEvent signals for path
// among busctl monitor's JSON lines.
func domainEvents(lines, path string) string {
	var evs []string
	for _, line := range strings.Split(lines, "\n") {
		var m struct {
			Member  string `json:"member"`
			Payload struct {
				Data []any `json:"data"`
			} `json:"payload"`
		}
		if json.Unmarshal([]byte(line), &m) != nil || m.Member != "DomainEvent" || len(m.Payload.Data) != 3 || m.Payload.Data[0] != path {
			continue
		}
		evs = append(evs, fmt.Sprintf("%v/%v", m.Payload.Data[1], m.Payload.Data[2]))
	}
	return strings.Join(evs, " ")
}

// startBus runs a D-Bus system bus of the test's own (any user may own
// any name on it and watch its signals) and returns its address and what
// it logs.
func startBus(t *testing.T) (string, *daemontest.SyncBuffer) {
	t.Helper()
	dir := t.TempDir()
	sock := filepath.Join(dir, "bus")
	conf := daemontest.WriteFile(t, dir, "bus.conf", `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=`+sock+`</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`)
	out := daemontest.Beside(t, "dbus-daemon", exec.Command("dbus-daemon", "--config-file="+conf, "--nofork"))
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(sock); err == nil {
			return "unix:path=" + sock, out
		}
		if time.Now().After(deadline) {
			t.Fatalf("dbus-daemon made no socket:\n%s", out.String())
		}
	}
}

// startLibvirtDBus runs libvirt-dbus on the system bus at address bus,
// with d's sockets at their default place, and waits until it owns
// org.libvirt.
func startLibvirtDBus(t *testing.T, d *daemontest.Daemon, bus string) {
	t.Helper()
	argv := d.AtDefaultSockets(`DBUS_SYSTEM_BUS_ADDRESS="$1" exec /usr/sbin/libvirt-dbus --system`, bus)
	out := daemontest.Beside(t, "libvirt-dbus", exec.Command(argv[0], argv[1:]...))
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(100 * time.Millisecond) {
		r := daemontest.Run(t, "busctl", "--address="+bus, "status", "org.libvirt")
		if r.Code == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirt-dbus did not take org.libvirt: %s\n%s", r.Stderr, out.String())
		}
	}
}
