package process

import (
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"virtxend/test/daemontest"
)

func mode(t *testing.T, path string) os.FileMode {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Mode().Perm()
}

func TestDefaultSocketsAndPidFile(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	dir := d.Paths.SocketDir()
	for name, want := range map[string]os.FileMode{"virtxend-sock": 0o700, "virtxend-sock-ro": 0o777, "virtxend-admin-sock": 0o700} {
		if got := mode(t, filepath.Join(dir, name)); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
		st, _ := os.Stat(filepath.Join(dir, name))
		if sys := st.Sys().(*syscall.Stat_t); int(sys.Uid) != os.Geteuid() || int(sys.Gid) != os.Getegid() {
			t.Errorf("%s: owner %d:%d, want the daemon's %d:%d", name, sys.Uid, sys.Gid, os.Geteuid(), os.Getegid())
		}
	}
	pidPath := filepath.Join(root, "run", "virtxend.pid")
	data, err := os.ReadFile(pidPath)
	if err != nil {
		t.Fatal(err)
	}
	if string(data) != strconv.Itoa(d.Cmd.Process.Pid) {
		t.Errorf("pid file holds %q, want %d without newline", data, d.Cmd.Process.Pid)
	}
	if got := mode(t, pidPath); got != 0o644 {
		t.Errorf("pid file mode %o, want 644", got)
	}
	assertLocked(t, pidPath)
	if code := d.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, p := range []string{pidPath, filepath.Join(dir, "virtxend-sock"), filepath.Join(dir, "virtxend-sock-ro"), filepath.Join(dir, "virtxend-admin-sock")} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s still exists after SIGTERM", p)
		}
	}
}

// assertLocked checks that the daemon holds libvirt's lock: a write lock
// on the pid file's first byte.
func assertLocked(t *testing.T, path string) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: 0, Len: 1}
	if err := unix.FcntlFlock(f.Fd(), unix.F_GETLK, &lk); err != nil {
		t.Fatal(err)
	}
	if lk.Type != unix.F_WRLCK {
		t.Errorf("pid file is not write-locked (lock type %d)", lk.Type)
	}
}

func TestConfiguredSocketsDirPermsAndGroup(t *testing.T) {
	root := daemontest.NewRoot(t)
	sockDir := filepath.Join(root, "socks")
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", `
unix_sock_dir = "`+sockDir+`"
unix_sock_group = "nogroup"
unix_sock_rw_perms = "0770"
unix_sock_ro_perms = "0775"
unix_sock_admin_perms = "0750"
`)
	d := daemontest.Launch(t, daemontest.Command(t, root, "-p", filepath.Join(root, "my.pid")), root)
	d.WaitForSocket(filepath.Join(sockDir, "virtxend-sock"))
	nogroup := lookupGID(t, "nogroup")
	for name, want := range map[string]os.FileMode{"virtxend-sock": 0o770, "virtxend-sock-ro": 0o775, "virtxend-admin-sock": 0o750} {
		p := filepath.Join(sockDir, name)
		if got := mode(t, p); got != want {
			t.Errorf("%s: mode %o, want %o", name, got, want)
		}
		st, _ := os.Stat(p)
		if gid := st.Sys().(*syscall.Stat_t).Gid; int(gid) != nogroup {
			t.Errorf("%s: group %d, want nogroup (%d)", name, gid, nogroup)
		}
	}
	if _, err := os.Stat(filepath.Join(root, "my.pid")); err != nil {
		t.Errorf("-p pid file: %v", err)
	}
	d.Stop()
}

func lookupGID(t *testing.T, name string) int {
	out, err := exec.Command("getent", "group", name).Output()
	if err != nil {
		t.Skipf("no group %s: %v", name, err)
	}
	gid, _ := strconv.Atoi(strings.Split(string(out), ":")[2])
	return gid
}

func TestSecondInstanceIsRefusedAndDisturbsNothing(t *testing.T) {
	root := daemontest.NewRoot(t)
	first := daemontest.Start(t, root)
	pidBefore, _ := os.ReadFile(first.Paths.PidFile())
	for _, args := range [][]string{nil, {"-p", ""}, {"-p", filepath.Join(root, "other.pid")}} {
		out, code := runBinary(t, root, args...)
		if code != 1 || !strings.Contains(out, "another instance of virtxend is already running") {
			t.Errorf("second daemon %v: exit %d, output %q", args, code, out)
		}
		// Without the pid file's lock the sockets refuse it, naming who listens.
		if byPid := fmt.Sprintf("in use by pid %d", first.Cmd.Process.Pid); args != nil && !strings.Contains(out, byPid) {
			t.Errorf("second daemon %v: %q does not say %q", args, out, byPid)
		}
	}
	pidAfter, _ := os.ReadFile(first.Paths.PidFile())
	if string(pidBefore) != string(pidAfter) {
		t.Errorf("pid file changed from %q to %q", pidBefore, pidAfter)
	}
	first.WaitForSocket(filepath.Join(first.Paths.SocketDir(), "virtxend-sock-ro"))
	if first.Exited() {
		t.Fatal("first daemon died")
	}
}

func TestStaleFilesFromAKilledDaemonAreReplaced(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	d.Signal(syscall.SIGKILL)
	d.Wait(10 * time.Second)
	d2 := daemontest.Start(t, root)
	data, _ := os.ReadFile(d2.Paths.PidFile())
	if string(data) != strconv.Itoa(d2.Cmd.Process.Pid) {
		t.Errorf("pid file %q, want %d", data, d2.Cmd.Process.Pid)
	}
}

func TestAdminSocketAdmitsOnlyTheDaemonsUID(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	root := daemontest.NewRoot(t)
	os.Chmod(filepath.Dir(root), 0o755) // testing makes these 0700
	os.Chmod(root, 0o755)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", `unix_sock_admin_perms = "0777"`)
	d := daemontest.Start(t, root)
	os.Chmod(filepath.Join(root, "run"), 0o755)
	admin := filepath.Join(d.Paths.SocketDir(), "virtxend-admin-sock")
	// As uid 65534 the connection is accepted by the kernel, then closed by the daemon.
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"/usr/bin/python3", "-c", `import socket,sys
s=socket.socket(socket.AF_UNIX); s.connect(sys.argv[1]); s.settimeout(20)
print("closed" if s.recv(1)==b"" else "open")`, admin)
	out, err := cmd.CombinedOutput()
	if err != nil || strings.TrimSpace(string(out)) != "closed" {
		t.Fatalf("non-root admin client: %v %s", err, out)
	}
	d.WaitForOutput("refusing admin client")
	// Root, the daemon's own uid, stays connected.
	c, err := net.Dial("unix", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(300 * time.Millisecond))
	if _, err := c.Read(make([]byte, 1)); err == nil || !os.IsTimeout(err) {
		t.Fatalf("root admin client was disconnected: %v", err)
	}
}

// TestRunDirAndPidFileIgnoreTheUmask: as libvirt, the run directory is made
// under umask 022, and the pid file is 0644, even for a daemon started
// with umask 077.
func TestRunDirAndPidFileIgnoreTheUmask(t *testing.T) {
	root := daemontest.NewRoot(t)
	cmd := exec.Command("/bin/sh", "-c", `umask 077 && exec "$0" "$@"`, daemontest.Binary(t))
	cmd.Env = append(os.Environ(), "VIRTXEND_ROOT="+root)
	d := daemontest.Launch(t, cmd, root)
	d.WaitForSocket(filepath.Join(d.Paths.SocketDir(), "virtxend-sock"))
	for path, want := range map[string]os.FileMode{
		filepath.Join(root, "run"): 0o755, d.Paths.SocketDir(): 0o755, d.Paths.PidFile(): 0o644,
		filepath.Join(d.Paths.SocketDir(), "virtxend-sock-ro"): 0o777,
	} {
		if got := mode(t, path); got != want {
			t.Errorf("%s: mode %o, want %o", path, got, want)
		}
	}
	d.Stop()
}
