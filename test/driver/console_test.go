package drivertests

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// Consoles of the simulated host's guests through virsh: the banner, what
// is typed, a guest-initiated poweroff, one session at a time unless
// --force, and libvirt's refusals.

var ptyPath = regexp.MustCompile(`^/dev/pts/[0-9]+$`)

// ttyconsole is `virsh ttyconsole`, once the console is recorded.
func ttyconsole(t *testing.T, d *daemontest.Daemon, name string) string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out = strings.TrimSpace(d.Virsh("ttyconsole", name).Stdout); out != "" {
			break
		}
	}
	if !ptyPath.MatchString(out) {
		t.Fatalf("virsh ttyconsole %s: %q", name, out)
	}
	return out
}

// console runs `virsh console` and waits until it is connected and the
// guest's prompt shows.
func console(t *testing.T, d *daemontest.Daemon, name string, args ...string) *daemontest.Terminal {
	t.Helper()
	tm := d.VirshTerminal(append([]string{"console", name}, args...)...)
	tm.Expect("Connected to domain '" + name + "'")
	awaitLive(t, tm)
	return tm
}

// liveLines numbers awaitLive's calls, so that each types lines of its
// own: a line an earlier call typed is already in the session's output.
var liveLines atomic.Int32

// awaitLive returns once a virsh console session carries what is typed.
// virsh prints "Connected" before it makes the terminal raw, with
// TCSAFLUSH, which drops what was typed meanwhile (and echoes it while
// cooked), and a session waiting for the guest's next boot drops what is
// typed: so it types a line of its own until the guest's tty has echoed
// it and the guest answered it, as it answers every line. (virsh takes ^]
// only as the first byte it reads at once: a caller that types it next
// must wait for this answer first.)
func awaitLive(t *testing.T, tm *daemontest.Terminal) {
	t.Helper()
	call := liveLines.Add(1)
	for try := 0; try < 100; try++ {
		line := fmt.Sprintf("live%d-%d", call, try)
		tm.Type(line + "\r")
		for i := 0; i < 10; i++ {
			if strings.Contains(tm.Output(), line+"\r\n"+line+"\r\n") {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	t.Fatalf("the console session never answered; it printed %q", tm.Output())
}

func TestVirshConsolePoweroff(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "con", guestXML("con", ""))
	tty := ttyconsole(t, d, "con")
	if live := d.MustVirsh("dumpxml", "con"); !strings.Contains(live, "<source path='"+tty+"'/>") {
		t.Fatalf("live XML does not name %s:\n%s", tty, live)
	}
	tm := console(t, d, "con")
	tm.Expect("Booting simulated Xen guest 'con' (domid 1")
	tm.Expect("con# ")
	tm.Type("hello\r")
	tm.Expect("hello\r\nhello\r\ncon# ")
	tm.Type("poweroff\r")
	tm.Expect("reboot: Power down")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("virsh console exited %d after the guest powered off:\n%q", code, tm.Output())
	}
	d.WaitState("con", "shut off (shutdown)")
	if evs := w.waitFor("con", 3); evs[2] != "STOPPED/SHUTDOWN" {
		t.Fatalf("events %v", evs)
	}
	if r := d.Virsh("ttyconsole", "con"); r.Code != 1 || strings.TrimSpace(r.Stdout) != "" {
		t.Errorf("a stopped guest has a tty: %+v", r)
	}
	waitNoConsoled(t, d)
}

func TestVirshConsoleForce(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "con", guestXML("con", ""))
	ttyconsole(t, d, "con")
	first := console(t, d, "con")
	first.Expect("con# ")
	second := d.VirshTerminal("console", "con")
	second.Expect("error: operation failed: Active console session exists for this domain")
	if code := second.Wait(); code != 1 {
		t.Fatalf("second virsh console exited %d", code)
	}
	if !first.Running() {
		t.Fatal("the refused session ended the first")
	}
	third := console(t, d, "con", "--force")
	// What libvirt's daemon does to the session taken over, and virsh says.
	first.Expect("error: stream had I/O failure")
	if code := first.Wait(); code != 1 {
		t.Fatalf("the session taken over exited %d", code)
	}
	third.Type("mine\r")
	third.Expect("mine\r\nmine\r\n")
	third.Type("\x1d") // ^]: virsh ends the session
	if code := third.Wait(); code != 0 {
		t.Fatalf("virsh console exited %d on ^]", code)
	}
	// The console is free again.
	again := console(t, d, "con")
	again.Type("x\r")
	again.Expect("x\r\nx\r\n")
}

func TestVirshConsoleRefusals(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "con", guestXML("con", ""))
	ttyconsole(t, d, "con")
	define(t, d, "off", guestXML("off", ""))
	defineStart(t, d, "hvm", `<domain type='xen'><name>hvm</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices><serial type='null'/></devices></domain>`)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"con", "--safe"}, "error: unsupported flags (0x2) in function libxlDomainOpenConsole"},
		{[]string{"con", "nosuch"}, "error: internal error: cannot find character device nosuch"},
		{[]string{"hvm"}, "error: internal error: character device serial0 is not using a PTY"},
		{[]string{"off"}, "error: The domain is not running"}, // virsh's own check
	} {
		tm := d.VirshTerminal(append([]string{"console"}, tc.args...)...)
		tm.Expect(tc.want)
		if code := tm.Wait(); code != 1 {
			t.Errorf("virsh console %v exited %d", tc.args, code)
		}
	}
	// Past virsh's check, the daemon's own.
	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
try:
    conn.lookupByName("off").openConsole(None, conn.newStream(0), 0)
except libvirt.libvirtError as e:
    print(e.get_error_code(), e.get_error_domain(), e)
`)
	if got := strings.TrimSpace(r.Stdout); got != "55 20 Requested operation is not valid: domain is not running" {
		t.Fatalf("openConsole of a stopped guest: %q %s", got, r.Stderr)
	}
}

// The console daemon, and the guest's pty, outlive the daemon: after a
// clean stop and after kill -9 the same console answers.
func TestConsoleAcrossDaemonRestarts(t *testing.T) {
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	defineStart(t, d, "con", guestXML("con", ""))
	tty := ttyconsole(t, d, "con")
	tm := console(t, d, "con")
	tm.Expect("con# ")
	pid := consoledPid(t, d)
	for _, stop := range []syscall.Signal{syscall.SIGTERM, syscall.SIGKILL} {
		d.Signal(stop)
		d.Wait(bound)
		// The session's connection went with the daemon; virsh 9.0 says
		// so and waits for ^], with libvirtd as here.
		tm.Expect("error: Disconnected from ")
		tm.Type("\x1d")
		tm.Wait()
		d = daemontest.Start(t, root)
		if again := ttyconsole(t, d, "con"); again != tty {
			t.Fatalf("after %v the console moved from %s to %s", stop, tty, again)
		}
		if again := consoledPid(t, d); again != pid {
			t.Fatalf("after %v the console daemon %d became %d", stop, pid, again)
		}
		tm = console(t, d, "con")
		tm.Type("after " + stop.String() + "\r")
		tm.Expect("after " + stop.String() + "\r\nafter " + stop.String() + "\r\n")
	}
	if strings.Count(tm.Output(), "Booting") != 0 {
		t.Errorf("the guest booted again:\n%q", tm.Output())
	}
	d.MustVirsh("destroy", "con")
	if code := tm.Wait(); code != 0 {
		t.Errorf("virsh console exited %d when the guest was destroyed", code)
	}
	waitNoConsoled(t, d)
}

// The banner is printed at every boot: a reboot is a new domain on Xen,
// with a new console. The session stays open across it, as a console of
// libvirt's QEMU driver does, and carries the new boot's console; so does
// one across a reset. A session ends when the guest stops for good.
func TestConsoleFollowsReboots(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "con", guestXML("con", ""))
	ttyconsole(t, d, "con")
	tm := console(t, d, "con")
	tm.Expect("(domid 1,")
	tm.Type("reboot\r")
	tm.Expect("reboot: Restarting system")
	tm.Expect("Booting simulated Xen guest 'con' (domid 2,")
	if got := domid(t, d, "con"); got != 2 {
		t.Fatalf("after the reboot the guest runs as %d", got)
	}
	awaitLive(t, tm)
	d.MustVirsh("reset", "con")
	tm.Expect("Booting simulated Xen guest 'con' (domid 3,")
	awaitLive(t, tm)
	// Another session is refused: the new boot's console is this one's.
	other := d.VirshTerminal("console", "con")
	other.Expect("error: operation failed: Active console session exists for this domain")
	other.Wait()
	tm.Type("poweroff\r")
	tm.Expect("reboot: Power down")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("virsh console exited %d after the guest powered off:\n%q", code, tm.Output())
	}
	d.WaitState("con", "shut off (shutdown)")
}

func TestPythonOpenConsoleReadsTheBanner(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "con", guestXML("con", ""))
	ttyconsole(t, d, "con")
	r := d.Python(`
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("con")
st = conn.newStream(libvirt.VIR_STREAM_NONBLOCK)
dom.openConsole(None, st, 0)
got = b""
done = threading.Event()
def readable(stream, events, opaque):
    global got
    if events & libvirt.VIR_STREAM_EVENT_READABLE:
        data = stream.recv(1024)
        if isinstance(data, bytes):
            got += data
    if b"con# " in got:
        done.set()
st.eventAddCallback(libvirt.VIR_STREAM_EVENT_READABLE, readable, None)
def loop():
    while not done.is_set():
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
done.wait(30)
st.eventRemoveCallback()
st.finish()
print(got.decode())
`)
	if !strings.Contains(r.Stdout, "Booting simulated Xen guest 'con'") || !strings.Contains(r.Stdout, "con# ") {
		t.Fatalf("python read %q\n%s", r.Stdout, r.Stderr)
	}
}

// consoledPid is the simulated host's console daemon, which must run.
func consoledPid(t *testing.T, d *daemontest.Daemon) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Paths.SimHostDir(), "consoles.json"))
	var cf struct{ Pid int }
	if err == nil {
		err = json.Unmarshal(b, &cf)
	}
	if err != nil || cf.Pid == 0 || syscall.Kill(cf.Pid, 0) != nil {
		t.Fatalf("no console daemon: %v %s", err, b)
	}
	return cf.Pid
}

// waitNoConsoled waits until the console daemon is gone, as it must be
// with no guest left.
func waitNoConsoled(t *testing.T, d *daemontest.Daemon) {
	t.Helper()
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if _, err := os.Stat(filepath.Join(d.Paths.SimHostDir(), "consoles.json")); os.IsNotExist(err) {
			return
		}
	}
	t.Fatal("the console daemon still runs with no guest")
}

// virsh start --console connects as soon as the guest starts: the daemon
// lets it wait for the pty rather than fail.
func TestVirshStartConsole(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "con", guestXML("con", ""))
	tm := d.VirshTerminal("start", "--console", "con")
	tm.Expect("Booting simulated Xen guest 'con'")
	tm.Type("poweroff\r")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("virsh start --console exited %d", code)
	}
	d.WaitState("con", "shut off (shutdown)")
}

// A console daemon that restarts gives the running guest's console a new
// pty (as xenconsoled does): virsh ttyconsole names the new one, virsh
// console reaches the guest through it (issue 20), and a session open
// across the restart moves to it.
func TestConsoleAfterConsoledRestart(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "con", guestXML("con", ""))
	old := ttyconsole(t, d, "con")
	// Held open, the old pty keeps its number: the new one cannot reuse it.
	f, err := os.OpenFile(old, os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// A session open across the restart moves to the new pty.
	held := console(t, d, "con")
	pid := consoledPid(t, d)
	syscall.Kill(pid, syscall.SIGKILL)
	// the simulated host starts a console daemon again at the next create
	defineStart(t, d, "other", guestXML("other", ""))
	for deadline := time.Now().Add(bound); ; time.Sleep(50 * time.Millisecond) {
		if now := consoledPid(t, d); now != pid {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no new console daemon")
		}
	}
	// The driver asks for the console daemon at most once a second.
	tty := ttyconsole(t, d, "con")
	for deadline := time.Now().Add(bound); tty == old; tty = ttyconsole(t, d, "con") {
		if time.Now().After(deadline) {
			t.Fatalf("virsh ttyconsole still names %s after the console daemon's restart", old)
		}
		time.Sleep(200 * time.Millisecond)
	}
	if live := d.MustVirsh("dumpxml", "con"); !strings.Contains(live, "<source path='"+tty+"'/>") {
		t.Fatalf("live XML does not name %s:\n%s", tty, live)
	}
	awaitLive(t, held)
	held.Type("\x1d")
	if code := held.Wait(); code != 0 {
		t.Fatalf("virsh console exited %d on ^]", code)
	}
	tm := console(t, d, "con")
	tm.Type("after restart\r")
	tm.Expect("after restart\r\nafter restart\r\n")
	tm.Type("\x1d")
	if code := tm.Wait(); code != 0 {
		t.Fatalf("virsh console exited %d on ^]", code)
	}
	d.MustVirsh("destroy", "con")
	d.MustVirsh("destroy", "other")
	waitNoConsoled(t, d)
}

// TestVirshInjectNMI: virsh inject-nmi, which libvirt's Xen driver does
// not serve, reaches the running guest, whose console reports it as Linux
// does, and the guest goes on running; libvirt's errors for a guest that
// does not run, for Domain-0 and on the read-only socket.
func TestVirshInjectNMI(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "nmi", guestXML("nmi", ""))
	if r := d.Virsh("inject-nmi", "nmi"); r.Code == 0 || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("inject-nmi of a shut-off guest: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("start", "nmi")
	ttyconsole(t, d, "nmi")
	tm := console(t, d, "nmi")
	d.MustVirsh("inject-nmi", "nmi")
	tm.Expect("Uhhuh. NMI received for unknown reason 00 on CPU 0.\r\nDazed and confused, but trying to continue\r\nnmi# ")
	if s := d.DomState("nmi"); !strings.HasPrefix(s, "running") {
		t.Errorf("after the NMI: %s", s)
	}
	if r := d.Virsh("inject-nmi", "Domain-0"); r.Code == 0 || !strings.Contains(r.Stderr, "Domain-0 does not support requested operation") {
		t.Errorf("inject-nmi Domain-0: %d %q", r.Code, r.Stderr)
	}
	r := daemontest.Run(t, "virsh", "-c", d.ROURI(), "inject-nmi", "nmi")
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainInjectNMI") {
		t.Errorf("read-only inject-nmi: %d %q", r.Code, r.Stderr)
	}
}
