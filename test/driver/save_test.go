package drivertests

import (
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// Save, restore, managed save and core dump through virsh and
// libvirt-python, with their events, their jobs (progress, abort, the
// completed job's statistics) and libvirt's errors.

// slowGuest is a guest whose save and dump write 16 MiB of its memory a
// second: a 256 MiB guest takes 16 s, time to watch and abort the job.
func slowGuest(name string) string {
	return strings.Replace(guestXML(name, faults(`save-rate="16"`)), "128", "256", 1)
}

func mustFail(t *testing.T, r daemontest.Result, want string) {
	t.Helper()
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("want failure %q, got %d: %s%s", want, r.Code, r.Stdout, r.Stderr)
	}
}

// jobFails runs stmt, libvirt-python with conn open on d (and dest on
// destURI when given), and prints a libvirt error as virsh does, for
// mustFail. It stands for virsh in the failures of save, managedsave,
// dump and migrate: virsh 9.0 makes their call in a worker thread while
// its main thread enters g_main_loop_run in virshWatchJob, and a worker
// that fails first quits a loop not yet running, so virsh waits for ever
// without printing the error (CI hit it three times; this daemon answers
// such errors in microseconds). daemontest fails the test when it sees that.
func jobFails(d *daemontest.Daemon, stmt string, destURI ...string) daemontest.Result {
	return d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
dest = libvirt.open(sys.argv[2]) if len(sys.argv) > 2 else None
try:
    `+stmt+`
except libvirt.libvirtError as e:
    print("error: " + str(e), file=sys.stderr)
    sys.exit(1)
`, destURI...)
}

func TestSaveRestore(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	id := defineStart(t, d, "g", guestXML("g", ""))
	img := filepath.Join(t.TempDir(), "g.save")
	d.MustVirsh("save", "g", img)
	if got := d.DomState("g"); got != "shut off (saved)" {
		t.Errorf("after save: %q", got)
	}
	if x := d.MustVirsh("save-image-dumpxml", img); !strings.Contains(x, "<name>g</name>") || strings.Contains(x, "id=") {
		t.Errorf("save-image-dumpxml: %s", x)
	}
	d.MustVirsh("restore", img)
	if got, newID := d.DomState("g"), domid(t, d, "g"); got != "running (booted)" || newID == id {
		t.Errorf("after restore: %q, id %d (was %d)", got, newID, id)
	}
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "JOB_COMPLETED/SAVE", "STOPPED/SAVED", "STARTED/RESTORED")

	// A paused guest is saved paused and comes back paused; --running and
	// --paused decide otherwise, at save or at restore.
	d.MustVirsh("suspend", "g")
	d.MustVirsh("save", "g", img)
	d.MustVirsh("restore", img)
	if got := d.DomState("g"); got != "paused (user)" {
		t.Errorf("restore of a paused save: %q", got)
	}
	d.MustVirsh("save", "g", img, "--running")
	d.MustVirsh("restore", img)
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("restore of a save --running: %q", got)
	}
	d.MustVirsh("save", "g", img)
	d.MustVirsh("restore", img, "--paused")
	if got := d.DomState("g"); got != "paused (user)" {
		t.Errorf("restore --paused: %q", got)
	}
	d.MustVirsh("destroy", "g")

	// save-image-define and restore --xml change the definition the guest
	// comes back with; one naming another domain is refused.
	d.MustVirsh("start", "g")
	d.MustVirsh("save", "g", img)
	x := d.MustVirsh("save-image-dumpxml", img)
	titled := daemontest.WriteFile(t, t.TempDir(), "t.xml", strings.Replace(x, "</name>", "</name><title>restored</title>", 1))
	d.MustVirsh("save-image-define", img, titled)
	if x := d.MustVirsh("save-image-dumpxml", img); !strings.Contains(x, "<title>restored</title>") {
		t.Errorf("after save-image-define: %s", x)
	}
	other := daemontest.WriteFile(t, t.TempDir(), "o.xml", strings.Replace(x, "<name>g</name>", "<name>h</name>", 1))
	mustFail(t, d.Virsh("restore", img, "--xml", other), "Target domain name 'h' does not match source 'g'")
	d.MustVirsh("restore", img)
	if x := d.MustVirsh("dumpxml", "g"); !strings.Contains(x, "<title>restored</title>") {
		t.Errorf("restored definition: %s", x)
	}
	if x := d.MustVirsh("dumpxml", "--inactive", "g"); strings.Contains(x, "<title>") {
		t.Errorf("the persistent definition changed: %s", x)
	}

	// A running domain cannot be restored over, Domain-0 not saved.
	d.MustVirsh("save", "g", img)
	d.MustVirsh("start", "g")
	mustFail(t, d.Virsh("restore", img), "domain 'g' is already active")
	mustFail(t, jobFails(d, "conn.lookupByName('Domain-0').save('"+img+"')"), "Domain-0 does not support requested operation")
	// Both start states at once: libvirt's library refuses them before any
	// call (and virsh 9.0 once hung in its job watcher after that refusal),
	// so go-libvirt, which checks nothing, sends them for the daemon to refuse.
	l := d.GoLibvirt(paths.RWSocketName)
	dom, err := l.DomainLookupByName("g")
	if err != nil {
		t.Fatal(err)
	}
	err = l.DomainSaveFlags(dom, img, nil, uint32(libvirt.DomainSaveRunning|libvirt.DomainSavePaused))
	if err == nil || !strings.Contains(err.Error(), "Flags 'VIR_DOMAIN_SAVE_RUNNING' and 'VIR_DOMAIN_SAVE_PAUSED' are mutually exclusive") {
		t.Errorf("save --running --paused through go-libvirt: %v", err)
	}
}

// TestBadImages: foreign, corrupt, truncated and unfinished images are
// refused with libvirt's errors and change nothing.
func TestBadImages(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "g", guestXML("g", ""))
	dir := t.TempDir()
	img := filepath.Join(dir, "g.save")
	d.MustVirsh("save", "g", img)
	good, err := os.ReadFile(img)
	if err != nil {
		t.Fatal(err)
	}
	write := func(name string, b []byte) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	cases := map[string]string{
		write("foreign", append([]byte("LibvirtQemudSave"), good[16:]...)):    "image magic is incorrect",
		write("partial", append([]byte("libvirt-xmlpart\x00"), good[16:]...)): "save image is incomplete",
		write("short", good[:30]):            "failed to read libxl header",
		write("noxml", good[:100]):           "failed to read XML",
		write("nostream", good[:64+4096+10]): "libxenlight failed to restore domain 'g'",
		write("version", append(append(append([]byte{}, good[:16]...), 9), good[17:]...)): "image version is not supported (9 > 2)",
	}
	for path, want := range cases {
		mustFail(t, d.Virsh("restore", path), want)
		if got := d.DomState("g"); got != "shut off (saved)" {
			t.Errorf("%s: state %q", path, got)
		}
	}
	mustFail(t, d.Virsh("restore", filepath.Join(dir, "none")), "Failed to open domain image file")
	d.MustVirsh("restore", img)
}

func TestManagedSave(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	w := watchEvents(t, d)
	defineStart(t, d, "g", guestXML("g", ""))
	d.MustVirsh("managedsave", "g")
	if got := d.MustVirsh("list", "--all", "--managed-save"); !strings.Contains(got, "saved") {
		t.Errorf("list --managed-save: %s", got)
	}
	if got := d.MustVirsh("list", "--all", "--name", "--with-managed-save"); strings.TrimSpace(got) != "g" {
		t.Errorf("list --with-managed-save: %q", got)
	}
	if got := d.MustVirsh("dominfo", "g"); !strings.Contains(got, "Managed save:   yes") {
		t.Errorf("dominfo: %s", got)
	}
	if x := d.MustVirsh("managedsave-dumpxml", "g"); !strings.Contains(x, "<name>g</name>") {
		t.Errorf("managedsave-dumpxml: %s", x)
	}
	mustFail(t, d.Virsh("undefine", "g"), "Refusing to undefine while domain managed save image exists")

	// The image outlives the daemon; start restores from it and drops it.
	d.Stop()
	d = daemontest.Start(t, root)
	w2 := watchEvents(t, d)
	d.MustVirsh("start", "g")
	if got := d.MustVirsh("dominfo", "g"); !strings.Contains(got, "Managed save:   no") {
		t.Errorf("dominfo after start: %s", got)
	}
	w2.exactly(d, "g", "STARTED/RESTORED")
	_ = w

	// start --force-boot discards the image; managedsave-remove too.
	d.MustVirsh("managedsave", "g")
	d.MustVirsh("start", "--force-boot", "g")
	w2.exactly(d, "g", "STARTED/RESTORED", "JOB_COMPLETED/SAVE", "STOPPED/SAVED", "STARTED/BOOTED")
	d.MustVirsh("managedsave", "g")
	d.MustVirsh("managedsave-remove", "g")
	if got := d.MustVirsh("dominfo", "g"); !strings.Contains(got, "Managed save:   no") {
		t.Errorf("dominfo after managedsave-remove: %s", got)
	}
	d.MustVirsh("start", "g")
	d.MustVirsh("managedsave", "g")
	d.MustVirsh("undefine", "--managed-save", "g")
	if listAll(t, d)["g"] {
		t.Error("undefine --managed-save left the domain")
	}
	mustFail(t, jobFails(d, "conn.lookupByName('Domain-0').managedSave()"), "Domain-0 does not support requested operation")

	// A transient guest has no managed save.
	path := daemontest.WriteFile(t, t.TempDir(), "t.xml", guestXML("t", ""))
	d.MustVirsh("create", path)
	mustFail(t, jobFails(d, "conn.lookupByName('t').managedSave()"), "cannot do managed save for transient domain")
}

// TestSaveJob: a save is a job others watch (domjobinfo), abort
// (domjobabort, or Ctrl-C on virsh save --verbose), and whose outcome
// they read after (domjobinfo --completed). An aborted save leaves the
// guest as it was and no image.
func TestSaveJob(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "g", slowGuest("g"))
	img := filepath.Join(t.TempDir(), "g.save")

	save := exec.Command("virsh", "-c", d.URI(), "save", "g", img)
	var saveErr bytes.Buffer
	save.Stderr = &saveErr
	if err := save.Start(); err != nil {
		t.Fatal(err)
	}
	info := waitJob(t, d, "g", "Data processed")
	for _, want := range []string{"Job type:         Bounded", "Operation:        Save", "Data total:", "Memory remaining:"} {
		if !strings.Contains(info, want) {
			t.Errorf("domjobinfo during the save lacks %q:\n%s", want, info)
		}
	}
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("state during the save: %q", got)
	}
	// virsh domcontrol, which libvirt's Xen driver does not serve
	if got := d.MustVirsh("domcontrol", "g"); !strings.HasPrefix(got, "background job (") {
		t.Errorf("domcontrol during the save: %q", got)
	}
	d.MustVirsh("domjobabort", "g")
	if err := save.Wait(); err == nil || !strings.Contains(saveErr.String(), "operation aborted: job 'domain save' canceled by client") {
		t.Errorf("aborted save: %v: %s", err, saveErr.String())
	}
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("state after the abort: %q", got)
	}
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Errorf("the aborted image is left: %v", err)
	}
	if got := d.MustVirsh("domjobinfo", "--completed", "g"); !strings.Contains(got, "Cancelled") {
		t.Errorf("domjobinfo --completed: %s", got)
	}
	mustFail(t, d.Virsh("domjobabort", "g"), "no job is active on the domain")

	// Ctrl-C on virsh save --verbose aborts the job; a paused guest stays
	// paused.
	d.MustVirsh("suspend", "g")
	tm := daemontest.StartTerminal(t, "virsh", "-c", d.URI(), "save", "--verbose", "g", img)
	tm.Expect("Save: [")
	tm.Type("\x03")
	if tm.Wait() == 0 || !strings.Contains(tm.Output(), "canceled by client") {
		t.Errorf("virsh save --verbose after Ctrl-C: %s", tm.Output())
	}
	if got := d.DomState("g"); got != "paused (user)" {
		t.Errorf("state after Ctrl-C: %q", got)
	}
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Errorf("the interrupted image is left: %v", err)
	}

	// A client that goes away mid-save neither cancels nor spoils it.
	gone := exec.Command("virsh", "-c", d.URI(), "save", "g", img)
	if err := gone.Start(); err != nil {
		t.Fatal(err)
	}
	waitJob(t, d, "g", "Data processed")
	gone.Process.Kill()
	gone.Wait()
	d.WaitState("g", "shut off (saved)")
	d.MustVirsh("restore", img)
	if got := d.DomState("g"); got != "paused (user)" {
		t.Errorf("restored after the client went: %q", got)
	}
}

// waitJob polls domjobinfo until it shows want.
func waitJob(t *testing.T, d *daemontest.Daemon, name, want string) string {
	t.Helper()
	var out string
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if out = d.Virsh("domjobinfo", name).Stdout; strings.Contains(out, want) {
			return out
		}
	}
	t.Fatalf("domjobinfo %s never showed %q: %s", name, want, out)
	return ""
}

// TestKillMidSave: a daemon killed during a save leaves the guest running
// with its id, and no image a restore would take.
func TestKillMidSave(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	id := defineStart(t, d, "g", slowGuest("g"))
	go d.Virsh("managedsave", "g")
	waitJob(t, d, "g", "Data processed")
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	d = daemontest.Start(t, root)
	if got, now := d.DomState("g"), domid(t, d, "g"); got != "running (booted)" && !strings.HasPrefix(got, "running") || now != id {
		t.Errorf("after the kill: %q id %d, want running id %d", got, now, id)
	}
	if got := d.MustVirsh("dominfo", "g"); !strings.Contains(got, "Managed save:   no") {
		t.Errorf("a partial managed save image counts: %s", got)
	}
	d.MustVirsh("destroy", "g")
	d.MustVirsh("start", "g") // boots: no image to restore
}

func TestCoreDump(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "g", guestXML("g", ""))
	core := filepath.Join(t.TempDir(), "g.core")
	d.MustVirsh("dump", "g", core)
	b, err := os.ReadFile(core)
	if err != nil || !bytes.HasPrefix(b, []byte("\x7fELF\x02\x01\x01")) || b[16] != 4 {
		t.Errorf("core file: %v %q", err, b[:min(len(b), 20)])
	}
	if got := d.DomState("g"); got != "running (unpaused)" {
		t.Errorf("after dump: %q", got)
	}
	d.MustVirsh("dump", "--live", "g", core)
	mustFail(t, jobFails(d, "conn.lookupByName('g').coreDump('"+core+"', libvirt.VIR_DUMP_MEMORY_ONLY)"), "unsupported flags (0x10) in function libxlDomainCoreDump")
	d.MustVirsh("dump", "--crash", "g", core)
	if got := d.DomState("g"); got != "shut off (crashed)" {
		t.Errorf("after dump --crash: %q", got)
	}
	// A dump is announced once written, before --crash stops the guest.
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "JOB_COMPLETED/DUMP", "JOB_COMPLETED/DUMP", "JOB_COMPLETED/DUMP", "STOPPED/CRASHED")

	// A slow dump is a job, and its abort leaves the guest running.
	define(t, d, "s", slowGuest("s"))
	d.MustVirsh("start", "s")
	dump := exec.Command("virsh", "-c", d.URI(), "dump", "s", core)
	if err := dump.Start(); err != nil {
		t.Fatal(err)
	}
	if info := waitJob(t, d, "s", "Data processed"); !strings.Contains(info, "Operation:        Dump") {
		t.Errorf("domjobinfo during the dump: %s", info)
	}
	if got := d.DomState("s"); got != "paused (dumping)" {
		t.Errorf("state during the dump: %q", got)
	}
	d.MustVirsh("domjobabort", "s")
	dump.Wait()
	if got := d.DomState("s"); got != "running (unpaused)" {
		t.Errorf("state after the aborted dump: %q", got)
	}
}

// TestSaveRestorePython: libvirt-python's save, restore and abortJob,
// with the events an event loop sees.
func TestSaveRestorePython(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "g", guestXML("g", ""))
	defineStart(t, d, "s", slowGuest("s"))
	dir := t.TempDir()
	r := d.Python(`
import sys, threading, time, libvirt
libvirt.virEventRegisterDefaultImpl()
conn = libvirt.open(sys.argv[1])
seen = []
conn.domainEventRegisterAny(None, libvirt.VIR_DOMAIN_EVENT_ID_LIFECYCLE,
    lambda c, d, e, det, o: seen.append((d.name(), e, det)), None)
threading.Thread(target=lambda: [libvirt.virEventRunDefaultImpl() for _ in iter(int, 1)], daemon=True).start()
g = conn.lookupByName("g")
g.save(sys.argv[2] + "/g.save")
conn.restore(sys.argv[2] + "/g.save")
g = conn.lookupByName("g")
g.saveParams({libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: sys.argv[2] + "/p.save"}, libvirt.VIR_DOMAIN_SAVE_PAUSED)
conn.restoreParams({libvirt.VIR_DOMAIN_SAVE_PARAM_FILE: sys.argv[2] + "/p.save"})
print("params", g.state()[0] == libvirt.VIR_DOMAIN_PAUSED)
g.saveParams({})
print("managed", g.hasManagedSaveImage())
g.create()
s = conn.lookupByName("s")
def abort():
    while s.jobInfo()[0] == libvirt.VIR_DOMAIN_JOB_NONE:
        time.sleep(0.05)
    s.abortJob()
threading.Thread(target=abort).start()
try:
    s.save(sys.argv[2] + "/s.save")
    print("save was not aborted")
except libvirt.libvirtError as e:
    print("aborted", e.get_error_code() == libvirt.VIR_ERR_OPERATION_ABORTED, s.state()[0] == libvirt.VIR_DOMAIN_RUNNING)
st = s.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
print("completed", st["type"] == libvirt.VIR_DOMAIN_JOB_CANCELLED, st["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_SAVE)
time.sleep(0.5)
print("events", [(n, e, d) for n, e, d in seen if n == "g"])
`, dir)
	want := []string{
		"params True",
		"managed 1",
		"aborted True True",
		"completed True True",
		// STOPPED/SAVED, STARTED/RESTORED, three times
		"events [('g', 5, 4), ('g', 2, 2), ('g', 5, 4), ('g', 2, 2), ('g', 5, 4), ('g', 2, 2)]",
	}
	for _, w := range want {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("libvirt-python: want %q in:\n%s%s", w, r.Stdout, r.Stderr)
		}
	}
}

// TestSaveFails: a save the hypervisor fails half-way (the simulated
// host's save='fail') leaves the guest running and no image.
func TestSaveFails(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	id := defineStart(t, d, "f", guestXML("f", faults(`save="fail"`)))
	img := filepath.Join(t.TempDir(), "f.save")
	mustFail(t, jobFails(d, "conn.lookupByName('f').save('"+img+"')"), "internal error: Failed to save domain '"+strconv.Itoa(id)+"' with libxenlight")
	if got := d.DomState("f"); got != "running (booted)" || domid(t, d, "f") != id {
		t.Errorf("after the failed save: %q", got)
	}
	if _, err := os.Stat(img); !os.IsNotExist(err) {
		t.Errorf("the failed save left an image: %v", err)
	}
	if got := d.MustVirsh("domjobinfo", "--completed", "f"); !strings.Contains(got, "Failed") {
		t.Errorf("domjobinfo --completed: %s", got)
	}
}
