package process

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// activate runs the daemon under Debian's systemd-socket-activate with the
// given sockets (name → path), then connects to the first to trigger it.
func activate(t *testing.T, root string, names []string, socks []string) *daemontest.Daemon {
	t.Helper()
	if _, err := exec.LookPath("systemd-socket-activate"); err != nil {
		t.Skip("systemd-socket-activate is not installed")
	}
	args := []string{"-E", "VIRTXEND_ROOT=" + root}
	if names != nil { // without --fdname there is no LISTEN_FDNAMES
		args = append(args, "--fdname="+strings.Join(names, ":"))
	}
	for _, s := range socks {
		args = append(args, "-l", s)
	}
	args = append(args, daemontest.Binary(t), "--verbose")
	d := daemontest.Launch(t, exec.Command("systemd-socket-activate", args...), root)
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		if c, err := net.Dial("unix", socks[0]); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("activation socket never appeared")
		}
	}
	return d
}

func TestSocketActivationAdoptsNamedSockets(t *testing.T) {
	root := daemontest.NewRoot(t)
	sockDir := filepath.Join(root, "run", "libvirt")
	os.MkdirAll(sockDir, 0o755)
	rw, ro := filepath.Join(sockDir, "virtxend-sock"), filepath.Join(sockDir, "virtxend-sock-ro")
	// Config socket keys must be ignored for adopted sockets.
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", `unix_sock_rw_perms = "0711"`)
	d := activate(t, root, []string{"virtxend.socket", "virtxend-ro.socket"}, []string{rw, ro})
	admin := filepath.Join(sockDir, "virtxend-admin-sock")
	d.WaitForSocket(admin) // the missing one is created by the daemon
	if mode(t, rw) == 0o711 {
		t.Error("config perms were applied to an adopted socket")
	}
	d.WaitForOutput("using socket passed by systemd")
	if code := d.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, p := range []string{rw, ro} {
		if _, err := os.Lstat(p); err != nil {
			t.Errorf("adopted socket %s was unlinked: %v", p, err)
		}
	}
	if _, err := os.Lstat(admin); !os.IsNotExist(err) {
		t.Error("the daemon's own admin socket was not removed")
	}
}

func TestSocketActivationRejectsUnclaimedFD(t *testing.T) {
	root := daemontest.NewRoot(t)
	sock := filepath.Join(root, "odd.sock")
	d := activate(t, root, []string{"something-else.socket"}, []string{sock})
	if code := d.Wait(60 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if !strings.Contains(d.Output(), "unclaimed") || !strings.Contains(d.Output(), "something-else.socket") {
		t.Errorf("output does not explain the unclaimed fd:\n%s", d.Output())
	}
}

func TestSocketActivationRejectsUnnamedFD(t *testing.T) {
	root := daemontest.NewRoot(t)
	sock := filepath.Join(root, "unnamed.sock")
	d := activate(t, root, nil, []string{sock})
	if code := d.Wait(60 * time.Second); code != 1 {
		t.Fatalf("exit %d, want 1", code)
	}
	if out := d.Output(); !strings.Contains(out, "missing LISTEN_FDNAMES env from systemd socket activation") {
		t.Errorf("output does not explain the unnamed fd:\n%s", out)
	}
	if _, err := os.Stat(filepath.Join(root, "run")); !os.IsNotExist(err) {
		t.Error("the daemon created its run directory before failing")
	}
}
