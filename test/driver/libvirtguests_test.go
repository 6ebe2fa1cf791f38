package drivertests

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// libvirtGuests is Debian's libvirt-guests script (libvirt-daemon-system),
// which saves the running guests at host shutdown and brings them back
// at boot.
const libvirtGuests = "/usr/lib/libvirt/libvirt-guests.sh"

// runLibvirtGuests runs the script with action and the settings in conf.
// Its config, list and lock files sit at fixed paths (/etc/default,
// /var/lib/libvirt, /var/lock): it runs in a mount namespace of its own
// where a directory of the test's is mounted on each, state kept between
// runs as the host's would be.
func runLibvirtGuests(t *testing.T, state, conf, action string) string {
	t.Helper()
	for _, sub := range []string{"default", "lib", "lock"} {
		if err := os.MkdirAll(filepath.Join(state, sub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	daemontest.WriteFile(t, state, "default/libvirt-guests", conf)
	script := `set -e
mount --bind "$1/default" /etc/default
mkdir -p /var/lib/libvirt && mount --bind "$1/lib" /var/lib/libvirt
lock=$(readlink -f /var/lock) && mkdir -p "$lock" && mount --bind "$1/lock" "$lock"
exec ` + libvirtGuests + ` "$2"`
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", state, action)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("libvirt-guests %s: %v\n%s", action, err, out)
	}
	return string(out)
}

// TestLibvirtGuests: with ON_SHUTDOWN=suspend, stop managed-saves every
// running guest and start brings them back running; with
// ON_SHUTDOWN=shutdown, stop shuts them down.
func TestLibvirtGuests(t *testing.T) {
	if _, err := os.Stat(libvirtGuests); err != nil {
		t.Skipf("%s: %v", libvirtGuests, err)
	}
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "a", guestXML("a", ""))
	defineStart(t, d, "b", guestXML("b", ""))
	define(t, d, "off", guestXML("off", ""))
	state := t.TempDir()
	conf := "URIS='" + d.URI() + "'\nON_BOOT=start\nON_SHUTDOWN=suspend\nSHUTDOWN_TIMEOUT=60\n"

	out := runLibvirtGuests(t, state, conf, "stop")
	for _, g := range []string{"a", "b"} {
		if got := d.DomState(g); got != "shut off (saved)" {
			t.Errorf("%s after stop: %q\n%s", g, got, out)
		}
		if info := d.MustVirsh("dominfo", g); !strings.Contains(info, "Managed save:   yes") {
			t.Errorf("%s has no managed save image:\n%s", g, info)
		}
	}
	out = runLibvirtGuests(t, state, conf, "start")
	for _, g := range []string{"a", "b"} {
		if got := d.DomState(g); got != "running (booted)" {
			t.Errorf("%s after start: %q\n%s", g, got, out)
		}
	}
	if got := d.DomState("off"); got != "shut off (unknown)" {
		t.Errorf("a guest that was off: %q", got)
	}
	w.exactly(d, "a", "DEFINED/ADDED", "STARTED/BOOTED", "JOB_COMPLETED/SAVE", "STOPPED/SAVED", "STARTED/RESTORED")

	conf = strings.Replace(conf, "ON_SHUTDOWN=suspend", "ON_SHUTDOWN=shutdown", 1)
	out = runLibvirtGuests(t, state, conf, "stop")
	for _, g := range []string{"a", "b"} {
		if got := d.DomState(g); got != "shut off (shutdown)" {
			t.Errorf("%s after stop with ON_SHUTDOWN=shutdown: %q\n%s", g, got, out)
		}
	}
}
