package admin_test

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/admin"
	"virtxend/internal/admin/admintest"
	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

func TestVersionAndServers(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	if out := mustAdmin(t, d, "version"); !strings.Contains(out, "Running against daemon: 11.3.0") {
		t.Errorf("version:\n%s", out)
	}
	out := mustAdmin(t, d, "srv-list")
	if got := strings.Fields(out); strings.Join(got, " ") != "0 admin 1 virtxend" {
		t.Errorf("srv-list:\n%s", out)
	}
	r := d.VirtAdmin("srv-threadpool-info", "libvirtd")
	if r.Code == 0 || !strings.Contains(r.Stderr, "Server not found: No server named 'libvirtd'") {
		t.Errorf("unknown server: %+v", r)
	}
	r = d.VirtAdmin("srv-update-tls", "virtxend")
	if r.Code == 0 || !strings.Contains(r.Stderr, "no tls service found, unable to update tls files") {
		t.Errorf("srv-update-tls: %+v", r)
	}
}

func TestThreadPoolInfoAndSet(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "max_clients = 5000\n")
	d := daemontest.Start(t, root, "-v")
	info := fields(mustAdmin(t, d, "srv-threadpool-info", "virtxend"))
	want := map[string]string{"minWorkers": "5", "maxWorkers": "20", "prioWorkers": "5", "jobQueueDepth": "0"}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("%s = %q, want %q (all: %v)", k, info[k], v, info)
		}
	}
	mustAdmin(t, d, "srv-threadpool-set", "virtxend", "--min-workers", "7", "--max-workers", "9", "--priority-workers", "2")
	info = fields(mustAdmin(t, d, "srv-threadpool-info", "virtxend"))
	if info["minWorkers"] != "7" || info["maxWorkers"] != "9" || info["prioWorkers"] != "2" {
		t.Errorf("after set: %v", info)
	}
	// The pool grew to the new minimum at once.
	if n, _ := strconv.Atoi(info["nWorkers"]); n < 7 {
		t.Errorf("nWorkers %d after raising minWorkers to 7", n)
	}
	checkLoggedWithClient(t, d, "thread pool changed")
	r := d.VirtAdmin("srv-threadpool-set", "virtxend", "--min-workers", "10")
	if r.Code == 0 || !strings.Contains(r.Stderr, "minWorkers cannot be larger than maxWorkers") {
		t.Errorf("min > max accepted: %+v", r)
	}
	// A SIGHUP applies only the keys that changed in the file: what
	// virt-admin set for the others stays.
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "max_clients = 4000\n")
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("configuration reloaded")
	if info = fields(mustAdmin(t, d, "srv-threadpool-info", "virtxend")); info["maxWorkers"] != "9" || info["minWorkers"] != "7" {
		t.Errorf("SIGHUP undid srv-threadpool-set: %v", info)
	}
	if limits := fields(mustAdmin(t, d, "srv-clients-info", "virtxend")); limits["nclients_max"] != "4000" {
		t.Errorf("SIGHUP did not apply max_clients: %v", limits)
	}
}

func TestClientsListInfoAndDisconnect(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	ev, id := startEventLoop(t, d)
	list := strings.Fields(mustAdmin(t, d, "srv-clients-list", "virtxend"))
	if len(list) != 4 || list[1] != "unix" { // id, transport, date, time
		t.Fatalf("srv-clients-list: %q", list)
	}
	info := fields(mustAdmin(t, d, "client-info", "virtxend", id))
	want := map[string]string{
		"id": id, "transport": "unix", "readonly": "no",
		"unix_user_id": strconv.Itoa(os.Getuid()), "unix_group_id": strconv.Itoa(os.Getgid()),
		"unix_process_id": strconv.Itoa(ev.cmd.Process.Pid),
	}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		want["unix_user_name"] = u.Username
	}
	if g, err := user.LookupGroupId(strconv.Itoa(os.Getgid())); err == nil {
		want["unix_group_name"] = g.Name
	}
	for k, v := range want {
		if info[k] != v {
			t.Errorf("client-info %s = %q, want %q (all: %v)", k, info[k], v, info)
		}
	}
	mustAdmin(t, d, "client-disconnect", "virtxend", id)
	if err := ev.wait(t); err == nil || !strings.Contains(ev.out.String(), "Disconnected from") {
		t.Errorf("virsh event after client-disconnect: %v\n%s", err, ev.out.String())
	}
	r := d.VirtAdmin("client-info", "virtxend", id)
	if r.Code == 0 || !strings.Contains(r.Stderr, "Client not found: No client with matching ID '"+id+"'") {
		t.Errorf("client-info after disconnect: %+v", r)
	}
	// A client of the read-only socket is listed as such.
	ro := dialAndCall(t, filepath.Join(d.Paths.SocketDir(), paths.ROSocketName))
	defer ro.Close()
	list = strings.Fields(mustAdmin(t, d, "srv-clients-list", "virtxend"))
	if len(list) != 4 {
		t.Fatalf("srv-clients-list with the read-only client: %q", list)
	}
	if info := fields(mustAdmin(t, d, "client-info", "virtxend", list[0])); info["readonly"] != "yes" ||
		info["unix_process_id"] != strconv.Itoa(os.Getpid()) {
		t.Errorf("client-info of the read-only client: %v", info)
	}
}

// TestClientLimitRefusesFurtherClient lowers max_clients to the clients
// connected: a further client then waits unanswered in the listen backlog,
// as with libvirt, until the limit is raised again.
func TestClientLimitRefusesFurtherClient(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t), "-v")
	sock := filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
	first := dialAndCall(t, sock)
	defer first.Close()
	// The admin server has no limit on unauthenticated clients, as libvirt's.
	if adm := fields(mustAdmin(t, d, "srv-clients-info", "admin")); adm["nclients_max"] != "5000" || adm["nclients_unauth_max"] != "0" {
		t.Errorf("srv-clients-info admin: %v", adm)
	}
	limits := fields(mustAdmin(t, d, "srv-clients-info", "virtxend"))
	if limits["nclients"] != "1" || limits["nclients_max"] != "5000" || limits["nclients_unauth_max"] != "20" {
		t.Errorf("srv-clients-info: %v", limits)
	}
	r := d.VirtAdmin("srv-clients-set", "virtxend", "--max-clients", "1")
	if r.Code == 0 || !strings.Contains(r.Stderr, "must not be less than the number of clients waiting for authentication") {
		t.Errorf("max below unauth max accepted: %+v", r)
	}
	mustAdmin(t, d, "srv-clients-set", "virtxend", "--max-clients", "1", "--max-unauth-clients", "1")
	limits = fields(mustAdmin(t, d, "srv-clients-info", "virtxend"))
	if limits["nclients_max"] != "1" || limits["nclients_unauth_max"] != "1" {
		t.Errorf("after set: %v", limits)
	}
	checkLoggedWithClient(t, d, "client limits changed")

	further, err := admintest.Dial(sock) // the kernel queues it
	if err != nil {
		t.Fatal(err)
	}
	defer further.Close()
	replied := make(chan error, 1)
	go func() { replied <- further.CallProg(remoteProgram, 1, procAuthList, nil, nil) }()
	// A reply here would be a bug, so the wait cannot fail a correct daemon.
	select {
	case err := <-replied:
		t.Fatalf("a client beyond max_clients was served (%v)", err)
	case <-time.After(300 * time.Millisecond):
	}
	mustAdmin(t, d, "srv-clients-set", "virtxend", "--max-clients", "2")
	if err := <-replied; err != nil {
		t.Fatalf("queued client after raising the limit: %v", err)
	}
}

// The remote program's AUTH_LIST, answered before anything else.
const (
	remoteProgram = 0x20008086
	procAuthList  = 66
)

func dialAndCall(t *testing.T, sock string) *admintest.Conn {
	t.Helper()
	c, err := admintest.Dial(sock)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CallProg(remoteProgram, 1, procAuthList, nil, nil); err != nil {
		t.Fatal(err)
	}
	return c
}

func TestLogFiltersAndOutputsAppliedLive(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	// virt-admin -q prints the bare value.
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "\n" {
		t.Errorf("initial filters: %q", out)
	}
	logFile := filepath.Join(d.Root, "admin.log")
	mustAdmin(t, d, "daemon-log-outputs", "2:file:"+logFile+" 3:stderr")
	if out := mustAdmin(t, d, "daemon-log-outputs"); out != "2:file:"+logFile+" 3:stderr\n" {
		t.Errorf("outputs read back: %q", out)
	}
	// Admin changes are info records; the filter lets them through the
	// default level, and the new file output receives them.
	mustAdmin(t, d, "daemon-log-filters", "2:admin 1:rpc")
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "2:*admin* 1:*rpc* \n" {
		t.Errorf("filters read back: %q", out)
	}
	data, err := os.ReadFile(logFile)
	if err != nil {
		t.Fatal(err)
	}
	want := "log filters changed"
	if s := string(data); !strings.Contains(s, want) || !strings.Contains(s, "client_uid="+strconv.Itoa(os.Getuid())) ||
		!strings.Contains(s, "client_pid=") {
		t.Errorf("log file lacks %q with the client's identity:\n%s", want, s)
	}
	// Bad values get libvirt's errors and change nothing.
	r := d.VirtAdmin("daemon-log-filters", "9:x")
	if r.Code == 0 || !strings.Contains(r.Stderr, "invalid argument: Invalid priority '9' for filter '9:x'") {
		t.Errorf("bad filter: %+v", r)
	}
	r = d.VirtAdmin("daemon-log-outputs", "1:bogus")
	if r.Code == 0 || !strings.Contains(r.Stderr, "invalid argument: Invalid log destination 'bogus' for log output '1:bogus'") {
		t.Errorf("bad output: %+v", r)
	}
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "2:*admin* 1:*rpc* \n" {
		t.Errorf("filters after a rejected change: %q", out)
	}
	if out := mustAdmin(t, d, "daemon-log-outputs"); out != "2:file:"+logFile+" 3:stderr\n" {
		t.Errorf("outputs after a rejected change: %q", out)
	}
	mustAdmin(t, d, "daemon-log-filters", "")
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "\n" {
		t.Errorf("filters after clearing: %q", out)
	}
}

// A SIGHUP that edits only log_level keeps the filters virt-admin set;
// one that edits log_filters applies the file's.
func TestSighupKeepsLogFiltersSetLive(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "log_level = 3\nlog_filters = \"1:util\"\n")
	d := daemontest.Start(t, root, "-v")
	mustAdmin(t, d, "daemon-log-filters", "2:admin 1:rpc")
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "log_level = 2\nlog_filters = \"1:util\"\n")
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("configuration reloaded")
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "2:*admin* 1:*rpc* \n" {
		t.Errorf("filters after a SIGHUP that edited log_level only: %q", out)
	}
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "log_level = 2\nlog_filters = \"1:event\"\n")
	d.Signal(syscall.SIGHUP)
	d.WaitForOutput("applied=[log_filters]")
	if out := mustAdmin(t, d, "daemon-log-filters"); out != "1:*event* \n" {
		t.Errorf("filters after a SIGHUP that edited log_filters: %q", out)
	}
}

func TestDaemonTimeout(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	mustAdmin(t, d, "daemon-timeout", "--timeout", "1")
	// virt-admin was the last client: once it has gone the daemon is idle.
	if code := d.Wait(60 * time.Second); code != 0 {
		t.Errorf("exit code %d after the idle timeout", code)
	}
}

// TestDaemonShutdown uses a raw client: Debian's virt-admin 9.0 predates
// daemon-shutdown (libvirt 11.2). With or without --preserve the daemon
// exits 0 and leaves a running guest running: a new daemon finds it so.
func TestDaemonShutdown(t *testing.T) {
	for _, flags := range []uint32{0, admin.DaemonShutdownPreserve} {
		root := daemontest.NewRoot(t)
		d := daemontest.Start(t, root)
		xml := daemontest.WriteFile(t, root, "g.xml", guestXML)
		d.MustVirsh("define", xml)
		d.MustVirsh("start", "g")
		domid := d.MustVirsh("domid", "g")
		c, err := admintest.Dial(filepath.Join(d.Paths.SocketDir(), paths.AdminSocketName))
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Call(admin.ProcConnectOpen, &admin.FlagsArgs{}, nil); err != nil {
			t.Fatal(err)
		}
		if err := c.Call(admin.ProcConnectDaemonShutdown, &admin.FlagsArgs{Flags: flags}, nil); err != nil {
			t.Fatalf("flags %d: %v", flags, err)
		}
		if code := d.Wait(60 * time.Second); code != 0 {
			t.Errorf("flags %d: exit code %d", flags, code)
		}
		c.Close()
		d2 := daemontest.Start(t, root)
		if state, id := d2.DomState("g"), d2.MustVirsh("domid", "g"); state != "running (booted)" || id != domid {
			t.Errorf("flags %d: guest %q, domid %q after daemon-shutdown; want it still running as domid %q",
				flags, state, id, domid)
		}
		d2.MustVirsh("destroy", "g")
		d2.Stop()
	}
}

const guestXML = `<domain type='xen'>
  <name>g</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
</domain>
`

func TestNonRootClientRefused(t *testing.T) {
	if _, err := exec.LookPath("setpriv"); err != nil {
		t.Skip("setpriv (util-linux) is not installed")
	}
	if os.Getuid() != 0 {
		t.Skip("needs root to run a client as another user")
	}
	root := daemontest.NewRoot(t)
	os.Chmod(filepath.Dir(root), 0o755) // testing makes these 0700
	os.Chmod(root, 0o755)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", `unix_sock_admin_perms = "0777"`)
	d := daemontest.Start(t, root)
	os.Chmod(filepath.Join(root, "run"), 0o755)
	cmd := exec.Command("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
		"virt-admin", "-c", d.AdminURI(), "version")
	cmd.Env = append(os.Environ(), "HOME="+root)
	out, err := cmd.CombinedOutput()
	if err == nil || strings.Contains(string(out), "Running against daemon") {
		t.Fatalf("virt-admin as uid 65534 was served: %v\n%s", err, out)
	}
	d.WaitForOutput("refusing admin client")
	mustAdmin(t, d, "version") // the daemon's own uid still is
}

// checkLoggedWithClient checks that the daemon logged msg with the uid and
// pid of the virt-admin that made the change.
func checkLoggedWithClient(t *testing.T, d *daemontest.Daemon, msg string) {
	t.Helper()
	d.WaitForOutput(msg)
	for line := range strings.Lines(d.Output()) {
		if strings.Contains(line, msg) {
			if !strings.Contains(line, "client_uid="+strconv.Itoa(os.Getuid())) || !strings.Contains(line, "client_pid=") {
				t.Errorf("%q logged without the client: %s", msg, line)
			}
			return
		}
	}
}
