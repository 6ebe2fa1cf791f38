package drivertests

import (
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestIdleTimeoutWaitsForGuests: with -t, a running guest keeps the daemon
// alive after every client left (as libvirt's shutdown inhibition); once
// the last guest stops, the daemon exits 0 on its own. A guest recovered
// by a new daemon counts the same.
func TestIdleTimeoutWaitsForGuests(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root, "-t", "1")
	// A client holds the daemon up between the virsh runs below.
	hold := d.GoLibvirt(paths.RWSocketName)
	defineStart(t, d, "g", guestXML("g", ""))
	hold.Disconnect()
	time.Sleep(3 * time.Second) // three times the timeout, no client left
	if d.Exited() {
		t.Fatalf("daemon exited with a guest running:\n%s", d.Output())
	}

	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	d2 := daemontest.Start(t, root, "-t", "1")
	time.Sleep(2 * time.Second)
	if d2.Exited() {
		t.Fatalf("new daemon exited with a recovered guest running:\n%s", d2.Output())
	}
	d2.MustVirsh("destroy", "g")
	if code := d2.Wait(bound); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
