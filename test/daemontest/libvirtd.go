package daemontest

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// Libvirtd is Debian's libvirtd serving the secondary drivers (storage,
// network, node devices, secrets, nwfilter, host interfaces) beside the
// daemon in the same root, started by scripts/libvirtd-beside: in its own
// mount and network namespaces, with private state below ROOT/libvirtd,
// so it touches nothing of the host.
type Libvirtd struct {
	t    testing.TB
	Root string
	// Socket is its read-write socket, where virtxend finds it.
	Socket string
	// PCI is the fixture PCI tree it sees in place of the host's PCI
	// devices (StartLibvirtdWithPCI), "" when it sees the host's.
	PCI  string
	cmd  *exec.Cmd
	out  *SyncBuffer
	done chan struct{}
}

var (
	repoOnce sync.Once
	repoDir  string
	repoErr  error
)

// RepoDir is the repository's top directory (the main module's).
func RepoDir(t testing.TB) string {
	t.Helper()
	repoOnce.Do(func() {
		out, err := exec.Command("go", "list", "-m", "-f", "{{.Dir}}").Output()
		repoDir, repoErr = strings.TrimSpace(string(out)), err
	})
	if repoErr != nil {
		t.Fatalf("go list -m: %v", repoErr)
	}
	return repoDir
}

// StartLibvirtd starts libvirtd beside a daemon in root and waits until it
// serves; it is stopped, with its namespaces, when the test ends.
func StartLibvirtd(t testing.TB, root string) *Libvirtd {
	t.Helper()
	return startLibvirtd(t, root, "")
}

// StartLibvirtdWithPCI is StartLibvirtd with libvirtd's node device driver
// seeing the fixture PCI tree in fix (NewPCIFixture, PCIFixture.Write)
// instead of the host's PCI devices: scripts/libvirtd-beside's
// LIBVIRTD_BESIDE_PCI.
func StartLibvirtdWithPCI(t testing.TB, root, fix string) *Libvirtd {
	t.Helper()
	return startLibvirtd(t, root, fix)
}

func startLibvirtd(t testing.TB, root, fix string) *Libvirtd {
	t.Helper()
	if _, err := exec.LookPath("libvirtd"); err != nil {
		t.Skip("libvirtd is not installed")
	}
	l := &Libvirtd{t: t, Root: root, Socket: filepath.Join(root, "run", "libvirt", "libvirt-sock"), PCI: fix,
		out: &SyncBuffer{}, done: make(chan struct{})}
	l.cmd = exec.Command(filepath.Join(RepoDir(t), "scripts", "libvirtd-beside"), root)
	// The fixture is this call's choice, never the environment's.
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "LIBVIRTD_BESIDE_PCI=") {
			l.cmd.Env = append(l.cmd.Env, kv)
		}
	}
	if fix != "" {
		l.cmd.Env = append(l.cmd.Env, "LIBVIRTD_BESIDE_PCI="+fix)
	}
	l.cmd.Stdout, l.cmd.Stderr = l.out, l.out
	if err := l.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { l.cmd.Wait(); close(l.done) }()
	t.Cleanup(l.stop)
	for deadline := time.Now().Add(60 * time.Second); !Serves(l.Socket); time.Sleep(50 * time.Millisecond) {
		select {
		case <-l.done:
			t.Fatalf("libvirtd exited before serving:\n%s", l.out.String())
		default:
		}
		if time.Now().After(deadline) {
			t.Fatalf("libvirtd did not serve %s:\n%s", l.Socket, l.out.String())
		}
	}
	return l
}

// StartWithLibvirtd starts the daemon on the simulated host with libvirtd
// beside it in a new root, and gives libvirtd a default storage pool and
// network, as scripts/run-simulated does: what a new user's host has.
func StartWithLibvirtd(t testing.TB) (*Daemon, *Libvirtd) {
	t.Helper()
	root := NewRoot(t)
	l := StartLibvirtd(t, root)
	l.Defaults()
	return Start(t, root), l
}

// Defaults gives libvirtd the default storage pool (a directory pool at
// /var/lib/libvirt/images) and the isolated default network that
// scripts/libvirtd-defaults makes.
func (l *Libvirtd) Defaults() {
	l.t.Helper()
	out, err := exec.Command(filepath.Join(RepoDir(l.t), "scripts", "libvirtd-defaults"), l.Root).CombinedOutput()
	if err != nil {
		l.t.Fatalf("libvirtd-defaults: %v\n%s", err, out)
	}
}

// stop ends libvirtd (SIGTERM, then SIGKILL if it lingers).
func (l *Libvirtd) stop() {
	l.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-l.done:
	case <-time.After(30 * time.Second):
		l.cmd.Process.Kill()
		<-l.done
	}
	if l.t.Failed() {
		l.t.Logf("libvirtd output:\n%s", l.out.String())
	}
}

// Virsh runs virsh directly against libvirtd's URI for driver (storage,
// network, ...): the baseline the forwarded calls are compared with.
func (l *Libvirtd) Virsh(driver string, args ...string) Result {
	l.t.Helper()
	uri := driver + ":///system?socket=" + l.Socket
	return Run(l.t, "virsh", append([]string{"-q", "-c", uri}, args...)...)
}

// Exists reports whether path exists in libvirtd's private state, by its
// path as libvirtd sees it (/var/lib/libvirt/images/x.img).
func (l *Libvirtd) Exists(path string) bool {
	for _, d := range []string{"/etc/libvirt", "/var/lib/libvirt", "/run/libvirt", "/var/cache/libvirt", "/var/log/libvirt", "/var/lib/xen"} {
		if rest, ok := strings.CutPrefix(path, d); ok {
			priv := filepath.Join(l.Root, "libvirtd", strings.ReplaceAll(strings.TrimPrefix(d, "/"), "/", "-"))
			_, err := os.Stat(priv + rest)
			return err == nil
		}
	}
	_, err := os.Stat(path)
	return err == nil
}
