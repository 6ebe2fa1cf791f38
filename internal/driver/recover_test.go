package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/backend/sim"
	"virtxend/internal/events"
	"virtxend/internal/store"
)

// restart closes drv and starts a new driver (and sim view) on the same root.
func (e *env) restart(drv *Driver) (*Driver, *simHost) {
	e.t.Helper()
	drv.Close()
	return e.start()
}

func TestRestartRecovery(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	keep := define(t, drv, "keep", 1, "")
	if _, err := drv.Create(ctx, keep, uint32(libvirt.DomainStartPaused)); err != nil {
		t.Fatal(err)
	}
	tr, err := drv.CreateXML(ctx, domXML("trans", 2, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	drv.CreateXML(ctx, domXML("gone", 3, ""), 0)
	goneP := define(t, drv, "gonep", 4, "")
	drv.Create(ctx, goneP, 0)
	off := define(t, drv, "off", 5, "")
	ids := map[string]int32{}
	for _, n := range []string{"keep", "trans", "gone", "gonep"} {
		d, _ := drv.LookupByName(ctx, n)
		ids[n] = d.ID
	}
	drv.Close()

	// While no daemon runs: two guests vanish, one shuts itself down.
	outsider := e.sim()
	outsider.Vanish(ctx, backend.DomID(ids["gone"]))
	outsider.Vanish(ctx, backend.DomID(ids["gonep"]))
	outsider.GuestShutdown(ctx, backend.DomID(ids["trans"]), backend.ReasonPoweroff)
	outsider.Close()
	_ = h

	// Subscribed before the driver starts: the shutdown that happened
	// while no daemon ran is reported during the recovery itself.
	broker := events.NewBroker()
	w := watchBroker(t, broker)
	h2 := e.sim()
	drv2, err := New(e.cfg, e.root, h2, nil, Options{Broker: broker})
	if err != nil {
		h2.Close()
		t.Fatal(err)
	}
	defer drv2.Close()
	k, err := drv2.LookupByName(ctx, "keep")
	if err != nil || k.ID != ids["keep"] {
		t.Fatalf("keep: %+v %v (was id %d)", k, err, ids["keep"])
	}
	if st, r := stateOf(t, drv2, keep); st != libvirt.DomainPaused || r != int32(libvirt.DomainPausedUser) {
		t.Fatalf("keep state %v/%d", st, r)
	}
	if p, _ := drv2.IsPersistent(ctx, keep); !p {
		t.Fatal("keep lost its config")
	}
	if _, err := drv2.LookupByName(ctx, "gone"); err == nil {
		t.Fatal("vanished transient domain still listed")
	}
	gp, err := drv2.LookupByName(ctx, "gonep")
	if err != nil || gp.ID != -1 {
		t.Fatalf("gonep: %+v %v", gp, err)
	}
	if _, err := os.Stat(filepath.Join(e.root.StateDir(), "gonep.xml")); !os.IsNotExist(err) {
		t.Fatal("status of vanished guest kept")
	}
	if o, err := drv2.LookupByUUID(ctx, off.UUID); err != nil || o.ID != -1 {
		t.Fatalf("off: %+v %v", o, err)
	}
	// The guests that vanished and the one that shut down while we were
	// away are reported during the recovery, in no fixed order.
	h2.Poll()
	got := map[lc]bool{}
	for range 3 {
		ev := w.next()
		got[lc{ev.Dom.Name, libvirt.DomainEventType(ev.Lifecycle.Event), ev.Lifecycle.Detail}] = true
	}
	for _, want := range []lc{
		{"gone", evStopped, int32(libvirt.DomainEventStoppedDestroyed)},
		{"gonep", evStopped, int32(libvirt.DomainEventStoppedDestroyed)},
		{"trans", evStopped, int32(libvirt.DomainEventStoppedShutdown)},
	} {
		if !got[want] {
			t.Fatalf("recovery events %v lack %v", got, want)
		}
	}
	if _, err := drv2.LookupByUUID(ctx, tr.UUID); err == nil {
		t.Fatal("transient domain kept after its guest powered off")
	}
	// Events keep flowing for the reconnected guest.
	if err := drv2.Resume(ctx, keep); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"keep", evResumed, int32(libvirt.DomainEventResumedUnpaused)})
	if drv2.Active() != 1 {
		t.Fatalf("active %d", drv2.Active())
	}
}

// TestUnrecordedGuests: a daemon killed during a start, after the
// backend created the guest and before the status file recorded it,
// leaves a guest no status file describes. One that never ran (created
// paused, killed before the unpause) is destroyed: the start was not
// acknowledged, and a paused guest is no state a start ends in (the
// kill-point harness found such guests adopted paused). One that ran is
// adopted as it runs; one of a domain no longer defined is destroyed.
func TestUnrecordedGuests(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	define(t, drv, "halfway", 1, "")
	define(t, drv, "unpaused", 2, "")
	drv.Close()
	h := e.sim()
	created := map[string]backend.DomID{}
	for n, name := range []string{"halfway", "unpaused", "undefined"} {
		id, err := h.Create(ctx, backendtest.Config(name, byte(n+1), 262144, 1), backend.CreateOptions{Paused: true, Marker: Marker})
		if err != nil {
			t.Fatal(err)
		}
		created[name] = id
	}
	if err := h.Unpause(ctx, created["unpaused"]); err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // for the unpaused guest's CPU time to grow past 0
	h.Close()

	drv2, h2 := e.start()
	if d, err := drv2.LookupByName(ctx, "halfway"); err != nil || d.ID != -1 {
		t.Fatalf("halfway: %+v %v, want defined and shut off", d, err)
	}
	u, err := drv2.LookupByName(ctx, "unpaused")
	if err != nil || u.ID != int32(created["unpaused"]) {
		t.Fatalf("unpaused: %+v %v, want adopted as domid %d", u, err, created["unpaused"])
	}
	if st, _ := stateOf(t, drv2, u); st != libvirt.DomainRunning {
		t.Fatalf("unpaused adopted in state %v", st)
	}
	guests, _ := h2.Guests(ctx)
	for _, g := range guests {
		if g.DomID == created["halfway"] || g.DomID == created["undefined"] {
			t.Errorf("guest %s (domid %d) still runs", g.Name, g.DomID)
		}
	}
}

func TestTwoDriversRefused(t *testing.T) {
	e := newEnv(t)
	e.start()
	h := e.sim()
	defer h.Close()
	_, err := New(e.cfg, e.root, h, nil, Options{})
	if !errors.Is(err, ErrAnotherInstance) {
		t.Fatalf("second driver: %v", err)
	}
}

// TestRefusedDriverLeavesTempFiles: a driver refused by the lock must not
// clean the running one's temporary files, which may be writes in flight.
func TestRefusedDriverLeavesTempFiles(t *testing.T) {
	e := newEnv(t)
	e.start()
	inFlight := filepath.Join(e.root.DomainConfigDir(), ".g.xml.tmp-123")
	if err := os.WriteFile(inFlight, []byte("<domain"), 0o600); err != nil {
		t.Fatal(err)
	}
	h := e.sim()
	defer h.Close()
	if _, err := New(e.cfg, e.root, h, nil, Options{}); !errors.Is(err, ErrAnotherInstance) {
		t.Fatalf("second driver: %v", err)
	}
	if _, err := os.Stat(inFlight); err != nil {
		t.Errorf("refused driver removed the running one's temp file: %v", err)
	}
}

func TestAutostartOncePerBoot(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	a := define(t, drv, "auto", 1, "")
	if err := drv.SetAutostart(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	if !store.LinkPointsTo(filepath.Join(e.root.AutostartDir(), "auto.xml"), filepath.Join(e.root.DomainConfigDir(), "auto.xml")) {
		t.Fatal("autostart link missing")
	}
	if on, _ := drv.GetAutostart(ctx, a); !on {
		t.Fatal("autostart not reported")
	}
	// The first driver ran autostart at its start (nothing to do then);
	// a restart in the same boot must not start the guest.
	drv2, _ := e.restart(drv)
	if d, _ := drv2.LookupByUUID(ctx, a.UUID); d.ID != -1 {
		t.Fatal("autostarted twice in one boot")
	}
	drv2.Close()
	// The host reboots: the guest starts once.
	e.boot = "kernel-boot-2"
	drv3, _ := e.start()
	d, _ := drv3.LookupByUUID(ctx, a.UUID)
	if d.ID <= 0 {
		t.Fatal("not autostarted after host boot")
	}
	drv3.Destroy(ctx, a, 0)
	drv4, _ := e.restart(drv3)
	if d, _ := drv4.LookupByUUID(ctx, a.UUID); d.ID != -1 {
		t.Fatal("autostarted again in the same boot")
	}
	if err := drv4.SetAutostart(ctx, a, false); err != nil {
		t.Fatal(err)
	}
	if on, _ := drv4.GetAutostart(ctx, a); on {
		t.Fatal("autostart still on")
	}
}

func TestReload(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	w := watch(t, drv)
	define(t, drv, "r", 1, "")
	w.expect(lc{"r", evDefined, 0})
	// An administrator drops a config in and edits another, then SIGHUP.
	other, err := parseDefForTest(domXML("new", 2, ""))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drv.writeConfig(other); err != nil {
		t.Fatal(err)
	}
	edited, _ := parseDefForTest(domXML("r", 1, "<description>edited</description>"))
	drv.writeConfig(edited)
	os.Symlink(drv.configPath("new"), drv.autostartPath("new"))
	if err := drv.Reload(ctx); err != nil {
		t.Fatal(err)
	}
	n, err := drv.LookupByName(ctx, "new")
	if err != nil {
		t.Fatal("new config not loaded:", err)
	}
	if on, _ := drv.GetAutostart(ctx, n); !on {
		t.Fatal("autostart link not read")
	}
	if desc, err := drv.GetMetadata(ctx, domOf(1), int32(libvirt.DomainMetadataDescription), nil, 0); err != nil || desc != "edited" {
		t.Fatalf("edited config not reloaded: %q %v", desc, err)
	}
	w.none()
}

// dyingHost is the simulated host listing some guests as dying, as Xen
// lists a destroyed domain until the last of its pages is released.
type dyingHost struct {
	*sim.Host
	dying map[backend.DomID]bool
}

func (h *dyingHost) Guests(ctx context.Context) ([]backend.GuestInfo, error) {
	guests, err := h.Host.Guests(ctx)
	for i := range guests {
		if h.dying[guests[i].DomID] {
			guests[i].State = backend.StateDying
		}
	}
	return guests, err
}

// TestDyingGuestsNotRecovered: a daemon killed while a guest of its was
// being destroyed finds it dying at its next start: the domain is shut
// off (destroyed), with the event, and a dying guest it has no status for
// is not adopted.
func TestDyingGuestsNotRecovered(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	recorded := define(t, drv, "recorded", 1, "")
	started, err := drv.Create(ctx, recorded, 0)
	if err != nil {
		t.Fatal(err)
	}
	define(t, drv, "unrecorded", 2, "")
	drv.Close()
	h := e.sim()
	orphan, err := h.Create(ctx, backendtest.Config("unrecorded", 2, 262144, 1), backend.CreateOptions{Marker: Marker})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Millisecond) // for its CPU time to grow past 0: a guest that ran
	broker := events.NewBroker()
	w := watchBroker(t, broker)
	dying := &dyingHost{Host: h, dying: map[backend.DomID]bool{backend.DomID(started.ID): true, orphan: true}}
	drv2, err := New(e.cfg, e.root, dying, nil, Options{Broker: broker})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv2.Close() })
	for _, name := range []string{"recorded", "unrecorded"} {
		d, err := drv2.LookupByName(ctx, name)
		if err != nil || d.ID != -1 {
			t.Errorf("%s: %+v %v, want shut off", name, d, err)
		}
	}
	if st, reason := stateOf(t, drv2, recorded); st != libvirt.DomainShutoff || reason != int32(libvirt.DomainShutoffDestroyed) {
		t.Errorf("recorded: state %v reason %d, want shut off (destroyed)", st, reason)
	}
	w.expect(lc{"recorded", libvirt.DomainEventStopped, int32(libvirt.DomainEventStoppedDestroyed)})
}

// TestStatusFileLayouts: status files are read in libvirt's layout (left
// by libvirt's own Xen daemon, whose guests carry its marker) and in an
// earlier virtxend's (state and reason as numbers, the domid an
// attribute), which is written anew in libvirt's; a guest of libvirt's
// that no status file names is left alone, neither adopted nor destroyed.
func TestStatusFileLayouts(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	for n, name := range []string{"lv", "old", "stray"} {
		define(t, drv, name, byte(n+1), "")
	}
	drv.Close()
	h := e.sim()
	ids := map[string]backend.DomID{}
	for n, name := range []string{"lv", "old", "stray"} {
		marker := backend.LibvirtMarker
		if name == "old" {
			marker = Marker
		}
		id, err := h.Create(ctx, backendtest.Config(name, byte(n+1), 131072, 1), backend.CreateOptions{Marker: marker})
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = id
	}
	h.Close()
	def := func(name string, n byte, id backend.DomID) string {
		return strings.Replace(domXML(name, n, ""), "<domain type='xen'>", fmt.Sprintf("<domain type='xen' id='%d'>", id), 1)
	}
	status := map[string]string{
		"lv": "<domstatus state='running' reason='from snapshot' pid='0'>\n<taint flag='high-privileges'/>\n" +
			def("lv", 1, ids["lv"]) + "\n</domstatus>\n",
		"old": fmt.Sprintf("<domstatus state='1' reason='5' domid='%d'>\n", ids["old"]) +
			domXML("old", 2, "") + "\n</domstatus>\n",
	}
	for name, s := range status {
		if err := os.WriteFile(filepath.Join(e.root.StateDir(), name+".xml"), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}

	drv2, h2 := e.start()
	for name, want := range map[string]struct {
		state  libvirt.DomainState
		reason int32
	}{
		"lv":  {libvirt.DomainRunning, int32(libvirt.DomainRunningFromSnapshot)},
		"old": {libvirt.DomainRunning, int32(libvirt.DomainRunningUnpaused)},
	} {
		d, err := drv2.LookupByName(ctx, name)
		if err != nil || d.ID != int32(ids[name]) {
			t.Errorf("%s: %+v %v, want reconnected as domid %d", name, d, err, ids[name])
			continue
		}
		if st, r := stateOf(t, drv2, d); st != want.state || r != want.reason {
			t.Errorf("%s: state %v/%d, want %v/%d", name, st, r, want.state, want.reason)
		}
	}
	b, _ := os.ReadFile(drv2.statusPath("old"))
	if !strings.HasPrefix(string(b), fmt.Sprintf("<domstatus state='running' reason='unpaused' pid='0'>\n<domain type='xen' id='%d'>", ids["old"])) {
		t.Errorf("an earlier virtxend's status file was not written anew in libvirt's layout:\n%s", b)
	}
	if d, err := drv2.LookupByName(ctx, "stray"); err != nil || d.ID != -1 {
		t.Errorf("stray: %+v %v, want defined and shut off", d, err)
	}
	if _, err := h2.Guest(ctx, ids["stray"]); err != nil {
		t.Errorf("libvirt's guest that no status file names was destroyed: %v", err)
	}
}
