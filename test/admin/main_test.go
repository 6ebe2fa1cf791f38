// Package admin_test drives the built daemon with Debian's virt-admin, as
// the issue "The admin interface" asks, and with a raw admin client for
// the call virt-admin 9.0 lacks (CONNECT_DAEMON_SHUTDOWN).
package admin_test

import (
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// mustAdmin runs virt-admin and fails the test unless it succeeds.
func mustAdmin(t *testing.T, d *daemontest.Daemon, args ...string) string {
	t.Helper()
	r := d.VirtAdmin(args...)
	if r.Code != 0 {
		t.Fatalf("virt-admin %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// fields parses virt-admin's "name : value" listings.
func fields(out string) map[string]string {
	m := map[string]string{}
	for line := range strings.Lines(out) {
		k, v, ok := strings.Cut(line, ":")
		if ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

// eventLoop is a long-lived client of the main server: `virsh event --all
// --loop`, which runs until its connection ends.
type eventLoop struct {
	cmd  *exec.Cmd
	out  bytes.Buffer
	done chan error
}

// startEventLoop starts virsh event and waits until the main server lists
// it as its one client; it returns that client's id.
func startEventLoop(t *testing.T, d *daemontest.Daemon) (*eventLoop, string) {
	t.Helper()
	if _, err := exec.LookPath("virsh"); err != nil {
		t.Skip("virsh is not installed")
	}
	ev := &eventLoop{cmd: exec.Command("virsh", "-c", d.URI(), "event", "--all", "--loop"), done: make(chan error, 1)}
	ev.cmd.Stdout, ev.cmd.Stderr = &ev.out, &ev.out
	if err := ev.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { ev.done <- ev.cmd.Wait() }()
	t.Cleanup(func() {
		ev.cmd.Process.Kill()
		<-ev.done
	})
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if list := strings.Fields(mustAdmin(t, d, "srv-clients-list", "virtxend")); len(list) > 0 {
			return ev, list[0]
		}
		select {
		case err := <-ev.done:
			ev.done <- err
			t.Fatalf("virsh event ended early: %v\n%s", err, ev.out.String())
		default:
		}
	}
	t.Fatal("virsh event never connected")
	return nil, ""
}

// wait waits for virsh to end and returns its exit error.
func (ev *eventLoop) wait(t *testing.T) error {
	t.Helper()
	select {
	case err := <-ev.done:
		ev.done <- err // for the cleanup
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("virsh event still running")
		return nil
	}
}
