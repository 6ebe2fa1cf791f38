package process

import (
	"encoding/binary"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// notifySocket is a datagram socket standing in for systemd's NOTIFY_SOCKET.
type notifySocket struct {
	path string
	conn *net.UnixConn
}

func newNotifySocket(t *testing.T) *notifySocket {
	path := filepath.Join(t.TempDir(), "notify")
	conn, err := net.ListenUnixgram("unixgram", &net.UnixAddr{Name: path, Net: "unixgram"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &notifySocket{path: path, conn: conn}
}

// next returns the next notification, failing the test if none comes.
func (n *notifySocket) next(t *testing.T) string {
	t.Helper()
	buf := make([]byte, 4096)
	n.conn.SetReadDeadline(time.Now().Add(30 * time.Second))
	k, err := n.conn.Read(buf)
	if err != nil {
		t.Fatalf("no notification: %v", err)
	}
	return string(buf[:k])
}

func TestNotifyReadyReloadStopping(t *testing.T) {
	root := daemontest.NewRoot(t)
	ns := newNotifySocket(t)
	cmd := daemontest.Command(t, root)
	cmd.Env = append(cmd.Env, "NOTIFY_SOCKET="+ns.path)
	d := daemontest.Launch(t, cmd, root)
	if got := ns.next(t); got != "READY=1" {
		t.Fatalf("first notification %q, want READY=1", got)
	}
	d.WaitForSocket(filepath.Join(d.Paths.SocketDir(), "virtxend-sock")) // READY means clients are served
	d.Signal(syscall.SIGHUP)
	reloading := ns.next(t)
	lines := strings.Split(reloading, "\n")
	if len(lines) != 2 || lines[0] != "RELOADING=1" || !strings.HasPrefix(lines[1], "MONOTONIC_USEC=") {
		t.Fatalf("reload notification %q", reloading)
	}
	if usec, err := strconv.ParseInt(strings.TrimPrefix(lines[1], "MONOTONIC_USEC="), 10, 64); err != nil || usec <= 0 {
		t.Fatalf("bad MONOTONIC_USEC in %q", reloading)
	}
	if got := ns.next(t); got != "READY=1" {
		t.Fatalf("after reload %q, want READY=1", got)
	}
	d.Signal(syscall.SIGTERM)
	if got := ns.next(t); got != "STOPPING=1" {
		t.Fatalf("on stop %q, want STOPPING=1", got)
	}
	if code := d.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// TestSighupGoodAndBadConfig: a config with errors is rejected whole and
// the running settings stay; a good one puts the live keys (limits,
// workers, logging, keepalive) into force at once and names the keys that
// need a restart.
func TestSighupGoodAndBadConfig(t *testing.T) {
	root := daemontest.NewRoot(t)
	conf := daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf",
		"max_clients = 100\nkeepalive_interval = -1\nkeepalive_count = 0\n")
	d := daemontest.Start(t, root, "-v")
	os.WriteFile(conf, []byte("max_clients = \"lots\"\nmin_workers = 6\n"), 0o644)
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("reload rejected")
	if !strings.Contains(d.Output(), "virtxend.conf:1") {
		t.Errorf("rejection does not name file and line:\n%s", d.Output())
	}
	if got := adminFields(t, d, "srv-threadpool-info", "virtxend")["minWorkers"]; got != "5" {
		t.Errorf("minWorkers %s after a rejected reload, want the old 5", got)
	}
	logFile := filepath.Join(root, "reloaded.log")
	os.WriteFile(conf, []byte(`max_clients = 200
min_workers = 6
keepalive_interval = 1
keepalive_count = 0
log_outputs = "1:file:`+logFile+` 2:stderr"
unix_sock_rw_perms = "0770"
`), 0o644)
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("configuration reloaded")
	d.WaitForOutput("unix_sock_rw_perms") // named as needing a restart
	if got := adminFields(t, d, "srv-clients-info", "virtxend")["nclients_max"]; got != "200" {
		t.Errorf("nclients_max %s after reload, want 200", got)
	}
	if got := adminFields(t, d, "srv-threadpool-info", "virtxend")["minWorkers"]; got != "6" {
		t.Errorf("minWorkers %s after reload, want 6", got)
	}
	if data, _ := os.ReadFile(logFile); !strings.Contains(string(data), "configuration reloaded") {
		t.Errorf("the reloaded log output did not receive the reload's record:\n%s", data)
	}
	// keepalive_interval went from never to 1s with no PING allowed to go
	// unanswered: a client asking for keepalive now is dropped when silent.
	c, err := net.Dial("unix", filepath.Join(d.Paths.SocketDir(), paths.RWSocketName))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.Write(remoteCall(60, 1, 10)) // CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
	c.SetReadDeadline(time.Now().Add(60 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		t.Errorf("silent keepalive client was not dropped after the reload: %v", err)
	}
	if code := d.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

// remoteCall is a remote-program CALL packet with a raw payload of words.
func remoteCall(proc, serial uint32, payload ...uint32) []byte {
	words := append([]uint32{0, 0x20008086, 1, proc, 0, serial, 0}, payload...)
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.BigEndian.PutUint32(b[4*i:], w)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// adminFields runs virt-admin and parses its "name : value" listing.
func adminFields(t *testing.T, d *daemontest.Daemon, args ...string) map[string]string {
	t.Helper()
	r := d.VirtAdmin(args...)
	if r.Code != 0 {
		t.Fatalf("virt-admin %v: exit %d\n%s%s", args, r.Code, r.Stdout, r.Stderr)
	}
	m := map[string]string{}
	for line := range strings.Lines(r.Stdout) {
		if k, v, ok := strings.Cut(line, ":"); ok {
			m[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	return m
}

func TestEachStopSignalExitsCleanly(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT} {
		root := daemontest.NewRoot(t)
		d := daemontest.Start(t, root)
		// A connected client does not hold the daemon up: it is closed.
		c, err := net.Dial("unix", filepath.Join(d.Paths.SocketDir(), paths.RWSocketName))
		if err != nil {
			t.Fatal(err)
		}
		c.Write(remoteCall(66, 1)) // AUTH_LIST
		reply := make([]byte, 28)
		c.SetReadDeadline(time.Now().Add(60 * time.Second))
		if _, err := io.ReadFull(c, reply); err != nil {
			t.Fatalf("no reply before the signal: %v", err)
		}
		d.Signal(sig)
		if code := d.Wait(60 * time.Second); code != 0 {
			t.Errorf("%v: exit %d", sig, code)
		}
		if _, err := io.Copy(io.Discard, c); err != nil {
			t.Errorf("%v: client not closed: %v", sig, err)
		}
		c.Close()
		for _, name := range []string{"virtxend-sock", "virtxend-sock-ro", "virtxend-admin-sock"} {
			if _, err := os.Lstat(filepath.Join(d.Paths.SocketDir(), name)); !os.IsNotExist(err) {
				t.Errorf("%v: %s left behind", sig, name)
			}
		}
	}
}

func TestIdleTimeoutWithoutClients(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root, "-t", "1")
	if code := d.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
	for _, p := range []string{d.Paths.PidFile(), filepath.Join(d.Paths.SocketDir(), paths.RWSocketName),
		filepath.Join(d.Paths.SocketDir(), paths.ROSocketName), filepath.Join(d.Paths.SocketDir(), paths.AdminSocketName)} {
		if _, err := os.Lstat(p); !os.IsNotExist(err) {
			t.Errorf("%s left behind after the idle exit", p)
		}
	}
}

func TestIdleTimeoutWaitsForEveryClient(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root, "-t", "1")
	// An admin client alone keeps the daemon alive, as in libvirt.
	c, err := net.Dial("unix", filepath.Join(d.Paths.SocketDir(), "virtxend-admin-sock"))
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(2500 * time.Millisecond) // more than twice the timeout
	if d.Exited() {
		t.Fatalf("daemon exited with a client connected:\n%s", d.Output())
	}
	c.Close()
	if code := d.Wait(60 * time.Second); code != 0 {
		t.Fatalf("exit %d", code)
	}
}

func TestDaemonizeReturnsOnceListening(t *testing.T) {
	root := daemontest.NewRoot(t)
	out, code := runBinary(t, root, "-d", "-v")
	if code != 0 {
		t.Fatalf("-d: exit %d, %s", code, out)
	}
	if out != "" {
		t.Errorf("-d printed %q", out)
	}
	data, err := os.ReadFile(filepath.Join(root, "run", "virtxend.pid"))
	if err != nil {
		t.Fatal("no pid file when -d returned:", err)
	}
	pid, _ := strconv.Atoi(string(data))
	proc, _ := os.FindProcess(pid)
	defer proc.Signal(syscall.SIGKILL)
	c, err := net.Dial("unix", filepath.Join(root, "run", "libvirt", "virtxend-sock"))
	if err != nil {
		t.Fatal("not listening when -d returned:", err)
	}
	c.Close()
	// libvirt's default output for a daemon without journald is its log file.
	if _, err := os.Stat("/run/systemd/journal/socket"); os.IsNotExist(err) {
		waitForFile(t, filepath.Join(root, "var", "log", "libvirt", "virtxend.log"), "virtxend is ready")
	}
	// A second -d fails in the background; the foreground says why.
	out, code = runBinary(t, root, "-d")
	if code != 1 || !strings.Contains(out, "another instance") {
		t.Errorf("second -d: exit %d, %q", code, out)
	}
	proc.Signal(syscall.SIGTERM)
	waitGone(t, pid)
	if _, err := os.Stat(filepath.Join(root, "run", "virtxend.pid")); !os.IsNotExist(err) {
		t.Error("pid file left after SIGTERM")
	}
}

func waitGone(t *testing.T, pid int) {
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if syscall.Kill(pid, 0) != nil {
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("process %d did not exit", pid)
}

// waitForFile waits until the file at path contains s.
func waitForFile(t *testing.T, path, s string) {
	t.Helper()
	var data []byte
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if data, _ = os.ReadFile(path); strings.Contains(string(data), s) {
			return
		}
	}
	t.Fatalf("%s never contained %q:\n%s", path, s, data)
}

// TestSighupRejectsBadLibxlConf: libxl.conf is re-read too; a bad one is
// rejected naming its file and line, and the daemon keeps serving.
func TestSighupRejectsBadLibxlConf(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	daemontest.WriteFile(t, root, "etc/libvirt/libxl.conf", "\nnested_hvm = \"maybe\"\n")
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("reload rejected")
	if !strings.Contains(d.Output(), "libxl.conf:2: nested_hvm") {
		t.Errorf("rejection does not name libxl.conf, its line and key:\n%s", d.Output())
	}
	d.WaitForSocket(filepath.Join(d.Paths.SocketDir(), paths.RWSocketName))
	daemontest.WriteFile(t, root, "etc/libvirt/libxl.conf", "nested_hvm = 1\n")
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("changed settings take effect only after a restart") // a valid change
	if out := d.Output(); !strings.Contains(out[strings.Index(out, "only after a restart"):], "nested_hvm") {
		t.Errorf("the restart warning does not name nested_hvm:\n%s", out)
	}
	if code := d.Stop(); code != 0 {
		t.Fatalf("exit %d", code)
	}
}
