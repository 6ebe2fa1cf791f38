package driver

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/pty"
	"virtxend/internal/virerr"
)

// ttyHost is the simulated host with each console on a real pty whose
// master the test holds, as xenconsoled holds real Xen's.
type ttyHost struct {
	*sim.Host
	t     *testing.T
	mu    sync.Mutex
	pairs map[string]*pty.Pair
	// late is how many questions go unanswered first, as xenconsoled
	// takes a moment after the start.
	late int
}

func (h *ttyHost) ConsoleTTY(_ context.Context, id backend.DomID, port int, serial bool) (string, error) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.late > 0 {
		h.late--
		return "", fmt.Errorf("no tty yet")
	}
	key := fmt.Sprintf("%d/%v/%d", id, serial, port)
	if p := h.pairs[key]; p != nil {
		return p.Path, nil
	}
	p, err := pty.Open()
	if err != nil {
		return "", err
	}
	h.t.Cleanup(func() { p.Close() })
	h.pairs[key] = p
	return p.Path, nil
}

// Destroy closes the guest's consoles, as xenconsoled does once the
// domain is gone: a session on one reads the hangup.
func (h *ttyHost) Destroy(ctx context.Context, id backend.DomID) error {
	h.mu.Lock()
	for key, p := range h.pairs {
		if strings.HasPrefix(key, fmt.Sprintf("%d/", id)) {
			p.Close()
			delete(h.pairs, key)
		}
	}
	h.mu.Unlock()
	return h.Host.Destroy(ctx, id)
}

// master is the guest's end of a console the driver asked for.
func (h *ttyHost) master(id int32, serial bool, port int) *pty.Pair {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.pairs[fmt.Sprintf("%d/%v/%d", id, serial, port)]
}

func startTTY(t *testing.T) (*Driver, *ttyHost) {
	e := newEnv(t)
	h := &ttyHost{Host: e.sim(), t: t, pairs: map[string]*pty.Pair{}}
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	return drv, h
}

// startRecorded starts d and waits until its live XML names its consoles.
func startRecorded(t *testing.T, drv *Driver, d Domain, want string) Domain {
	t.Helper()
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if live, _ := drv.GetXMLDesc(ctx, d, 0); strings.Contains(live, want) {
			return started
		}
	}
	live, _ := drv.GetXMLDesc(ctx, d, 0)
	t.Fatalf("live XML lacks %q:\n%s", want, live)
	return started
}

func readSome(t *testing.T, r io.Reader) (string, error) {
	t.Helper()
	type res struct {
		s   string
		err error
	}
	ch := make(chan res, 1)
	go func() {
		b := make([]byte, 100)
		n, err := r.Read(b)
		ch <- res{string(b[:n]), err}
	}()
	select {
	case r := <-ch:
		return r.s, r.err
	case <-time.After(10 * time.Second):
		t.Fatal("read blocked")
		return "", nil
	}
}

// openedConsole starts a guest "con" on a ttyHost and opens a session on
// its console, which ends with the test: the driver, the host, the domain,
// the domain as started and the session.
func openedConsole(t *testing.T) (*Driver, *ttyHost, Domain, Domain, *Console) {
	t.Helper()
	drv, h := startTTY(t)
	d := define(t, drv, "con", 1, "")
	started := startRecorded(t, drv, d, "<console type='pty' tty='/dev/pts/")
	c, err := drv.OpenConsole(ctx, d, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(c.Abort)
	return drv, h, d, started, c
}

func TestOpenConsoleCarriesBytesBothWays(t *testing.T) {
	drv, h, d, started, c := openedConsole(t)
	guest := h.master(started.ID, false, 0)
	guest.Master.Write([]byte("login: "))
	if s, err := readSome(t, c); s != "login: " || err != nil {
		t.Fatalf("console read %q, %v", s, err)
	}
	c.Write([]byte("root\r"))
	if s, err := readSome(t, guest.Master); s != "root\r" || err != nil {
		t.Fatalf("guest read %q, %v", s, err)
	}
	// The guest going away hangs the console up: EOF.
	if err := drv.Destroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := readSome(t, c); err != io.EOF {
		t.Fatalf("after hangup: %v, want EOF", err)
	}
}

// A session stays open across the guest's reset, which on Xen is a new
// domain with a new console: it carries the new boot's console both ways,
// as a console of libvirt's QEMU driver does across a reboot. What is typed
// in between is dropped.
func TestOpenConsoleFollowsTheNextBoot(t *testing.T) {
	drv, h, d, started, c := openedConsole(t)
	old := h.master(started.ID, false, 0)
	if err := drv.Reset(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if n, err := c.Write([]byte("lost")); n != 4 || err != nil {
		t.Fatalf("typed between the boots: %d, %v", n, err)
	}
	next := d
	next.ID = started.ID + 1
	var guest *pty.Pair
	for deadline := time.Now().Add(10 * time.Second); guest == nil; guest = h.master(next.ID, false, 0) {
		if time.Now().After(deadline) {
			t.Fatal("the next boot's console was never asked for")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if guest.Path == old.Path {
		t.Logf("the new boot's pty reuses %s", old.Path)
	}
	guest.Master.Write([]byte("second boot"))
	if s, err := readSome(t, c); s != "second boot" || err != nil {
		t.Fatalf("after the reset the session read %q, %v", s, err)
	}
	c.Write([]byte("root\r"))
	if s, err := readSome(t, guest.Master); s != "root\r" || err != nil {
		t.Fatalf("the new boot read %q, %v", s, err)
	}
	// The new boot's console is the session's: a second one is refused.
	_, err := drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: Active console session exists for this domain")
	if err := drv.Destroy(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := readSome(t, c); err != io.EOF {
		t.Fatalf("after the destroy: %v, want EOF", err)
	}
}

func TestOpenConsoleOneSessionUnlessForced(t *testing.T) {
	drv, h := startTTY(t)
	d := define(t, drv, "con", 1, "")
	started := startRecorded(t, drv, d, "<console type='pty' tty='/dev/pts/")
	first, err := drv.OpenConsole(ctx, d, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	_, err = drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: Active console session exists for this domain")

	second, err := drv.OpenConsole(ctx, d, nil, uint32(libvirt.DomainConsoleForce))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := readSome(t, first); !errors.Is(err, ErrConsoleTaken) {
		t.Fatalf("the session taken over read %v", err)
	}
	if _, err := first.Write([]byte("x")); !errors.Is(err, ErrConsoleTaken) {
		t.Fatalf("the session taken over wrote: %v", err)
	}
	first.Abort() // its stream ends: the new session keeps the pty
	h.master(started.ID, false, 0).Master.Write([]byte("hi"))
	if s, _ := readSome(t, second); s != "hi" {
		t.Fatalf("new session read %q", s)
	}
	if _, err := drv.OpenConsole(ctx, d, nil, 0); err == nil {
		t.Fatal("a third session opened beside the forced one")
	}
	second.Finish()
	third, err := drv.OpenConsole(ctx, d, nil, 0)
	if err != nil {
		t.Fatalf("after the session finished: %v", err)
	}
	third.Abort()
}

func TestOpenConsoleRefusals(t *testing.T) {
	drv, _ := startTTY(t)
	d := define(t, drv, "con", 1, "")
	_, err := drv.OpenConsole(ctx, d, nil, uint32(libvirt.DomainConsoleSafe))
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x2) in function libxlDomainOpenConsole")
	_, err = drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	_, err = drv.OpenConsole(ctx, domOf(9), nil, 0)
	wantErr(t, err, libvirt.ErrNoDomain, virerr.FromLibxl, "")
	dom0, _ := drv.LookupByName(ctx, Dom0Name)
	_, err = drv.OpenConsole(ctx, dom0, nil, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain-0 does not support requested operation")

	startRecorded(t, drv, d, "<console type='pty' tty='/dev/pts/")
	name := "nosuch"
	_, err = drv.OpenConsole(ctx, d, &name, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: cannot find character device nosuch")
	// A PV guest's console has no alias: only serial ports are found by one.
	name = "console0"
	_, err = drv.OpenConsole(ctx, d, &name, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: cannot find character device console0")
}

const hvmOS = `<os><type arch='x86_64' machine='xenfv'>hvm</type></os>`

func hvmXML(name string, n byte, devices string) string {
	return fmt.Sprintf(`<domain type='xen'><name>%s</name><uuid>%02x345678-1234-1234-1234-123456789abc</uuid>
<memory unit='MiB'>256</memory><vcpu>1</vcpu>%s<devices>%s</devices></domain>`, name, n, hvmOS, devices)
}

func TestOpenConsoleHVMSerials(t *testing.T) {
	drv, h := startTTY(t)
	d, err := drv.Define(ctx, hvmXML("hvm", 2, `<serial type='pty'/><serial type='null'/>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	started := startRecorded(t, drv, d, "<alias name='serial1'/>")
	live, _ := drv.GetXMLDesc(ctx, d, 0)
	for _, want := range []string{"<console type='pty' tty='/dev/pts/", "<alias name='serial0'/>"} {
		if !strings.Contains(live, want) {
			t.Fatalf("live XML lacks %q:\n%s", want, live)
		}
	}
	// By default, and by alias, serial0's pty.
	for _, name := range []*string{nil, ptr("serial0")} {
		c, err := drv.OpenConsole(ctx, d, name, 0)
		if err != nil {
			t.Fatal(err)
		}
		h.master(started.ID, true, 0).Master.Write([]byte("S"))
		if s, _ := readSome(t, c); s != "S" {
			t.Fatalf("serial0 read %q", s)
		}
		c.Finish()
	}
	_, err = drv.OpenConsole(ctx, d, ptr("serial1"), 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: character device serial1 is not using a PTY")
}

func TestOpenConsoleDefaultNotAPty(t *testing.T) {
	drv, _ := startTTY(t)
	d, err := drv.Define(ctx, hvmXML("null", 3, `<serial type='null'/>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	startRecorded(t, drv, d, "<alias name='serial0'/>")
	_, err = drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: character device serial0 is not using a PTY")
	if inactive, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive)); strings.Contains(inactive, "<alias") {
		t.Errorf("the persistent definition got aliases:\n%s", inactive)
	}
}

func TestOpenConsolePtyNotYetAssigned(t *testing.T) {
	e := newEnv(t)
	// A backend with no ptys at all: the console is never assigned one.
	drv, err := New(e.cfg, e.root, struct{ backend.Backend }{e.sim()}, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer drv.Close()
	d := define(t, drv, "con", 1, "")
	if _, err := drv.Create(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	_, err = drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromNone, "operation failed: PTY device is not yet assigned")
}

func TestOpenConsoleVanishedPty(t *testing.T) {
	drv, h := startTTY(t)
	d := define(t, drv, "con", 1, "")
	started := startRecorded(t, drv, d, "<console type='pty' tty='/dev/pts/")
	p := h.master(started.ID, false, 0)
	p.Close()
	_, err := drv.OpenConsole(ctx, d, nil, 0)
	wantErr(t, err, libvirt.ErrSystemError, virerr.FromStreams, "Unable to open stream for '"+p.Path+"': No such file or directory")
}

func ptr(s string) *string { return &s }

func TestTransientInactiveViewHasNoRunAliases(t *testing.T) {
	drv, _ := startTTY(t)
	d, err := drv.CreateXML(ctx, hvmXML("tr", 4, `<serial type='pty'/>`), 0)
	if err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if live, _ := drv.GetXMLDesc(ctx, d, 0); strings.Contains(live, "<alias name='serial0'/>") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the serial port got no alias")
		}
	}
	inactive, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if strings.Contains(inactive, "<alias") || strings.Contains(inactive, "/dev/pts") {
		t.Fatalf("inactive view shows the run's aliases or ptys:\n%s", inactive)
	}
}

// A console opened right after the start, as virsh start --console does,
// waits for its pty to be known rather than fail.
func TestOpenConsoleRightAfterStart(t *testing.T) {
	drv, h := startTTY(t)
	h.late = 3
	d := define(t, drv, "con", 1, "")
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	c, err := drv.OpenConsole(ctx, d, nil, 0)
	if err != nil {
		t.Fatalf("console right after the start: %v", err)
	}
	defer c.Abort()
	h.master(started.ID, false, 0).Master.Write([]byte("early"))
	if s, _ := readSome(t, c); s != "early" {
		t.Fatalf("read %q", s)
	}
}

// A session whose pty hung up while the guest still runs waits for a new
// pty (a console daemon restarting); ending the session ends the wait at
// once, and what is typed meanwhile is dropped.
func TestOpenConsoleAbortWhileFollowing(t *testing.T) {
	drv, h := startTTY(t)
	d := define(t, drv, "con", 1, "")
	started := startRecorded(t, drv, d, "<console type='pty' tty='/dev/pts/")
	c, err := drv.OpenConsole(ctx, d, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.master(started.ID, false, 0).Close()
	read := make(chan error, 1)
	go func() {
		_, err := c.Read(make([]byte, 10))
		read <- err
	}()
	time.Sleep(300 * time.Millisecond) // in the wait
	select {
	case err := <-read:
		t.Fatalf("the read ended while the guest runs: %v", err)
	default:
	}
	if n, err := c.Write([]byte("typed")); n != 5 || err != nil {
		t.Fatalf("typed while waiting: %d, %v", n, err)
	}
	c.Abort()
	select {
	case err := <-read:
		if err != io.EOF {
			t.Fatalf("after Abort: %v, want EOF", err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Abort did not end the wait")
	}
}
