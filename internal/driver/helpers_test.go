package driver

import (
	"context"
	"fmt"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/events"
	"virtxend/internal/paths"
	"virtxend/internal/virerr"
)

// env is a temp root shared by successive driver instances, as a host is
// shared by successive daemons.
type env struct {
	t     testing.TB
	root  paths.Paths
	cfg   *config.Libxl
	boot  string
	delay time.Duration
}

func newEnv(t testing.TB) *env {
	cfg := config.DefaultLibxl()
	return &env{t: t, root: paths.Under(t.TempDir()), cfg: cfg, boot: "kernel-boot-1", delay: -1}
}

func (e *env) sim() *sim.Host {
	e.t.Helper()
	h, err := sim.Open(sim.Options{
		Dir: e.root.SimHostDir(), Host: sim.Shape(e.cfg.Sim), ShutdownDelay: e.delay,
		PollInterval: -1, KernelBootID: e.boot,
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return h
}

// start opens a driver (and its sim) on the env; closed at test end.
func (e *env) start() (*Driver, *sim.Host) {
	e.t.Helper()
	h := e.sim()
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		h.Close()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { drv.Close() })
	return drv, h
}

var ctx = context.Background()

func domXML(name string, n byte, extra string) string {
	return fmt.Sprintf(`<domain type='xen'>
  <name>%s</name>
  <uuid>%02x345678-1234-1234-1234-123456789abc</uuid>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>128</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='xenpv'>xen</type><kernel>/boot/vmlinuz</kernel></os>
  %s
</domain>`, name, n, extra)
}

func uuidOf(n byte) backend.UUID {
	u, _ := backend.ParseUUID(fmt.Sprintf("%02x345678-1234-1234-1234-123456789abc", n))
	return u
}

// domOf is a client's reference to test domain n, by uuid alone.
func domOf(n byte) Domain { return Domain{UUID: uuidOf(n)} }

func define(t testing.TB, drv *Driver, name string, n byte, extra string) Domain {
	t.Helper()
	d, err := drv.Define(ctx, domXML(name, n, extra), 0)
	if err != nil {
		t.Fatalf("define %s: %v", name, err)
	}
	return d
}

func wantErr(t *testing.T, err error, code virerr.Code, dom virerr.Domain, msg string) {
	t.Helper()
	e := virerr.As(err)
	if err == nil || e.Code != code || e.Domain != dom || (msg != "" && e.Error() != msg) {
		t.Fatalf("got error %v (code %d domain %d), want code %d domain %d %q", err, e.Code, e.Domain, code, dom, msg)
	}
}

// watcher collects lifecycle events.
type watcher struct {
	t   *testing.T
	sub *events.Subscriber
}

func watch(t *testing.T, drv *Driver) *watcher { return watchBroker(t, drv.Events()) }

// watchBroker subscribes to b, which may be handed to New afterwards.
func watchBroker(t *testing.T, b *events.Broker) *watcher {
	s := b.Subscribe(1000)
	if _, err := s.Register(events.IDLifecycle, nil, false); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Register(events.IDMetadataChange, nil, false); err != nil {
		t.Fatal(err)
	}
	return &watcher{t: t, sub: s}
}

type lc struct {
	name   string
	event  libvirt.DomainEventType
	detail int32
}

// next waits for the next event (the wait only guards against hangs).
func (w *watcher) next() events.Event {
	w.t.Helper()
	select {
	case d := <-w.sub.C():
		return d.Event
	case <-time.After(60 * time.Second):
		w.t.Fatal("no event")
	}
	return events.Event{}
}

func (w *watcher) expect(want ...lc) {
	w.t.Helper()
	for _, x := range want {
		ev := w.next()
		got := lc{ev.Dom.Name, libvirt.DomainEventType(ev.Lifecycle.Event), ev.Lifecycle.Detail}
		if ev.ID != events.IDLifecycle || got != x {
			w.t.Fatalf("event %+v, want %+v", ev, x)
		}
	}
}

func (w *watcher) none() {
	w.t.Helper()
	select {
	case d := <-w.sub.C():
		w.t.Fatalf("unexpected event %+v", d.Event)
	default:
	}
}

func stateOf(t *testing.T, drv *Driver, d Domain) (libvirt.DomainState, int32) {
	t.Helper()
	st, r, err := drv.GetState(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	return st, r
}

type simHost = sim.Host

func parseDefForTest(xml string) (*libvirtxml.Domain, error) {
	def, _, err := parseDef(xml, false)
	return def, err
}

type backendDomID = backend.DomID

func simOpen(p paths.Paths, cfg *config.Libxl) (*sim.Host, error) {
	return sim.Open(sim.Options{Dir: p.SimHostDir(), Host: sim.Shape(cfg.Sim), ShutdownDelay: -1, PollInterval: -1})
}
