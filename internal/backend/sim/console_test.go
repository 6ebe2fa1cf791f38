package sim

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// openWithConsoles opens the host in dir with consoles served by this test
// binary (see TestMain); when the test ends it checks that no console
// daemon is left once no guest is.
func openWithConsoles(t *testing.T, dir string) *Host {
	t.Helper()
	h, err := Open(Options{Dir: dir, Host: shape(), ShutdownDelay: -1, PollInterval: -1,
		KernelBootID: "boot-1", ConsoleCommand: "/proc/self/exe"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { h.Close() })
	return h
}

// waitTTY waits until the console daemon has made guest id's console.
func waitTTY(t *testing.T, h *Host, id backend.DomID, port int, serial bool) string {
	t.Helper()
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		var p string
		if p, err = h.ConsoleTTY(context.Background(), id, port, serial); err == nil {
			return p
		}
	}
	t.Fatalf("no console for domid %d: %v", id, err)
	return ""
}

// client is a console client on a pty slave, as libvirt's stream is.
type client struct {
	t    *testing.T
	f    *os.File
	got  bytes.Buffer
	data chan []byte
}

func dial(t *testing.T, path string) *client {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	c := &client{t: t, f: f, data: make(chan []byte, 64)}
	go func() {
		defer close(c.data)
		for {
			b := make([]byte, 512)
			n, err := f.Read(b)
			if n > 0 {
				c.data <- b[:n]
			}
			if err != nil {
				return
			}
		}
	}()
	t.Cleanup(func() { f.Close() })
	return c
}

// expect reads until the output holds want; false at EOF.
func (c *client) expect(want string) {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for !strings.Contains(c.got.String(), want) {
		select {
		case b, ok := <-c.data:
			if !ok {
				c.t.Fatalf("EOF before %q; read %q", want, c.got.String())
			}
			c.got.Write(b)
		case <-deadline:
			c.t.Fatalf("no %q; read %q", want, c.got.String())
		}
	}
}

// expectEOF waits for the hangup.
func (c *client) expectEOF() {
	c.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case b, ok := <-c.data:
			if !ok {
				return
			}
			c.got.Write(b)
		case <-deadline:
			c.t.Fatalf("no hangup; read %q", c.got.String())
		}
	}
}

func (c *client) send(s string) {
	c.t.Helper()
	if _, err := c.f.Write([]byte(s)); err != nil {
		c.t.Fatal(err)
	}
}

// waitConsoledGone waits until no console daemon runs for dir.
func waitConsoledGone(t *testing.T, dir string) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if !consoledRunning(dir) {
			return
		}
	}
	t.Fatal("the console daemon is still running")
}

func consoledPid(t *testing.T, dir string) int {
	t.Helper()
	cf, err := loadConsoleFile(filepath.Join(dir, consoleFileName))
	if err != nil || cf.Pid == 0 {
		t.Fatalf("console file: %+v, %v", cf, err)
	}
	return cf.Pid
}

func TestConsoleBannerEchoPoweroff(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := openWithConsoles(t, dir)
	id, err := h.Create(ctx, backendtest.Config("c1", 1, 65536, 1), backend.CreateOptions{Paused: true})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, waitTTY(t, h, id, 0, false))
	// Paused, the guest has not booted: its banner comes with the unpause.
	time.Sleep(3 * consoledPoll)
	select {
	case b := <-c.data:
		t.Fatalf("a paused guest printed %q", b)
	default:
	}
	if err := h.Unpause(ctx, id); err != nil {
		t.Fatal(err)
	}
	c.expect("Booting simulated Xen guest 'c1' (domid 1")
	c.expect("c1# ")
	c.send("hello\r")
	c.expect("hello\r\nhello\r\nc1# ")
	c.send("poweroff\r")
	c.expect("reboot: Power down")
	var gi backend.GuestInfo
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if gi, _ = h.Guest(ctx, id); gi.State == backend.StateShutdown {
			break
		}
	}
	if gi.State != backend.StateShutdown || gi.ShutdownReason != backend.ReasonPoweroff {
		t.Fatalf("after poweroff: %+v", gi)
	}
	if ev := <-h.Events(); ev.Kind != backend.EventShutdown || ev.Reason != backend.ReasonPoweroff {
		t.Fatalf("event %+v", ev)
	}
	// The console stays until the guest is destroyed, then hangs up.
	if err := h.Destroy(ctx, id); err != nil {
		t.Fatal(err)
	}
	c.expectEOF()
	waitConsoledGone(t, dir)
	if _, err := os.Stat(filepath.Join(dir, consoleFileName)); !errors.Is(err, os.ErrNotExist) {
		b, _ := os.ReadFile(filepath.Join(dir, consoleFileName))
		t.Errorf("console file left behind: %v %s", err, b)
	}
}

func TestConsoleOutlivesTheHostThatStartedIt(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	a := openWithConsoles(t, dir)
	id, err := a.Create(ctx, backendtest.Config("keep", 1, 65536, 1), backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	path := waitTTY(t, a, id, 0, false)
	a.Close()
	b := openWithConsoles(t, dir)
	if again := waitTTY(t, b, id, 0, false); again != path {
		t.Fatalf("pty %s became %s", path, again)
	}
	c := dial(t, path)
	c.expect("Booting simulated Xen guest 'keep'")
	c.send("still here\r")
	c.expect("still here\r\nstill here\r\n")
	b.Destroy(ctx, id)
	c.expectEOF()
	waitConsoledGone(t, dir)
}

func TestConsoleDaemonRestartsWithoutASecondBanner(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := openWithConsoles(t, dir)
	id, err := h.Create(ctx, backendtest.Config("again", 1, 65536, 1), backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	c := dial(t, waitTTY(t, h, id, 0, false))
	c.expect("Booting")
	pid := consoledPid(t, dir)
	syscall.Kill(pid, syscall.SIGKILL)
	c.expectEOF() // its ptys went with it
	waitConsoledGone(t, dir)
	// What a kill mid-save would leave: the next host and console daemon
	// each remove their own.
	leftovers := []string{".consoles.json.tmp-123", ".host.json.tmp-456"}
	for _, n := range leftovers {
		os.WriteFile(filepath.Join(dir, n), []byte("{"), 0o600)
	}
	// The next host to attach starts it again, with new ptys.
	h2 := openWithConsoles(t, dir)
	c2 := dial(t, waitTTY(t, h2, id, 0, false))
	for _, n := range leftovers {
		if _, err := os.Stat(filepath.Join(dir, n)); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s left behind (%v)", n, err)
		}
	}
	c2.send("x\r")
	c2.expect("x\r\nx\r\nagain# ")
	if strings.Contains(c2.got.String(), "Booting") {
		t.Errorf("the guest booted again on its new console: %q", c2.got.String())
	}
	h2.Destroy(ctx, id)
	waitConsoledGone(t, dir)
}

func TestHVMSerialConsoles(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := openWithConsoles(t, dir)
	cfg := backendtest.Config("hvm", 1, 65536, 1)
	cfg.CInfo.Type = "hvm"
	cfg.BInfo.PV = nil
	cfg.BInfo.HVM = &libxltypes.HVMInfo{SerialList: []string{"pty", "null", "pty"}}
	id, err := h.Create(ctx, cfg, backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	for _, port := range []int{0, 2} {
		c := dial(t, waitTTY(t, h, id, port, true))
		c.expect("on ttyS")
	}
	waitTTY(t, h, id, 0, false)
	if _, err := h.ConsoleTTY(ctx, id, 1, true); err == nil {
		t.Error("serial 1 (null) has a pty")
	}
	h.Destroy(ctx, id)
	waitConsoledGone(t, dir)
}

func TestConsoleRebootByTheGuest(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	h := openWithConsoles(t, dir)
	id, _ := h.Create(ctx, backendtest.Config("rb", 1, 65536, 1), backend.CreateOptions{})
	c := dial(t, waitTTY(t, h, id, 0, false))
	c.expect("rb# ")
	c.send("reboot\r")
	c.expect("Restarting system")
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if gi, _ := h.Guest(ctx, id); gi.State == backend.StateShutdown {
			if gi.ShutdownReason != backend.ReasonReboot {
				t.Fatalf("reason %v", gi.ShutdownReason)
			}
			h.Destroy(ctx, id)
			waitConsoledGone(t, dir)
			return
		}
	}
	t.Fatal("the guest did not reboot")
}

func TestConsoleDaemonLeavesWithTheHostDirectory(t *testing.T) {
	dir := t.TempDir()
	host := filepath.Join(dir, "host")
	h := openWithConsoles(t, host)
	id, _ := h.Create(context.Background(), backendtest.Config("orphan", 1, 65536, 1), backend.CreateOptions{})
	waitTTY(t, h, id, 0, false)
	pid := consoledPid(t, host)
	h.Close()
	if err := os.RemoveAll(host); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if syscall.Kill(pid, 0) != nil {
			return
		}
	}
	t.Fatalf("console daemon %d still runs after its host directory went", pid)
}

func TestNoConsolesWithoutACommand(t *testing.T) {
	dir := t.TempDir()
	h := open(t, dir, nil)
	id, _ := h.Create(context.Background(), backendtest.Config("none", 1, 65536, 1), backend.CreateOptions{})
	if _, err := h.ConsoleTTY(context.Background(), id, 0, false); !errors.Is(err, backend.ErrFailed) || !errors.Is(err, backend.ErrUnsupported) {
		t.Fatalf("ConsoleTTY = %v", err)
	}
	if consoledRunning(dir) {
		t.Fatal("a console daemon started")
	}
}

// FuzzConsoleFile: whatever consoles.json holds, reading it never panics
// and what is accepted has no impossible or duplicate console.
func FuzzConsoleFile(f *testing.F) {
	f.Add([]byte(`{"version":1,"boot_id":"b","pid":7,"consoles":[{"domid":1,"port":0,"path":"/dev/pts/3","greeted":true},{"domid":1,"serial":true,"port":0,"path":"/dev/pts/4"}]}`))
	f.Add([]byte(`{"version":1,"consoles":[{"domid":0}]}`))
	f.Add([]byte(`{"version":1,"consoles":[{"domid":2},{"domid":2}]}`))
	f.Add([]byte(`{"version":9}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		cf, err := parseConsoleFile(b)
		if err != nil {
			return
		}
		seen := map[consoleKey]bool{}
		for _, e := range cf.Consoles {
			if e.DomID == 0 || e.Port < 0 || seen[e.key()] {
				t.Fatalf("accepted %+v", e)
			}
			seen[e.key()] = true
		}
		_ = io.Discard
	})
}
