// Package daemontest starts the real virtxend binary in a temporary
// VIRTXEND_ROOT for integration tests, and stops it afterwards.
package daemontest

import (
	"bytes"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
)

var (
	buildOnce sync.Once
	binDir    string
	binPath   string
	buildErr  error
)

// Main runs a test package's tests and removes the binary built for them.
// Call it from TestMain.
func Main(m interface{ Run() int }) int {
	if w := startWatchdog(); w != nil {
		defer w.Stop()
	}
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	if simxlPath != "" {
		os.RemoveAll(filepath.Dir(simxlPath))
	}
	if toolsDir != "" {
		os.RemoveAll(toolsDir)
	}
	return code
}

// Binary builds cmd/virtxend once per test process and returns its path.
// VIRTXEND_BIN, if set, names a prebuilt binary instead.
func Binary(t testing.TB) string {
	t.Helper()
	if p := os.Getenv("VIRTXEND_BIN"); p != "" {
		return p
	}
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "virtxend-bin-")
		if err != nil {
			buildErr = err
			return
		}
		os.Chmod(dir, 0o755) // tests run it as other users too
		binDir, binPath = dir, filepath.Join(dir, "virtxend")
		out, err := exec.Command("go", "build", "-o", binPath, "virtxend/cmd/virtxend").CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

var (
	toolsMu  sync.Mutex
	toolsDir string
	tools    = map[string]string{}
)

// Tool builds cmd/NAME (a command of this repository: virtxend-load,
// virtxend-killpoints...) once per test process and returns its path.
func Tool(t testing.TB, name string) string {
	t.Helper()
	toolsMu.Lock()
	defer toolsMu.Unlock()
	if p, ok := tools[name]; ok {
		return p
	}
	if toolsDir == "" {
		dir, err := os.MkdirTemp("", "virtxend-tools-")
		if err != nil {
			t.Fatal(err)
		}
		toolsDir = dir
	}
	p := filepath.Join(toolsDir, name)
	if out, err := exec.Command("go", "build", "-o", p, "virtxend/cmd/"+name).CombinedOutput(); err != nil {
		t.Fatalf("go build %s: %v\n%s", name, err, out)
	}
	tools[name] = p
	return p
}

var (
	simxlOnce sync.Once
	simxlPath string
	simxlErr  error
)

// SimXL runs cmd/simxl (xl for the simulated host: changes a guest behind
// the daemon's back) on the simulated host of root, and returns what it
// printed; it fails the test if simxl fails.
func SimXL(t testing.TB, root string, args ...string) string {
	t.Helper()
	simxlOnce.Do(func() {
		dir, err := os.MkdirTemp("", "simxl-bin-")
		if err != nil {
			simxlErr = err
			return
		}
		simxlPath = filepath.Join(dir, "simxl")
		if out, err := exec.Command("go", "build", "-o", simxlPath, "virtxend/cmd/simxl").CombinedOutput(); err != nil {
			simxlErr = fmt.Errorf("go build simxl: %v\n%s", err, out)
		}
	})
	if simxlErr != nil {
		t.Fatal(simxlErr)
	}
	cmd := exec.Command(simxlPath, args...)
	cmd.Env = append(os.Environ(), paths.RootEnv+"="+root)
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("simxl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// Daemon is one running daemon process.
type Daemon struct {
	t     testing.TB
	Root  string
	Paths paths.Paths
	Cmd   *exec.Cmd
	out   *SyncBuffer
	done  chan struct{}
	// waitErr is what Wait returned, set before done is closed; a pointer,
	// so that copies made by For share it.
	waitErr *error
}

// NewRoot makes a temporary root with etc/libvirt ready for config files.
func NewRoot(t testing.TB) string {
	t.Helper()
	root := t.TempDir()
	if err := os.MkdirAll(filepath.Join(root, "etc", "libvirt"), 0o755); err != nil {
		t.Fatal(err)
	}
	return root
}

// WriteFile writes a file below root, creating its directory.
func WriteFile(t testing.TB, root, rel, content string) string {
	t.Helper()
	p := filepath.Join(root, rel)
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// Command returns an unstarted daemon command in root with args.
func Command(t testing.TB, root string, args ...string) *exec.Cmd {
	cmd := exec.Command(Binary(t), args...)
	cmd.Env = append(os.Environ(), paths.RootEnv+"="+root)
	return cmd
}

// Start runs the daemon in root with args and waits until its read-write
// socket accepts connections. It is stopped when the test ends.
func Start(t testing.TB, root string, args ...string) *Daemon {
	t.Helper()
	d := Launch(t, Command(t, root, args...), root)
	d.WaitForSocket(d.Paths.SocketDir() + "/" + paths.RWSocketName)
	return d
}

// Launch starts cmd (a daemon command) without waiting for its sockets.
func Launch(t testing.TB, cmd *exec.Cmd, root string) *Daemon {
	t.Helper()
	d := &Daemon{t: t, Root: root, Paths: paths.Under(root), Cmd: cmd, out: &SyncBuffer{}, done: make(chan struct{}), waitErr: new(error)}
	cmd.Stdout, cmd.Stderr = d.out, d.out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { *d.waitErr = cmd.Wait(); close(d.done) }()
	track(d)
	t.Cleanup(func() {
		if !d.Exited() {
			cmd.Process.Kill()
			<-d.done
		}
		if t.Failed() {
			t.Logf("daemon output:\n%s", d.Output())
		}
	})
	return d
}

// For is the same daemon with its helpers (Virsh, MustVirsh, ...)
// failing t rather than the test that started it: for the subtests of a
// test that share one daemon.
func (d *Daemon) For(t testing.TB) *Daemon {
	c := *d
	c.t = t
	return &c
}

// WaitForSocket waits until the daemon serves path (it answers a keepalive
// PING there) or exits. A bare connect is not enough: the kernel accepts
// connections as soon as the socket listens, before the daemon serves.
func (d *Daemon) WaitForSocket(path string) {
	d.t.Helper()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if d.Exited() {
			d.t.Fatalf("daemon exited before serving (%v):\n%s", *d.waitErr, d.Output())
		}
		if Serves(path) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatalf("daemon did not serve %s:\n%s", path, d.Output())
}

// keepalive PING and PONG packets (program 0x6b656570, procs 1 and 2).
var (
	pingPacket = []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	pongPacket = []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
)

// Serves reports whether a libvirt RPC server answers a PING on path.
func Serves(path string) bool {
	c, err := net.Dial("unix", path)
	if err != nil {
		return false
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(time.Second))
	if _, err := c.Write(pingPacket); err != nil {
		return false
	}
	got := make([]byte, len(pongPacket))
	_, err = io.ReadFull(c, got)
	return err == nil && bytes.Equal(got, pongPacket)
}

// Signal sends sig to the daemon.
func (d *Daemon) Signal(sig syscall.Signal) {
	if err := d.Cmd.Process.Signal(sig); err != nil {
		d.t.Fatalf("signal %v: %v", sig, err)
	}
}

// Stop sends SIGTERM and returns the exit code.
func (d *Daemon) Stop() int {
	d.t.Helper()
	d.Signal(syscall.SIGTERM)
	return d.Wait(60 * time.Second)
}

// Wait waits for the daemon to exit and returns its exit code.
func (d *Daemon) Wait(limit time.Duration) int {
	d.t.Helper()
	select {
	case <-d.done:
	case <-time.After(limit):
		d.t.Fatalf("daemon still running after %v:\n%s", limit, d.Output())
	}
	return d.Cmd.ProcessState.ExitCode()
}

// Exited reports whether the daemon process has ended.
func (d *Daemon) Exited() bool {
	select {
	case <-d.done:
		return true
	default:
		return false
	}
}

// Output is everything the daemon printed so far.
func (d *Daemon) Output() string { return d.out.String() }

// WaitForOutput waits until the daemon has printed s.
func (d *Daemon) WaitForOutput(s string) {
	d.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if strings.Contains(d.Output(), s) {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	d.t.Fatalf("daemon never printed %q:\n%s", s, d.Output())
}

// SyncBuffer is a bytes.Buffer safe for a process's output and a test
// reading it at once.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}
