package drivertests

import (
	"bytes"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// Migration between two simulated hosts (daemontest.StartHosts: two
// daemons in network namespaces of their own, joined by a veth pair) with
// stock virsh and libvirt-python, as libvirt's client drives it: Begin,
// Prepare, Perform, Finish and Confirm.

// hostState is the guest's state on h, "" when h does not have it.
func hostState(h *daemontest.Host, name string) string {
	r := h.Virsh("domstate", "--reason", name)
	if r.Code != 0 {
		return ""
	}
	return strings.TrimSpace(r.Stdout)
}

func TestMigrateLive(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	wa, wb := watchEvents(t, a.Daemon), watchEvents(t, b.Daemon)
	defineStart(t, a.Daemon, "g", guestXML("g", ""))
	time.Sleep(300 * time.Millisecond) // some CPU time to carry over
	cpuBefore := cpuTime(t, a.Daemon, "g")

	// No URI: the destination names itself by its hostname, which the
	// source resolves to its address on the link.
	a.MustVirsh("migrate", "--live", "g", b.URI())
	if got := hostState(b, "g"); got != "running (migrated)" {
		t.Errorf("on the destination: %q", got)
	}
	if got := hostState(a, "g"); got != "shut off (migrated)" {
		t.Errorf("on the source: %q", got)
	}
	if got := b.MustVirsh("dominfo", "g"); !strings.Contains(got, "Persistent:     no") {
		t.Errorf("migrated without --persistent, the guest is transient there:\n%s", got)
	}
	// Each side keeps its completed job, as libvirt's QEMU driver does.
	for h, op := range map[*daemontest.Host]string{a: "Outgoing migration", b: "Incoming migration"} {
		ji := h.MustVirsh("domjobinfo", "--completed", "g")
		if !regexp.MustCompile(`Job type: +Completed`).MatchString(ji) || !regexp.MustCompile(`Operation: +`+op).MatchString(ji) {
			t.Errorf("domjobinfo --completed on the %s side:\n%s", op, ji)
		}
	}
	// The simulated guest's state travels: its CPU time goes on from
	// where it was.
	if after := cpuTime(t, b.Daemon, "g"); cpuBefore == 0 || after < cpuBefore {
		t.Errorf("CPU time %v on the destination, %v before the move", after, cpuBefore)
	}
	wa.exactly(a.Daemon, "g", "DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/MIGRATED", "STOPPED/MIGRATED", "JOB_COMPLETED/MIGRATION_OUT")
	wb.exactly(b.Daemon, "g", "STARTED/MIGRATED", "RESUMED/MIGRATED")

	// Back, persistent there and undefined here, by an explicit URI.
	b.MustVirsh("migrate", "--live", "--persistent", "--undefinesource", "g", a.URI(), "tcp://"+a.Addr)
	if got := hostState(a, "g"); got != "running (migrated)" {
		t.Errorf("back on the source: %q", got)
	}
	if got := hostState(b, "g"); got != "" {
		t.Errorf("the destination keeps the guest: %q", got)
	}
	wa.waitFor("g", 8)
	wa.exactly(a.Daemon, "g", "DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/MIGRATED", "STOPPED/MIGRATED",
		"JOB_COMPLETED/MIGRATION_OUT", "STARTED/MIGRATED", "RESUMED/MIGRATED", "DEFINED/UPDATED")

	// A new name there, paused, persistent, with a definition of the
	// caller's: the source's definition goes.
	xml := strings.Replace(a.MustVirsh("dumpxml", "--migratable", "g"), "</domain>", "<description>moved</description></domain>", 1)
	xmlPath := daemontest.WriteFile(t, t.TempDir(), "g.xml", xml)
	a.MustVirsh("migrate", "--persistent", "--undefinesource", "--suspend", "--dname", "g2", "--xml", xmlPath, "g", b.URI())
	if got := b.MustVirsh("dumpxml", "g2"); !strings.Contains(got, "<description>moved</description>") {
		t.Errorf("--xml: %s", got)
	}
	if got := hostState(b, "g2"); got != "paused (user)" {
		t.Errorf("--suspend --dname g2: %q", got)
	}
	if got := hostState(a, "g"); got != "" {
		t.Errorf("--undefinesource left %q", got)
	}
	if got := b.MustVirsh("dominfo", "g2"); !strings.Contains(got, "Persistent:     yes") {
		t.Errorf("--persistent: %s", got)
	}
}

func TestMigrateAbort(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	defineStart(t, a.Daemon, "g", slowGuest("g"))
	mig, migErr := startMigration(t, a, "--live", "g", b.URI())
	info := waitJob(t, a.Daemon, "g", "Data processed")
	for _, want := range []string{"Job type:         Bounded", "Operation:        Outgoing migration", "Memory remaining:"} {
		if !strings.Contains(info, want) {
			t.Errorf("domjobinfo during the migration lacks %q:\n%s", want, info)
		}
	}
	if got := b.Virsh("domjobinfo", "g").Stdout; !strings.Contains(got, "Operation:        Incoming migration") {
		t.Errorf("domjobinfo on the destination:\n%s", got)
	}
	a.MustVirsh("domjobabort", "g")
	if err := mig.Wait(); err == nil || !strings.Contains(migErr.String(), "operation aborted: job 'migration out' canceled by client") {
		t.Errorf("aborted migration: %v: %s", err, migErr.String())
	}
	if got := hostState(a, "g"); got != "running (booted)" {
		t.Errorf("the source after the abort: %q", got)
	}
	if got := hostState(b, "g"); got != "" {
		t.Errorf("the destination after the abort: %q", got)
	}
	if got := a.MustVirsh("domjobinfo", "--completed", "g"); !strings.Contains(got, "Cancelled") {
		t.Errorf("domjobinfo --completed: %s", got)
	}
	// Ctrl-C on virsh migrate --verbose aborts it too.
	tm := daemontest.StartTerminal(t, "virsh", "-c", a.URI(), "migrate", "--live", "--verbose", "g", b.URI())
	tm.Expect("Migration: [")
	tm.Type("\x03")
	if tm.Wait() == 0 || !strings.Contains(tm.Output(), "canceled by client") {
		t.Errorf("virsh migrate --verbose after Ctrl-C: %s", tm.Output())
	}
	if got := hostState(a, "g"); got != "running (booted)" {
		t.Errorf("the source after Ctrl-C: %q", got)
	}
	// The guest can go afterwards.
	a.MustVirsh("migrate", "--live", "g", b.URI())
	if got := hostState(b, "g"); got != "running (migrated)" {
		t.Errorf("after the abort, migrated: %q", got)
	}
}

// TestMigrateRefused: what the destination or the source refuses, with
// libvirt's errors, the guest running where it was.
func TestMigrateRefused(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	defineStart(t, a.Daemon, "g", guestXML("g", ""))
	// The destination has another domain of that name.
	define(t, b.Daemon, "g", guestXML("g", ""))
	mustFail(t, jobFails(a.Daemon, "conn.lookupByName('g').migrate3(dest, {}, 0)", b.URI()), "already exists with uuid")
	b.MustVirsh("undefine", "g")
	// Flags libvirt's Xen driver does not take.
	mustFail(t, jobFails(a.Daemon, "conn.lookupByName('g').migrate3(dest, {}, libvirt.VIR_MIGRATE_COMPRESSED)", b.URI()), "unsupported flags")
	mustFail(t, jobFails(a.Daemon, "conn.lookupByName('Domain-0').migrate3(dest, {}, 0)", b.URI()), "Domain-0 cannot be migrated")
	// A URI naming an address the destination does not have.
	mustFail(t, jobFails(a.Daemon, "conn.lookupByName('g').migrate3(dest, {libvirt.VIR_MIGRATE_PARAM_URI: 'tcp://10.99.0.77'}, 0)", b.URI()), "Fail to create socket for incoming migration")
	if got := hostState(a, "g"); got != "running (booted)" {
		t.Errorf("source after the refusals: %q", got)
	}
	if got := hostState(b, "g"); got != "" {
		t.Errorf("destination after the refusals: %q", got)
	}
}

// TestMigratePython: libvirt-python's migrate3 with parameters (a
// destination name and XML, the URI) and the completed job's statistics.
func TestMigratePython(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	defineStart(t, a.Daemon, "g", guestXML("g", ""))
	r := a.Python(`
import sys, libvirt
src, dst = libvirt.open(sys.argv[1]), libvirt.open(sys.argv[2])
g = src.lookupByName("g")
xml = g.XMLDesc(libvirt.VIR_DOMAIN_XML_MIGRATABLE).replace("</domain>", "<description>moved</description></domain>")
params = {libvirt.VIR_MIGRATE_PARAM_DEST_NAME: "g-there", libvirt.VIR_MIGRATE_PARAM_DEST_XML: xml,
          libvirt.VIR_MIGRATE_PARAM_URI: "tcp://" + sys.argv[3]}
there = g.migrate3(dst, params, libvirt.VIR_MIGRATE_LIVE | libvirt.VIR_MIGRATE_PERSIST_DEST)
print("there", there.name(), there.isActive(), there.isPersistent(), "moved" in there.XMLDesc(0))
st = g.jobStats(libvirt.VIR_DOMAIN_JOB_STATS_COMPLETED)
print("completed", st["type"] == libvirt.VIR_DOMAIN_JOB_COMPLETED, st["operation"] == libvirt.VIR_DOMAIN_JOB_OPERATION_MIGRATION_OUT)
print("source", g.state()[0] == libvirt.VIR_DOMAIN_SHUTOFF, g.state()[1] == libvirt.VIR_DOMAIN_SHUTOFF_MIGRATED)
try:
    g.migrate3(dst, {libvirt.VIR_MIGRATE_PARAM_LISTEN_ADDRESS: '::'}, 0)
except libvirt.libvirtError as e:
    print("refused", e.get_error_code(), e.get_error_message())
`, b.URI(), b.Addr)
	for _, w := range []string{
		"there g-there 1 1 True",
		"completed True True",
		"source True True",
		"refused 74 argument unsupported: parameter 'listen_address' not supported",
	} {
		if !strings.Contains(r.Stdout, w) {
			t.Errorf("libvirt-python: want %q in:\n%s%s", w, r.Stdout, r.Stderr)
		}
	}
}

// TestMigrateKilled: a daemon killed mid-transfer, source or destination,
// leaves the guest running on the source once both serve again, and
// nothing on the destination.
func TestMigrateKilled(t *testing.T) {
	t.Parallel()
	for _, victim := range []string{"destination", "source"} {
		t.Run(victim, func(t *testing.T) {
			a, b := daemontest.StartHosts(t, "")
			defineStart(t, a.Daemon, "g", slowGuest("g"))
			mig, _ := startMigration(t, a, "--live", "g", b.URI())
			waitJob(t, a.Daemon, "g", "Data processed")
			killed := b
			if victim == "source" {
				killed = a
			}
			killed.Cmd.Process.Kill()
			killed.Wait(bound)
			mig.Wait()
			killed.Start()
			a.WaitState("g", "running (booted)")
			if got := hostState(b, "g"); got != "" {
				t.Errorf("the destination keeps %q", got)
			}
			// And it can go now.
			a.MustVirsh("migrate", "--live", "g", b.URI())
			if got := hostState(b, "g"); got != "running (migrated)" {
				t.Errorf("migrated after the kill: %q", got)
			}
		})
	}
}

// TestMigratePeer2Peer: the source's daemon runs the migration itself,
// connecting to the destination's (--p2p), the data direct or through
// that connection (--tunnelled); its job can be aborted there too.
func TestMigratePeer2Peer(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	wa, wb := watchEvents(t, a.Daemon), watchEvents(t, b.Daemon)
	defineStart(t, a.Daemon, "g", guestXML("g", ""))
	a.MustVirsh("migrate", "--live", "--p2p", "g", b.URI())
	if got := hostState(b, "g"); got != "running (migrated)" {
		t.Errorf("--p2p: %q", got)
	}
	b.MustVirsh("migrate", "--live", "--p2p", "--tunnelled", "--persistent", "g", a.URI())
	if got := hostState(a, "g"); got != "running (migrated)" {
		t.Errorf("--p2p --tunnelled: %q", got)
	}
	wa.waitFor("g", 8)
	wa.exactly(a.Daemon, "g", "DEFINED/ADDED", "STARTED/BOOTED", "SUSPENDED/MIGRATED", "STOPPED/MIGRATED",
		"JOB_COMPLETED/MIGRATION_OUT", "STARTED/MIGRATED", "RESUMED/MIGRATED", "DEFINED/UPDATED")
	wb.exactly(b.Daemon, "g", "STARTED/MIGRATED", "RESUMED/MIGRATED", "SUSPENDED/MIGRATED", "STOPPED/MIGRATED",
		"JOB_COMPLETED/MIGRATION_OUT")

	// A destination that is not there: libvirt's client error, the guest
	// running here.
	mustFail(t, jobFails(a.Daemon, "conn.lookupByName('g').migrateToURI3('xen+unix:///system?socket=/nonexistent', {}, libvirt.VIR_MIGRATE_PEER2PEER)"), "Failed to connect socket to '/nonexistent'")

	// Aborted while its data goes through the tunnel.
	defineStart(t, a.Daemon, "s", slowGuest("s"))
	mig, migErr := startMigration(t, a, "--live", "--p2p", "--tunnelled", "s", b.URI())
	waitJob(t, a.Daemon, "s", "Data processed")
	a.MustVirsh("domjobabort", "s")
	if err := mig.Wait(); err == nil || !strings.Contains(migErr.String(), "canceled by client") {
		t.Errorf("aborted tunnelled migration: %v: %s", err, migErr.String())
	}
	if got := hostState(a, "s"); got != "running (booted)" {
		t.Errorf("the source after the abort: %q", got)
	}
	for deadline := time.Now().Add(bound); hostState(b, "s") != "" && time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
	}
	if got := hostState(b, "s"); got != "" {
		t.Errorf("the destination after the abort: %q", got)
	}
}

// TestMigrateLinkDown: the link between the hosts goes quiet mid-transfer
// (its destination end down, nothing answering); domjobabort still ends
// the migration at once, the guest running on the source, nothing left on
// the destination.
func TestMigrateLinkDown(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	// 8 GiB at 2 GiB/s: 32 MiB of the simulated stream in 4 s, more than
	// the socket buffers take once nothing answers.
	big := strings.Replace(guestXML("g", faults(`save-rate="2048"`)), "128", "8192", 1)
	defineStart(t, a.Daemon, "g", big)
	mig, migErr := startMigration(t, a, "--live", "g", b.URI())
	waitJob(t, a.Daemon, "g", "Data processed")
	b.LinkDown()
	time.Sleep(2 * time.Second) // the send blocks
	a.MustVirsh("domjobabort", "g")
	if err := mig.Wait(); err == nil || !strings.Contains(migErr.String(), "canceled by client") {
		t.Errorf("aborted migration: %v: %s", err, migErr.String())
	}
	if got := hostState(a, "g"); got != "running (booted)" {
		t.Errorf("the source after the abort: %q", got)
	}
	if got := hostState(b, "g"); got != "" {
		t.Errorf("the destination after the abort: %q", got)
	}
}

// startMigration starts virsh migrate on a's guest with args, returning
// the command and what it prints to stderr.
func startMigration(t *testing.T, a *daemontest.Host, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	mig := exec.Command("virsh", append([]string{"-c", a.URI(), "migrate"}, args...)...)
	var stderr bytes.Buffer
	mig.Stderr = &stderr
	if err := mig.Start(); err != nil {
		t.Fatal(err)
	}
	return mig, &stderr
}

// cpuTime is the guest's CPU time in seconds, as domstats reports it.
func cpuTime(t *testing.T, d *daemontest.Daemon, name string) float64 {
	t.Helper()
	// domstats' cpu.time is in nanoseconds, where dominfo rounds to a
	// tenth of a second: a guest at the low point of the simulated load
	// (5% a vCPU) showed "0.0s" after 300 ms of running.
	for _, line := range strings.Split(d.MustVirsh("domstats", "--cpu-total", name), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "cpu.time="); ok {
			ns, err := strconv.ParseUint(v, 10, 64)
			if err != nil {
				t.Fatalf("domstats cpu.time %q: %v", v, err)
			}
			return float64(ns) / 1e9
		}
	}
	t.Fatalf("domstats %s has no cpu.time", name)
	return 0
}

// TestMigrateBandwidth: virsh migrate-setspeed and migrate-getspeed, and
// migrate --bandwidth, directly and through a tunnel, as libvirt's QEMU
// driver offers them (libvirt's Xen driver has none): the guest's data
// goes no faster than asked.
func TestMigrateBandwidth(t *testing.T) {
	t.Parallel()
	a, b := daemontest.StartHosts(t, "")
	// 1 GiB: 4 MiB of the simulated stream, written at once.
	xml := strings.Replace(guestXML("g", faults(`save-rate="100000"`)), "<memory unit='MiB'>128", "<memory unit='MiB'>1024", 1)
	a.MustVirsh("define", daemontest.WriteFile(t, t.TempDir(), "g.xml", xml))
	a.MustVirsh("start", "g")
	if got := strings.TrimSpace(a.MustVirsh("migrate-getspeed", "g")); got != "8796093022207" {
		t.Errorf("migrate-getspeed before any set: %q", got)
	}
	a.MustVirsh("migrate-setspeed", "g", "3")
	if got := strings.TrimSpace(a.MustVirsh("migrate-getspeed", "g")); got != "3" {
		t.Errorf("migrate-getspeed after setting 3: %q", got)
	}
	mustFail(t, a.Virsh("migrate-setspeed", "g", "8796093022208"), "numerical overflow: bandwidth must be less than 8796093022208")
	mustFail(t, a.Virsh("migrate-setspeed", "--postcopy", "g", "1"), "unsupported flags (0x1) in function libxlDomainMigrateSetMaxSpeed")
	mustFail(t, b.Virsh("migrate-setspeed", "g", "1"), "failed to get domain 'g'")

	// At its own speed, and the speed shows while it runs.
	mig, migErr := startMigration(t, a, "--live", "--persistent", "--bandwidth", "2", "g", b.URI())
	start := time.Now()
	for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if got := strings.TrimSpace(a.Virsh("migrate-getspeed", "g").Stdout); got == "2" {
			break
		} else if got != "3" {
			t.Fatalf("migrate-getspeed during the migration: %q", got)
		}
	}
	if err := mig.Wait(); err != nil {
		t.Fatalf("migrate --bandwidth 2: %v: %s", err, migErr)
	}
	least := time.Duration(4<<20-256<<10) * time.Second / (2 << 20)
	if took := time.Since(start); took < least {
		t.Errorf("4 MiB sent at 2 MiB/s in %v, under %v", took, least)
	}
	if got := hostState(b, "g"); got != "running (migrated)" {
		t.Errorf("on the destination: %q", got)
	}
	if got := strings.TrimSpace(a.MustVirsh("migrate-getspeed", "g")); got != "3" {
		t.Errorf("the source's speed after the migration: %q", got)
	}
	// Back through the tunnel, at the destination's set speed.
	b.MustVirsh("migrate-setspeed", "g", "2")
	start = time.Now()
	b.MustVirsh("migrate", "--live", "--p2p", "--tunnelled", "g", a.URI())
	if took := time.Since(start); took < least {
		t.Errorf("4 MiB tunnelled at 2 MiB/s in %v, under %v", took, least)
	}
	if got := hostState(a, "g"); got != "running (migrated)" {
		t.Errorf("back on the source: %q", got)
	}
	// libvirt-python's calls.
	r := a.Daemon.Python("import sys, libvirt\nd = libvirt.open(sys.argv[1]).lookupByName('g')\nd.migrateSetMaxSpeed(9)\nprint(d.migrateGetMaxSpeed())")
	if r.Code != 0 || strings.TrimSpace(r.Stdout) != "9" {
		t.Errorf("libvirt-python: %d %q %s", r.Code, r.Stdout, r.Stderr)
	}
}
