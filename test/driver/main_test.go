// Package drivertests are integration tests of the Xen driver through the
// built daemon and real clients (virsh, libvirt-python, go-libvirt) on the
// simulated Xen host: restart recovery, crash consistency, autostart once
// per boot, the driver lock, the idle timeout with guests, and
// guest-initiated lifecycle with its events.
package drivertests

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// bound is how long any polled condition may take before the test fails; it
// is generous because CI runs with -race on two shared cores.
const bound = 30 * time.Second

// guestXML is a PV guest (xen/linux with a kernel) with optional extra
// elements inside <domain> (lifecycle actions, sim faults).
func guestXML(name string, extra string) string {
	return `<domain type='xen'>
  <name>` + name + `</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
` + extra + `
</domain>
`
}

// faults is the simulator's fault element in a <metadata>.
func faults(attrs string) string {
	return `<metadata><sim:fault xmlns:sim="urn:virtxend:sim" ` + attrs + `/></metadata>`
}

// defineStart defines and starts a guest from xml and returns its domid.
func defineStart(t *testing.T, d *daemontest.Daemon, name, xml string) int {
	t.Helper()
	define(t, d, name, xml)
	d.MustVirsh("start", name)
	return domid(t, d, name)
}

// define defines a guest from xml through a file, as users do.
func define(t *testing.T, d *daemontest.Daemon, name, xml string) {
	t.Helper()
	path := daemontest.WriteFile(t, t.TempDir(), name+".xml", xml)
	d.MustVirsh("define", path)
}

// domid is `virsh domid`: the guest's id, or -1 when it is not running.
func domid(t *testing.T, d *daemontest.Daemon, name string) int {
	t.Helper()
	out := strings.TrimSpace(d.MustVirsh("domid", name))
	if out == "-" {
		return -1
	}
	id, err := strconv.Atoi(out)
	if err != nil {
		t.Fatalf("virsh domid %s: %q", name, out)
	}
	return id
}

// listAll is `virsh list --all --name` as a set.
func listAll(t *testing.T, d *daemontest.Daemon) map[string]bool {
	t.Helper()
	set := map[string]bool{}
	for _, n := range strings.Fields(d.MustVirsh("list", "--all", "--name")) {
		set[n] = true
	}
	return set
}

// eventWatcher is a libvirt-python client running the default event loop
// in a thread and printing each lifecycle event as "NAME EVENT/DETAIL".
type eventWatcher struct {
	t     *testing.T
	cmd   *exec.Cmd
	stdin io.WriteCloser
	mu    sync.Mutex
	lines []string
	ready chan struct{}
	done  chan struct{}
}

const watcherScript = `
import sys, threading, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
def lifecycle(conn, dom, event, detail, opaque):
    print("%s %d %d" % (dom.name(), event, detail), flush=True)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE, lifecycle, None)
def job(conn, dom, params, opaque):
    print("%s job %d" % (dom.name(), params.get("operation", -1)), flush=True)
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_JOB_COMPLETED, job, None)
def loop():
    while True:
        libvirt.virEventRunDefaultImpl()
threading.Thread(target=loop, daemon=True).start()
print("READY", flush=True)
sys.stdin.read()  # until the test closes stdin
conn.close()
`

// watchEvents attaches an event watcher to d; it ends with the test.
func watchEvents(t *testing.T, d *daemontest.Daemon) *eventWatcher {
	t.Helper()
	if out, err := exec.Command("/usr/bin/python3", "-c", "import libvirt").CombinedOutput(); err != nil {
		t.Skipf("python3-libvirt is not installed: %s", out)
	}
	w := &eventWatcher{t: t, ready: make(chan struct{}), done: make(chan struct{})}
	w.cmd = exec.Command("/usr/bin/python3", "-c", watcherScript, d.URI())
	stdout, err := w.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	w.cmd.Stderr = os.Stderr
	if w.stdin, err = w.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	if err := w.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go w.read(stdout)
	t.Cleanup(w.close)
	select {
	case <-w.ready:
	case <-w.done:
		t.Fatal("event watcher ended before registering")
	case <-time.After(bound):
		t.Fatal("event watcher did not register")
	}
	return w
}

func (w *eventWatcher) read(r io.Reader) {
	defer close(w.done)
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		line := sc.Text()
		if line == "READY" {
			close(w.ready)
			continue
		}
		f := strings.Fields(line)
		if len(f) != 3 {
			continue
		}
		name := jobEventName(f[2])
		if f[1] != "job" {
			ev, _ := strconv.Atoi(f[1])
			detail, _ := strconv.Atoi(f[2])
			name = eventName(ev, detail)
		}
		w.mu.Lock()
		w.lines = append(w.lines, f[0]+" "+name)
		w.mu.Unlock()
	}
}

// close ends the watcher (its connection closes with it).
func (w *eventWatcher) close() {
	w.stdin.Close()
	select {
	case <-w.done:
	case <-time.After(bound):
		w.cmd.Process.Kill()
		<-w.done
	}
	w.cmd.Wait()
}

// of returns the events seen so far for domain name, e.g. "STOPPED/DESTROYED"
// or "JOB_COMPLETED/SAVE".
func (w *eventWatcher) of(name string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var evs []string
	for _, l := range w.lines {
		if n, ev, _ := strings.Cut(l, " "); n == name {
			evs = append(evs, ev)
		}
	}
	return evs
}

// waitFor polls until the events for name are at least n, and returns them.
func (w *eventWatcher) waitFor(name string, n int) []string {
	w.t.Helper()
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if evs := w.of(name); len(evs) >= n {
			return evs
		}
	}
	w.t.Fatalf("%s: events %v, want at least %d", name, w.of(name), n)
	return nil
}

// exactly checks that name's events are want and nothing more: a barrier
// event (defining a throwaway domain) delivered after them proves that no
// further event for name was pending.
func (w *eventWatcher) exactly(d *daemontest.Daemon, name string, want ...string) {
	w.t.Helper()
	barrier := fmt.Sprintf("barrier-%d", time.Now().UnixNano())
	path := daemontest.WriteFile(w.t, w.t.TempDir(), "barrier.xml", guestXML(barrier, ""))
	d.MustVirsh("define", path)
	w.waitFor(barrier, 1)
	d.MustVirsh("undefine", barrier)
	if got := w.of(name); strings.Join(got, " ") != strings.Join(want, " ") {
		w.t.Fatalf("%s: events %v, want %v", name, got, want)
	}
}

// jobEventName spells a job-completed event by the job's operation
// (VIR_DOMAIN_JOB_OPERATION_SAVE...): "JOB_COMPLETED/SAVE".
func jobEventName(operation string) string {
	ops := []string{"UNKNOWN", "START", "SAVE", "RESTORE", "MIGRATION_IN", "MIGRATION_OUT", "SNAPSHOT",
		"SNAPSHOT_REVERT", "DUMP", "BACKUP", "SNAPSHOT_DELETE"}
	if op, err := strconv.Atoi(operation); err == nil && op >= 0 && op < len(ops) {
		operation = ops[op]
	}
	return "JOB_COMPLETED/" + operation
}

// eventName spells a lifecycle event/detail pair as libvirt's constants
// (VIR_DOMAIN_EVENT_STOPPED, VIR_DOMAIN_EVENT_STOPPED_CRASHED...).
func eventName(ev, detail int) string {
	events := []string{"DEFINED", "UNDEFINED", "STARTED", "SUSPENDED", "RESUMED", "STOPPED", "SHUTDOWN", "PMSUSPENDED", "CRASHED"}
	details := map[int][]string{
		0: {"ADDED", "UPDATED", "RENAMED", "FROM_SNAPSHOT"},
		1: {"REMOVED", "RENAMED"},
		2: {"BOOTED", "MIGRATED", "RESTORED", "FROM_SNAPSHOT", "WAKEUP"},
		3: {"PAUSED", "MIGRATED", "IOERROR", "WATCHDOG", "RESTORED", "FROM_SNAPSHOT", "API_ERROR", "POSTCOPY", "POSTCOPY_FAILED"},
		4: {"UNPAUSED", "MIGRATED", "FROM_SNAPSHOT", "POSTCOPY", "POSTCOPY_FAILED"},
		5: {"SHUTDOWN", "DESTROYED", "CRASHED", "MIGRATED", "SAVED", "FAILED", "FROM_SNAPSHOT"},
		6: {"FINISHED", "GUEST", "HOST"},
		7: {"MEMORY", "DISK"},
		8: {"PANICKED", "CRASHLOADED"},
	}
	e, dt := strconv.Itoa(ev), strconv.Itoa(detail)
	if ev >= 0 && ev < len(events) {
		e = events[ev]
		if ds := details[ev]; detail >= 0 && detail < len(ds) {
			dt = ds[detail]
		}
	}
	return e + "/" + dt
}
