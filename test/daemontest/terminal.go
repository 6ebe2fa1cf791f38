package daemontest

import (
	"bytes"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/pty"
)

// Terminal is a command running on a pseudo-terminal of its own, as a
// user's interactive command runs: `virsh console` refuses to run without
// one. The test reads what it prints and types to it.
type Terminal struct {
	t    testing.TB
	cmd  *exec.Cmd
	pair *pty.Pair
	mu   sync.Mutex
	out  bytes.Buffer
	// read is closed when the terminal's output has ended, exited when
	// the command has; code is its exit code then.
	read, exited chan struct{}
	code         int
}

// VirshTerminal runs virsh against the daemon on a terminal.
func (d *Daemon) VirshTerminal(args ...string) *Terminal {
	d.t.Helper()
	return StartTerminal(d.t, "virsh", append([]string{"-c", d.URI()}, args...)...)
}

// StartTerminal runs name with args on a new pseudo-terminal, in a session
// of its own; it is killed if still running when the test ends.
func StartTerminal(t testing.TB, name string, args ...string) *Terminal {
	t.Helper()
	p, err := pty.Open()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(name, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = p.Slave, p.Slave, p.Slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true}
	if err := cmd.Start(); err != nil {
		p.Close()
		t.Fatal(err)
	}
	p.Slave.Close() // the command's copy is the only one: its exit ends the output
	tm := &Terminal{t: t, cmd: cmd, pair: p, read: make(chan struct{}), exited: make(chan struct{})}
	go tm.collect()
	go func() {
		cmd.Wait()
		tm.code = cmd.ProcessState.ExitCode()
		close(tm.exited)
	}()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-tm.exited
		p.Master.Close()
		if t.Failed() {
			t.Logf("%s %s printed:\n%s", name, strings.Join(args, " "), tm.Output())
		}
	})
	return tm
}

func (tm *Terminal) collect() {
	defer close(tm.read)
	b := make([]byte, 4096)
	for {
		n, err := tm.pair.Master.Read(b)
		tm.mu.Lock()
		tm.out.Write(b[:n])
		tm.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// Output is everything the command printed so far.
func (tm *Terminal) Output() string {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	return tm.out.String()
}

// Expect waits until the output holds s.
func (tm *Terminal) Expect(s string) {
	tm.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for !strings.Contains(tm.Output(), s) {
		select {
		case <-tm.read:
			if !strings.Contains(tm.Output(), s) {
				tm.t.Fatalf("%s ended without printing %q; it printed:\n%q", tm.cmd.Path, s, tm.Output())
			}
			return
		case <-time.After(20 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%s did not print %q; it printed:\n%q", tm.cmd.Path, s, tm.Output())
		}
	}
}

// Type sends s as typed keys.
func (tm *Terminal) Type(s string) {
	tm.t.Helper()
	if _, err := tm.pair.Master.Write([]byte(s)); err != nil {
		tm.t.Fatal(err)
	}
}

// Wait waits for the command to exit and returns its exit code, with its
// whole output read.
func (tm *Terminal) Wait() int {
	tm.t.Helper()
	select {
	case <-tm.exited:
	case <-time.After(60 * time.Second):
		tm.t.Fatalf("%s did not exit; it printed:\n%q", tm.cmd.Path, tm.Output())
	}
	select {
	case <-tm.read:
	case <-time.After(5 * time.Second):
	}
	return tm.code
}

// Running reports whether the command has not exited yet.
func (tm *Terminal) Running() bool {
	select {
	case <-tm.exited:
		return false
	default:
		return true
	}
}
