package drivertests

import (
	"context"
	"fmt"
	"strings"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/test/daemontest"
)

// TestRestartKeepsTransientAndPendingRequests: a transient guest survives a
// kill -9 as transient; a shutdown and a reboot the guests act on while no
// daemon runs are handled by the next one; guest-initiated events of
// recovered guests reach the new daemon's clients.
func TestRestartKeepsTransientAndPendingRequests(t *testing.T) {
	t.Parallel() // mostly waiting for guests
	root := daemontest.NewRoot(t)
	d1 := daemontest.Start(t, root)
	xml := daemontest.WriteFile(t, t.TempDir(), "tr.xml", guestXML("tr", ""))
	d1.MustVirsh("create", xml)
	idTr := domid(t, d1, "tr")
	defineStart(t, d1, "off", guestXML("off", ""))
	idRe := defineStart(t, d1, "re", guestXML("re", ""))
	idLive := defineStart(t, d1, "live", guestXML("live", ""))
	requested := time.Now()
	d1.MustVirsh("shutdown", "off")
	d1.MustVirsh("reboot", "re")
	d1.Signal(syscall.SIGKILL)
	d1.Wait(bound)
	// Let the guests act on the requests (sim.DefaultShutdownDelay), most
	// likely while no daemon runs; either way the outcome is the same.
	time.Sleep(time.Until(requested.Add(sim.DefaultShutdownDelay + 100*time.Millisecond)))

	d2 := daemontest.Start(t, root)
	w := watchEvents(t, d2)
	if got := domid(t, d2, "tr"); got != idTr {
		t.Errorf("transient guest: id %d, was %d", got, idTr)
	}
	if info := d2.MustVirsh("dominfo", "tr"); !strings.Contains(info, "Persistent:     no") {
		t.Errorf("transient guest after restart:\n%s", info)
	}
	d2.WaitState("off", "shut off (shutdown)")
	if id := waitNewID(t, d2, "re", idRe); id <= idLive {
		t.Errorf("rebooted guest: id %d, want a new one above %d", id, idLive)
	}
	if got := d2.DomState("re"); got != "running (booted)" {
		t.Errorf("rebooted guest: %q", got)
	}

	// A recovered guest's own shutdown, and a transient one's end.
	d2.MustVirsh("shutdown", "live")
	d2.WaitState("live", "shut off (shutdown)")
	d2.MustVirsh("destroy", "tr")
	w.exactly(d2, "live", "STOPPED/SHUTDOWN")
	w.exactly(d2, "tr", "STOPPED/DESTROYED")
	if r := d2.Virsh("domstate", "tr"); r.Code == 0 {
		t.Errorf("transient guest still listed after destroy: %q", r.Stdout)
	}
}

// TestKill9DuringStartsAndDestroys: clients start and destroy their guests
// in a loop; after a kill -9 and a restart, every guest is in the state
// the last acknowledged operation (or the one in flight) left it in, and
// the hypervisor runs exactly the guests the daemon lists as active.
func TestKill9DuringStartsAndDestroys(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	const clients = 3
	l := newLedger()
	killDuring(t, d, clients, 100, l, func(conn *libvirt.Libvirt, c int) error { return startStop(conn, c, l) })

	d2 := daemontest.Start(t, root)
	active := map[string]bool{}
	for _, n := range strings.Fields(d2.MustVirsh("list", "--name")) {
		active[n] = true
	}
	for c := 0; c < clients; c++ {
		for g := 0; g < 2; g++ {
			name := fmt.Sprintf("s%d-%d", c, g)
			// Here outcome.defined means "running".
			if found := (outcome{defined: active[name]}); !l.acceptable(name, found) {
				t.Errorf("%s: running %v after restart, acknowledged %v (in flight %v)",
					name, active[name], l.acked[name], l.inFlight[name])
			}
		}
	}
	checkHostMatches(t, d2, active)
}

// startStop defines two guests, then starts and destroys them in turn
// until the connection fails.
func startStop(conn *libvirt.Libvirt, c int, l *ledger) error {
	var doms [2]libvirt.Domain
	for g := range doms {
		dom, err := conn.DomainDefineXML(guestXML(fmt.Sprintf("s%d-%d", c, g), ""))
		if err != nil {
			return err
		}
		doms[g] = dom
	}
	for i := 0; ; i++ {
		dom := doms[i%2]
		op, want := conn.DomainCreate, outcome{defined: true}
		if i%4 >= 2 {
			op, want = conn.DomainDestroy, outcome{}
		}
		l.begin(dom.Name, want)
		if err := op(dom); err != nil {
			return err
		}
		l.ack(dom.Name)
	}
}

// checkHostMatches compares the simulated hypervisor's guests with the
// daemon's running domains: no guest leaked, none missing.
func checkHostMatches(t *testing.T, d *daemontest.Daemon, active map[string]bool) {
	t.Helper()
	h, err := sim.Open(sim.Options{Dir: d.Paths.SimHostDir(), Host: sim.Shape(config.DefaultLibxl().Sim), PollInterval: -1})
	if err != nil {
		t.Fatal(err)
	}
	defer h.Close()
	guests, err := h.Guests(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	onHost := map[string]bool{}
	for _, g := range guests {
		onHost[g.Name] = true
		if !active[g.Name] {
			t.Errorf("guest %s (domid %d) runs on the host but the daemon does not list it running", g.Name, g.DomID)
		}
	}
	for n := range active {
		if !onHost[n] {
			t.Errorf("daemon lists %s running but the host has no such guest", n)
		}
	}
}
