package drivertests

import (
	"os"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestAutostartOncePerBoot: an autostart guest is started by the first
// daemon after a host boot, and not again by later daemons of that boot,
// even when it was shut off meanwhile.
func TestAutostartOncePerBoot(t *testing.T) {
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	define(t, d1, "auto", guestXML("auto", ""))
	define(t, d1, "manual", guestXML("manual", ""))
	d1.MustVirsh("autostart", "auto")
	if got := strings.TrimSpace(d1.MustVirsh("dominfo", "auto")); !strings.Contains(got, "Autostart:      enable") {
		t.Fatalf("dominfo after virsh autostart:\n%s", got)
	}
	// This boot's autostart already ran (with nothing to start).
	if got := d1.DomState("auto"); got != "shut off (unknown)" {
		t.Fatalf("auto: %q before the reboot", got)
	}
	if code := d1.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// The host reboots: everything under the runtime root is gone,
	// the simulated hypervisor's state with it.
	if err := os.RemoveAll(d1.Paths.RunStateDir); err != nil {
		t.Fatal(err)
	}
	d2 := daemontest.Start(t, root)
	if got := d2.DomState("auto"); got != "running (booted)" {
		t.Fatalf("auto after the host booted: %q, want running (booted)", got)
	}
	if got := d2.DomState("manual"); got != "shut off (unknown)" {
		t.Errorf("manual after the host booted: %q", got)
	}
	id := domid(t, d2, "auto")
	d2.MustVirsh("destroy", "auto")
	if code := d2.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}

	// Same boot: the guest stays off.
	d3 := daemontest.Start(t, root)
	if got := d3.DomState("auto"); got != "shut off (unknown)" {
		t.Errorf("auto after a daemon restart in the same boot: %q, want shut off (unknown)", got)
	}
	// Started again by hand and the daemon restarted: the guest is the
	// same one, not started a second time.
	d3.MustVirsh("start", "auto")
	id3 := domid(t, d3, "auto")
	if id3 == id {
		t.Errorf("restarted guest reused id %d", id)
	}
	if code := d3.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	d4 := daemontest.Start(t, root)
	if got := domid(t, d4, "auto"); got != id3 {
		t.Errorf("auto: id %d after a daemon restart, was %d", got, id3)
	}
	if code := d4.Stop(); code != 0 {
		t.Errorf("exit %d", code)
	}
}

// TestAutostartFailureSparesOthers: a guest that fails to start at boot is left
// off and logged; the other autostart guests start and the daemon serves.
func TestAutostartFailureSparesOthers(t *testing.T) {
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	define(t, d1, "bad", guestXML("bad", faults(`start="fail"`)))
	define(t, d1, "good", guestXML("good", ""))
	d1.MustVirsh("autostart", "bad")
	d1.MustVirsh("autostart", "good")
	if code := d1.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	if err := os.RemoveAll(d1.Paths.RunStateDir); err != nil {
		t.Fatal(err)
	}
	d2 := daemontest.Start(t, root)
	if got := d2.DomState("good"); got != "running (booted)" {
		t.Errorf("good: %q", got)
	}
	if got := d2.DomState("bad"); !strings.HasPrefix(got, "shut off") {
		t.Errorf("bad: %q", got)
	}
	if out := d2.Output(); !strings.Contains(out, "Failed to autostart VM 'bad'") {
		t.Errorf("no autostart failure logged:\n%s", out)
	}
}
