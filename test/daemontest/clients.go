package daemontest

import (
	"bytes"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"

	"virtxend/internal/paths"
)

// URI is the client URI of the daemon's read-write socket.
func (d *Daemon) URI() string {
	return "xen+unix:///system?socket=" + filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
}

// ROURI is the client URI of the daemon's read-only socket.
func (d *Daemon) ROURI() string {
	return "xen+unix:///system?socket=" + filepath.Join(d.Paths.SocketDir(), paths.ROSocketName)
}

// AdminURI is virt-admin's URI of the daemon's admin socket.
func (d *Daemon) AdminURI() string {
	return "virtxend+unix:///system?socket=" + filepath.Join(d.Paths.SocketDir(), paths.AdminSocketName)
}

// Result is what a client command printed and its exit code.
type Result struct {
	Stdout, Stderr string
	Code           int
}

// clientLimit bounds one client command. A call the daemon never answers
// must fail its own test, with the daemon's goroutines when the daemon is
// known, rather than hang the package until go test's timeout, whose dump
// shows only the test's side of the wait.
const clientLimit = 5 * time.Minute

// Run runs a client command (virsh, virt-admin, python3) to completion,
// failing t if it is still running after clientLimit.
func Run(t testing.TB, name string, args ...string) Result {
	t.Helper()
	return runBounded(t, nil, clientLimit, nil, name, args...)
}

// runBounded runs a client command to completion, with env added to this
// process's environment. When it outlives limit it is killed and, if d is
// the daemon it talks to, d is sent SIGABRT first so that its goroutines
// (where the call waits) are in its output, logged on failure.
func runBounded(t testing.TB, d *Daemon, limit time.Duration, env []string, name string, args ...string) Result {
	t.Helper()
	return runUntil(t, d, limit, env, nil, name, args...)
}

// runUntil is runBounded that also ends the command early, failing t,
// once stuck (when not nil) says, from what it printed on stderr so far,
// that the command can only hang.
func runUntil(t testing.TB, d *Daemon, limit time.Duration, env []string, stuck func(stderr string) bool, name string, args ...string) Result {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Skipf("%s is not installed", name)
	}
	cmd := exec.Command(name, args...)
	if env != nil {
		cmd.Env = append(os.Environ(), env...)
	}
	var out bytes.Buffer
	errb := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = &out, errb
	cmd.WaitDelay = time.Second // a child left holding the output does not hold the test
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	exited := make(chan struct{})
	go func() { cmd.Wait(); close(exited) }()
	result := func() Result {
		return Result{Stdout: out.String(), Stderr: errb.String(), Code: cmd.ProcessState.ExitCode()}
	}
	deadline := time.After(limit)
	tick := time.NewTicker(100 * time.Millisecond)
	defer tick.Stop()
	for {
		select {
		case <-exited:
			return result()
		case <-tick.C:
			if stuck == nil || !stuck(errb.String()) {
				continue
			}
			cmd.Process.Kill()
			<-exited
			r := result()
			t.Errorf("%s %s: printed %q and did not exit: virsh 9.0 lost its job watcher's quit (watchedCommands); ended it",
				name, strings.Join(args, " "), r.Stderr)
			r.Code = 1
			return r
		case <-deadline:
			cmd.Process.Kill()
			<-exited
			if d != nil && !d.Exited() {
				d.Cmd.Process.Signal(syscall.SIGABRT)
				select {
				case <-d.done:
				case <-time.After(10 * time.Second):
				}
			}
			r := result()
			t.Fatalf("%s %s: no answer after %v\n%s%s", name, strings.Join(args, " "), limit, r.Stdout, r.Stderr)
			return r
		}
	}
}

// watchedCommands are the virsh commands whose call runs in a worker
// thread while virshWatchJob waits in g_main_loop_run for the worker's
// g_main_loop_quit. In virsh 9.0 a quit that comes before the run is
// lost, and virsh waits for ever: after printing the first line of the
// call's error (save, managedsave, dump; its detail would follow the
// watcher), or nothing (migrate). CI saw it three times, on errors this
// daemon answers in microseconds, so tests make such failing calls
// through libvirt-python; this only turns the next one's hang into a
// prompt failure that says why.
var watchedCommands = map[string]bool{"save": true, "managedsave": true, "dump": true, "migrate": true}

// lostQuit says when a watched command has printed an error and had
// lostQuitGrace to exit.
func lostQuit() func(stderr string) bool {
	var since time.Time
	return func(stderr string) bool {
		if !strings.Contains(stderr, "error: ") {
			return false
		}
		if since.IsZero() {
			since = time.Now()
		}
		return time.Since(since) > lostQuitGrace
	}
}

const lostQuitGrace = 5 * time.Second

// toolLimit bounds one run of a virt-manager tool: virt-install waits for
// its guest without --noautoconsole, and a test must not hang on that.
const toolLimit = 3 * time.Minute

// VirtTool runs one of virt-manager's command-line tools (virt-install,
// virt-clone, virt-xml) with --connect to the daemon's read-write socket.
// Its HOME is a directory of the test's, so its logs and caches stay out of
// root's; it is killed after toolLimit.
func (d *Daemon) VirtTool(name string, args ...string) Result {
	d.t.Helper()
	return runBounded(d.t, d, toolLimit, []string{"HOME=" + d.t.TempDir()}, name,
		append([]string{"--connect", d.URI()}, args...)...)
}

// MustVirtTool runs VirtTool and fails the test unless the tool succeeds.
func (d *Daemon) MustVirtTool(name string, args ...string) string {
	d.t.Helper()
	r := d.VirtTool(name, args...)
	if r.Code != 0 {
		d.t.Fatalf("%s %s: exit %d\n%s%s", name, strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// Virsh runs virsh against the daemon's read-write socket.
func (d *Daemon) Virsh(args ...string) Result {
	d.t.Helper()
	var stuck func(string) bool
	if len(args) > 0 && watchedCommands[args[0]] {
		stuck = lostQuit()
	}
	return runUntil(d.t, d, clientLimit, nil, stuck, "virsh", append([]string{"-q", "-c", d.URI()}, args...)...)
}

// MustVirsh runs virsh and fails the test unless it succeeds.
func (d *Daemon) MustVirsh(args ...string) string {
	d.t.Helper()
	r := d.Virsh(args...)
	if r.Code != 0 {
		d.t.Fatalf("virsh %s: exit %d\n%s%s", strings.Join(args, " "), r.Code, r.Stdout, r.Stderr)
	}
	return r.Stdout
}

// VirtAdmin runs virt-admin against the daemon's admin socket.
func (d *Daemon) VirtAdmin(args ...string) Result {
	d.t.Helper()
	return runBounded(d.t, d, clientLimit, nil, "virt-admin", append([]string{"-q", "-c", d.AdminURI()}, args...)...)
}

// Python runs a python3-libvirt script (Debian's interpreter, where the
// binding is installed) with the daemon's URI as sys.argv[1].
func (d *Daemon) Python(script string, args ...string) Result {
	d.t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import libvirt").CombinedOutput(); err != nil {
		d.t.Skipf("python3-libvirt is not installed: %s", out)
	}
	return runBounded(d.t, d, clientLimit, nil, "/usr/bin/python3", append([]string{"-c", script, d.URI()}, args...)...)
}

// GoLibvirt opens a go-libvirt connection on the socket named by sock
// (paths.RWSocketName or paths.ROSocketName), closed when the test ends.
func (d *Daemon) GoLibvirt(sock string) *libvirt.Libvirt {
	d.t.Helper()
	return GoLibvirtAt(d.t, filepath.Join(d.Paths.SocketDir(), sock))
}

// GoLibvirtAt opens a go-libvirt connection to xen:///system on the socket
// at path, closed when the test ends.
func GoLibvirtAt(t testing.TB, path string) *libvirt.Libvirt {
	t.Helper()
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	l := libvirt.NewWithDialer(dialers.NewAlreadyConnected(conn))
	if err := l.ConnectToURI("xen:///system"); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Disconnect() })
	return l
}

// DomState is `virsh domstate --reason`, e.g. "shut off (crashed)".
func (d *Daemon) DomState(name string) string {
	d.t.Helper()
	return strings.TrimSpace(d.MustVirsh("domstate", "--reason", name))
}

// WaitState polls until the guest's state with its reason is want.
func (d *Daemon) WaitState(name, want string) {
	d.t.Helper()
	got := ""
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = d.DomState(name); got == want {
			return
		}
	}
	d.t.Fatalf("%s: state %q, want %q", name, got, want)
}

// PythonCommand is an unstarted python3-libvirt script (Debian's
// interpreter) with args as sys.argv[1:]; what it prints collects in the
// returned buffer. For scripts that run alongside the test (event
// watchers); Python runs one to completion.
func PythonCommand(t testing.TB, script string, args ...string) (*exec.Cmd, *SyncBuffer) {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import libvirt").CombinedOutput(); err != nil {
		t.Skipf("python3-libvirt is not installed: %s", out)
	}
	out := &SyncBuffer{}
	cmd := exec.Command("/usr/bin/python3", append([]string{"-c", script}, args...)...)
	cmd.Stdout, cmd.Stderr = out, out
	return cmd, out
}

// Beside starts cmd, a program that runs beside the daemon while the test
// does (an exporter, collectd, a bus, virt-manager), with its output in the
// buffer returned. It is killed when the test ends, and its output logged
// as what's if the test failed.
func Beside(t testing.TB, what string, cmd *exec.Cmd) *SyncBuffer {
	t.Helper()
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
		if t.Failed() {
			t.Logf("%s's output:\n%s", what, out.String())
		}
	})
	return out
}

// AtDefaultSockets is the command line (program first) that runs script,
// with sh -c and args as its $1, $2 and on, in a mount namespace of its
// own where a tmpfs is on /run and the daemon's socket directory is
// /run/libvirt, libvirt's own: there a client that names no socket
// (xen:///, read-only too), as a host's service does, reaches this daemon.
// The test is skipped if the daemon's sockets are below /run.
func (d *Daemon) AtDefaultSockets(script string, args ...string) []string {
	d.t.Helper()
	sockets := d.Paths.SocketDir()
	if strings.HasPrefix(sockets, "/run/") {
		d.t.Skipf("the daemon's sockets (%s) are below /run, which the namespace's tmpfs covers", sockets)
	}
	const mountSockets = `set -e
mount -t tmpfs tmpfs /run
mkdir /run/libvirt
mount --bind "$1" /run/libvirt
shift
`
	return append([]string{"unshare", "--mount", "--propagation", "private", "sh", "-c", mountSockets + script, "sh", sockets}, args...)
}
