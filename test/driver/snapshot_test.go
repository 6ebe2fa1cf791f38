package drivertests

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// Domain snapshots through virsh on the simulated host, with libvirt's
// QEMU driver's semantics: external disk-only snapshots offline and of a
// running guest, internal snapshots of qcow2 disks, full snapshots with
// the memory state, revert to each, delete with each flag, the undefine
// rules, events, and the metadata surviving a restart and a kill -9.
// The images are real files and qemu-img/qemu-io look at them.

// chain is the image files of path's backing chain, top first.
func chain(t *testing.T, path string) []string {
	t.Helper()
	out, err := exec.Command("qemu-img", "info", "-U", "--output=json", "--backing-chain", path).Output()
	if err != nil {
		t.Fatalf("qemu-img info %s: %v", path, err)
	}
	var infos []struct {
		Filename string `json:"filename"`
	}
	if err := json.Unmarshal(out, &infos); err != nil {
		t.Fatal(err)
	}
	var files []string
	for _, i := range infos {
		files = append(files, filepath.Base(i.Filename))
	}
	return files
}

// diskGuest is a PV guest with one file disk xvda of format at path.
func diskGuest(name, path, format, extra string) string {
	return guestXML(name, `<devices><disk type='file' device='disk'><driver name='qemu' type='`+format+`'/><source file='`+path+`'/><target dev='xvda' bus='xen'/></disk></devices>`+extra)
}

// slowDiskGuest is slowGuest with the qcow2 disk at path: its memory takes
// 16 s to save, time to watch and abort a snapshot's job.
func slowDiskGuest(name, path string) string {
	return strings.Replace(diskGuest(name, path, "qcow2", faults(`save-rate="16"`)), "128", "256", 1)
}

// blk is the source virsh domblklist names for xvda.
func blk(t *testing.T, d *daemontest.Daemon, name string, inactive bool) string {
	t.Helper()
	args := []string{"domblklist", name}
	if inactive {
		args = append(args, "--inactive")
	}
	for _, l := range strings.Split(d.MustVirsh(args...), "\n") {
		if f := strings.Fields(l); len(f) == 2 && f[0] == "xvda" {
			return f[1]
		}
	}
	t.Fatalf("domblklist %s has no xvda", name)
	return ""
}

func TestSnapshotDiskOnlyOffline(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	base := daemontest.Image(t, dir, "base.img", "raw", 0x11)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "g", diskGuest("g", base, "raw", ""))

	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only", "--description", "first")
	s1 := blk(t, d, "g", false)
	if s1 != filepath.Join(dir, "base.s1") {
		t.Fatalf("after s1 xvda is %s", s1)
	}
	if c := chain(t, s1); strings.Join(c, " ") != "base.s1 base.img" {
		t.Errorf("chain after s1: %v", c)
	}
	if i := d.SnapshotInfo("g", "s1"); i["State"] != "shutoff" || i["Location"] != "external" || i["Current"] != "yes" || i["Parent"] != "-" {
		t.Errorf("snapshot-info s1: %v", i)
	}
	daemontest.WriteBlock(t, s1, 1, 0x22)
	d.MustVirsh("snapshot-create-as", "g", "s2", "--disk-only")
	s2 := blk(t, d, "g", false)
	if c := chain(t, s2); strings.Join(c, " ") != "base.s2 base.s1 base.img" {
		t.Errorf("chain after s2: %v", c)
	}
	if tree := d.MustVirsh("snapshot-list", "g", "--tree"); !strings.Contains(tree, "s1") || !strings.Contains(tree, "+- s2") {
		t.Errorf("snapshot-list --tree:\n%s", tree)
	}
	if p := strings.TrimSpace(d.MustVirsh("snapshot-parent", "g", "s2")); p != "s1" {
		t.Errorf("snapshot-parent s2: %q", p)
	}
	if x := d.MustVirsh("snapshot-dumpxml", "g", "s1"); !strings.Contains(x, "<description>first</description>") ||
		!strings.Contains(x, "<disk name='xvda' snapshot='external' type='file'>") || !strings.Contains(x, "<source file='"+base+"'/>") {
		t.Errorf("snapshot-dumpxml s1:\n%s", x)
	}

	// Revert to s1: a new overlay on base.img, without what was written
	// after s1; to s2: one on base.s1, with it.
	d.MustVirsh("snapshot-revert", "g", "s1")
	now := blk(t, d, "g", false)
	if c := chain(t, now); len(c) != 2 || c[1] != "base.img" {
		t.Errorf("chain after revert to s1: %v", c)
	}
	if !daemontest.HoldsBlock(t, now, 0, 0x11) || daemontest.HoldsBlock(t, now, 1, 0x22) {
		t.Errorf("after revert to s1 the disk is not s1's")
	}
	if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "g", "--name")); cur != "s1" {
		t.Errorf("current after revert: %q", cur)
	}
	d.MustVirsh("snapshot-revert", "g", "s2")
	now = blk(t, d, "g", false)
	if !daemontest.HoldsBlock(t, now, 1, 0x22) {
		t.Errorf("after revert to s2 the disk lacks what s1 had written")
	}

	// Deleting the current leaf merges its overlay back into its backing
	// file, which the domain uses again.
	daemontest.WriteBlock(t, now, 2, 0x33)
	d.MustVirsh("snapshot-delete", "g", "s2")
	if got := blk(t, d, "g", false); got != s1 {
		t.Errorf("after deleting s2 xvda is %s, want %s", got, s1)
	}
	if !daemontest.HoldsBlock(t, s1, 2, 0x33) {
		t.Errorf("deleting s2 lost what was written after it")
	}
	if _, err := os.Stat(now); !os.IsNotExist(err) {
		t.Errorf("the merged overlay %s is still there: %v", now, err)
	}
	if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "g", "--name")); cur != "s1" {
		t.Errorf("current after deleting s2: %q", cur)
	}

	// undefine keeps a domain with snapshots unless told to drop their
	// metadata.
	mustFail(t, d.Virsh("undefine", "g"), "cannot delete inactive domain with 1 snapshots")
	d.MustVirsh("undefine", "g", "--snapshots-metadata")
	if _, err := os.Stat(filepath.Join(d.Root, "var/lib/libvirt/libxl/snapshot/g")); !os.IsNotExist(err) {
		t.Errorf("snapshot metadata left after undefine: %v", err)
	}
}

func TestSnapshotInternalOffline(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0x11)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	define(t, d, "g", diskGuest("g", disk, "qcow2", ""))

	// virt-manager's snapshot: a name and a description, nothing else.
	x := daemontest.WriteFile(t, dir, "s.xml", "<domainsnapshot><name>i1</name><description>clean</description></domainsnapshot>")
	d.MustVirsh("snapshot-create", "g", x)
	if l := daemontest.InternalSnapshots(t, disk); !strings.Contains(l, "i1") {
		t.Errorf("qemu-img snapshot -l after i1:\n%s", l)
	}
	if i := d.SnapshotInfo("g", "i1"); i["Location"] != "internal" || i["State"] != "shutoff" {
		t.Errorf("snapshot-info i1: %v", i)
	}
	daemontest.WriteBlock(t, disk, 0, 0x22)
	d.MustVirsh("snapshot-create-as", "g", "i2")
	d.MustVirsh("snapshot-revert", "g", "i1")
	if !daemontest.HoldsBlock(t, disk, 0, 0x11) {
		t.Errorf("after revert to i1 the disk is not i1's")
	}
	// libvirt boots a shut-off snapshot's domain: running (booted), with
	// the event STARTED/FROM_SNAPSHOT.
	d.MustVirsh("snapshot-revert", "g", "i2", "--running")
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("after revert --running: %q", got)
	}
	d.MustVirsh("destroy", "g")

	// --children-only drops i2 (i1's child), --metadata keeps the image's.
	d.MustVirsh("snapshot-delete", "g", "i1", "--children-only")
	if l := daemontest.InternalSnapshots(t, disk); strings.Contains(l, "i2") || !strings.Contains(l, "i1") {
		t.Errorf("after --children-only:\n%s", l)
	}
	d.MustVirsh("snapshot-delete", "g", "i1", "--metadata")
	if l := daemontest.InternalSnapshots(t, disk); !strings.Contains(l, "i1") {
		t.Errorf("--metadata removed the image's snapshot:\n%s", l)
	}
	if n := strings.TrimSpace(d.MustVirsh("snapshot-list", "g", "--name")); n != "" {
		t.Errorf("snapshots left: %q", n)
	}
	w.exactly(d, "g", "DEFINED/ADDED", "DEFINED/FROM_SNAPSHOT", // revert i1
		"STARTED/FROM_SNAPSHOT", "DEFINED/FROM_SNAPSHOT", // revert i2 --running
		"STOPPED/DESTROYED")
}

func TestSnapshotRunning(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0x11)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "g", diskGuest("g", disk, "qcow2", ""))

	mustFail(t, d.Virsh("snapshot-create-as", "g", "q", "--disk-only", "--quiesce"), "QEMU guest agent is not configured")

	// Disk-only of the running guest: it switches to the overlay live.
	d.MustVirsh("snapshot-create-as", "g", "d1", "--disk-only")
	over := blk(t, d, "g", false)
	if c := chain(t, over); strings.Join(c, " ") != "disk.d1 disk.qcow2" {
		t.Errorf("chain after a live disk-only snapshot: %v", c)
	}
	if got := d.DomState("g"); got != "running (booted)" {
		t.Errorf("after a live disk-only snapshot: %q", got)
	}
	if i := d.SnapshotInfo("g", "d1"); i["State"] != "disk-snapshot" {
		t.Errorf("snapshot-info d1: %v", i)
	}
	// A guest with snapshots stays on its host, as libvirt's QEMU driver
	// keeps it: the source refuses at Begin, before any destination acts.
	self := "xen+unix:///system?socket=" + filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
	// (through libvirt-python: a failing virsh migrate can hang, jobFails)
	mustFail(t, jobFails(d, "conn.lookupByName('g').migrate3(dest, {}, libvirt.VIR_MIGRATE_LIVE)", self), "cannot migrate domain with 1 snapshots")

	// A full snapshot with the memory in a file of the caller's.
	mem := filepath.Join(dir, "f1.mem")
	d.MustVirsh("snapshot-create-as", "g", "f1", "--memspec", "file="+mem+",snapshot=external")
	if _, err := os.Stat(mem); err != nil {
		t.Fatalf("memory state: %v", err)
	}
	if i := d.SnapshotInfo("g", "f1"); i["State"] != "running" || i["Location"] != "external" {
		t.Errorf("snapshot-info f1: %v", i)
	}
	daemontest.WriteBlock(t, blk(t, d, "g", false), 1, 0x22)
	atSnapshot := cpuTime(t, d, "g")
	before := atSnapshot
	// A gap of 2 s of guest CPU time: the revert and the read after it
	// take less, even on a loaded machine.
	for deadline := time.Now().Add(bound); before < atSnapshot+2 && time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		before = cpuTime(t, d, "g")
	}

	// Revert to the full snapshot: the guest runs again from its memory,
	// its counters where they were, on a disk without what was written
	// after it.
	d.MustVirsh("snapshot-revert", "g", "f1")
	if got := d.DomState("g"); got != "running (from snapshot)" {
		t.Errorf("after revert to f1: %q", got)
	}
	if after := cpuTime(t, d, "g"); after >= before {
		t.Errorf("CPU time after the revert %.2f s, before it %.2f s, at the snapshot %.2f s", after, before, atSnapshot)
	}
	if daemontest.HoldsBlock(t, blk(t, d, "g", false), 1, 0x22) {
		t.Errorf("after revert to f1 the disk keeps a later write")
	}
	// The next boot writes the new overlay too, never the frozen image.
	if live, persistent := blk(t, d, "g", false), blk(t, d, "g", true); live != persistent {
		t.Errorf("after revert to f1 the guest runs on %s, its next boot would use %s", live, persistent)
	}
	d.MustVirsh("snapshot-revert", "g", "d1")
	if got := d.DomState("g"); got != "shut off (from snapshot)" {
		t.Errorf("after revert to the disk-only d1: %q", got)
	}
	d.MustVirsh("snapshot-revert", "g", "f1", "--paused")
	if got := d.DomState("g"); got != "paused (from snapshot)" {
		t.Errorf("after revert --paused: %q", got)
	}

	// --halt leaves the guest shut off once the snapshot is taken.
	d.MustVirsh("resume", "g")
	// --live writes the memory while the guest runs, as a migration does.
	d.MustVirsh("snapshot-create-as", "g", "l1", "--live", "--memspec", "file="+filepath.Join(dir, "l1.mem"))
	if i := d.SnapshotInfo("g", "l1"); i["State"] != "running" {
		t.Errorf("snapshot-info l1: %v", i)
	}
	if got := d.DomState("g"); got != "running (unpaused)" {
		t.Errorf("after --live: %q", got)
	}
	d.MustVirsh("snapshot-create-as", "g", "h1", "--memspec", "file="+filepath.Join(dir, "h1.mem"), "--halt")
	if got := d.DomState("g"); got != "shut off (from snapshot)" {
		t.Errorf("after --halt: %q", got)
	}
	// A snapshot whose memory goes to a file is announced once it is
	// written, as libvirt's QEMU driver announces it.
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED",
		"JOB_COMPLETED/SNAPSHOT",                                                  // f1
		"STOPPED/FROM_SNAPSHOT", "STARTED/FROM_SNAPSHOT", "DEFINED/FROM_SNAPSHOT", // revert f1
		"STOPPED/FROM_SNAPSHOT", "DEFINED/FROM_SNAPSHOT", // revert d1
		"STARTED/FROM_SNAPSHOT", "SUSPENDED/FROM_SNAPSHOT", "DEFINED/FROM_SNAPSHOT", // revert f1 --paused
		"RESUMED/UNPAUSED", "JOB_COMPLETED/SNAPSHOT", // resume, l1
		"JOB_COMPLETED/SNAPSHOT", "STOPPED/FROM_SNAPSHOT") // h1 --halt
}

func TestSnapshotRunningInternal(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0x11)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	defineStart(t, d, "g", diskGuest("g", disk, "qcow2", ""))

	// What virt-manager asks of a running guest: an internal snapshot
	// with its memory. The disks keep their files.
	d.MustVirsh("snapshot-create-as", "g", "r1")
	if got := blk(t, d, "g", false); got != disk {
		t.Errorf("an internal snapshot changed the disk to %s", got)
	}
	if l := daemontest.InternalSnapshots(t, disk); !strings.Contains(l, "r1") {
		t.Errorf("qemu-img snapshot -l after r1:\n%s", l)
	}
	if i := d.SnapshotInfo("g", "r1"); i["State"] != "running" || i["Location"] != "internal" {
		t.Errorf("snapshot-info r1: %v", i)
	}
	d.MustVirsh("destroy", "g")
	daemontest.WriteBlock(t, disk, 0, 0x22)
	d.MustVirsh("snapshot-revert", "g", "r1")
	if got := d.DomState("g"); got != "running (from snapshot)" {
		t.Errorf("after revert to r1: %q", got)
	}
	d.MustVirsh("destroy", "g")
	if !daemontest.HoldsBlock(t, disk, 0, 0x11) {
		t.Errorf("after revert to r1 the disk is not r1's")
	}
	d.MustVirsh("snapshot-delete", "g", "r1")
	if l := daemontest.InternalSnapshots(t, disk); strings.Contains(l, "r1") {
		t.Errorf("r1 is still in the image:\n%s", l)
	}
	// No JOB_COMPLETED: QEMU's internal snapshot (savevm) has none.
	w.exactly(d, "g", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/DESTROYED",
		"STARTED/FROM_SNAPSHOT", "DEFINED/FROM_SNAPSHOT", "STOPPED/DESTROYED")
}

func TestSnapshotRestart(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0x11)
	root := daemontest.NewRoot(t)
	d := daemontest.Start(t, root)
	define(t, d, "g", diskGuest("g", disk, "qcow2", ""))
	d.MustVirsh("snapshot-create-as", "g", "a")
	d.MustVirsh("snapshot-create-as", "g", "b")
	d.MustVirsh("snapshot-revert", "g", "a")
	d.MustVirsh("snapshot-create-as", "g", "c")
	d.Stop()

	d = daemontest.Start(t, root)
	if tree := d.MustVirsh("snapshot-list", "g", "--tree"); !strings.Contains(tree, "+- b") || !strings.Contains(tree, "+- c") {
		t.Errorf("tree after a restart:\n%s", tree)
	}
	if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "g", "--name")); cur != "c" {
		t.Errorf("current after a restart: %q", cur)
	}

	// A kill -9 while a full snapshot's memory is being written: the
	// next start has the snapshots it had, the guest running, and no
	// half-made snapshot.
	defineStart(t, d, "s", slowDiskGuest("s", daemontest.Image(t, dir, "s.qcow2", "qcow2", 0)))
	go d.Virsh("snapshot-create-as", "s", "m", "--memspec", "file="+filepath.Join(dir, "m.mem"))
	waitJob(t, d, "s", "Data processed")
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	d = daemontest.Start(t, root)
	if n := strings.TrimSpace(d.MustVirsh("snapshot-list", "s", "--name")); n != "" {
		t.Errorf("a snapshot cut by a kill is listed: %q", n)
	}
	if got := d.DomState("s"); !strings.HasPrefix(got, "running") {
		t.Errorf("guest after a kill mid-snapshot: %q", got)
	}
	if n := strings.Fields(d.MustVirsh("snapshot-list", "g", "--name")); len(n) != 3 {
		t.Errorf("g's snapshots after the kill: %v", n)
	}
}

// TestSnapshotAbort: a full snapshot's memory is written as a job with
// progress that domjobabort cancels: no snapshot, no memory file, the
// guest running on its own disk.
func TestSnapshotAbort(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	defineStart(t, d, "s", slowDiskGuest("s", disk))
	mem := filepath.Join(dir, "m.mem")
	done := make(chan daemontest.Result, 1)
	go func() { done <- d.Virsh("snapshot-create-as", "s", "m", "--memspec", "file="+mem) }()
	if info := waitJob(t, d, "s", "Data processed"); !strings.Contains(info, "Snapshot") {
		t.Errorf("domjobinfo during a snapshot:\n%s", info)
	}
	d.MustVirsh("domjobabort", "s")
	mustFail(t, <-done, "canceled by client")
	if n := strings.TrimSpace(d.MustVirsh("snapshot-list", "s", "--name")); n != "" {
		t.Errorf("an aborted snapshot is listed: %q", n)
	}
	if _, err := os.Stat(mem); !os.IsNotExist(err) {
		t.Errorf("the aborted snapshot's memory file: %v", err)
	}
	if got := d.DomState("s"); !strings.HasPrefix(got, "running") {
		t.Errorf("after the abort: %q", got)
	}
	if got := blk(t, d, "s", false); got != disk {
		t.Errorf("after the abort the disk is %s", got)
	}
}

// TestSnapshotListAndErrors: the list filters, redefine, --no-metadata,
// and libvirt's errors for what cannot be done.
func TestSnapshotListAndErrors(t *testing.T) {
	t.Parallel()
	daemontest.NeedQemuImg(t)
	dir := t.TempDir()
	disk := daemontest.Image(t, dir, "disk.qcow2", "qcow2", 0)
	raw := daemontest.Image(t, dir, "raw.img", "raw", 0)
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "g", diskGuest("g", disk, "qcow2", ""))
	define(t, d, "r", diskGuest("r", raw, "raw", ""))

	mustFail(t, d.Virsh("snapshot-create-as", "r", "x"), "internal snapshot for disk xvda unsupported for storage type raw")
	mustFail(t, d.Virsh("snapshot-create-as", "g", "a/b"), "invalid snapshot name 'a/b': name can't contain '/'")
	mustFail(t, d.Virsh("snapshot-current", "g"), "domain 'g' has no current snapshot")
	mustFail(t, d.Virsh("snapshot-info", "g", "nope"), "no domain snapshot with matching name 'nope'")

	d.MustVirsh("snapshot-create-as", "g", "i1")
	d.MustVirsh("snapshot-create-as", "g", "i2")
	mustFail(t, d.Virsh("snapshot-create-as", "g", "i2"), "already exists")
	d.MustVirsh("snapshot-revert", "g", "i1")
	d.MustVirsh("snapshot-create-as", "g", "i3")
	d.MustVirsh("snapshot-create-as", "g", "e1", "--disk-only")
	// virsh list's snapshot filter (virDomainObjListFilter) sees them.
	if got := strings.Fields(d.MustVirsh("list", "--inactive", "--with-snapshot", "--name")); len(got) != 1 || got[0] != "g" {
		t.Errorf("list --with-snapshot: %v", got)
	}
	if got := strings.Fields(d.MustVirsh("list", "--inactive", "--without-snapshot", "--name")); len(got) != 1 || got[0] != "r" {
		t.Errorf("list --without-snapshot: %v", got)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--roots"}, "i1"},
		{[]string{"--leaves"}, "e1 i2"},
		{[]string{"--no-leaves"}, "i1 i3"},
		{[]string{"--internal"}, "i1 i2 i3"},
		{[]string{"--external"}, "e1"},
		{[]string{"--inactive"}, "e1 i1 i2 i3"},
		{[]string{"--active"}, ""},
		{[]string{"--from", "i1"}, "i2 i3"},
		{[]string{"--from", "i1", "--descendants"}, "e1 i2 i3"},
		{[]string{"--topological"}, ""},
	} {
		out := strings.Fields(d.MustVirsh(append([]string{"snapshot-list", "g", "--name"}, c.args...)...))
		if c.args[0] == "--topological" {
			if len(out) != 4 || out[0] != "i1" {
				t.Errorf("snapshot-list --topological: %v", out)
			}
			continue
		}
		sortStrings(out)
		if got := strings.Join(out, " "); got != c.want {
			t.Errorf("snapshot-list %v: %q, want %q", c.args, got, c.want)
		}
	}

	// Redefine: the metadata of i2, deleted with --metadata, comes back
	// from its XML, and --current makes it current.
	x := daemontest.WriteFile(t, dir, "i2.xml", d.MustVirsh("snapshot-dumpxml", "g", "i2", "--security-info"))
	d.MustVirsh("snapshot-delete", "g", "i2", "--metadata")
	d.MustVirsh("snapshot-create", "g", x, "--redefine", "--current")
	if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "g", "--name")); cur != "i2" {
		t.Errorf("current after a redefine --current: %q", cur)
	}
	if p := strings.TrimSpace(d.MustVirsh("snapshot-parent", "g", "i2")); p != "i1" {
		t.Errorf("redefined i2's parent: %q", p)
	}

	// --children takes a snapshot's whole subtree, images and all.
	d.MustVirsh("snapshot-delete", "g", "i2", "--children")
	if l := daemontest.InternalSnapshots(t, disk); strings.Contains(l, "i2") {
		t.Errorf("i2 left in the image by --children:\n%s", l)
	}
	if n := strings.Fields(d.MustVirsh("snapshot-list", "g", "--name")); len(n) != 3 {
		t.Errorf("after deleting i2 with its children: %v", n)
	}

	// A snapshot without memory state over a managed save image is a
	// risky revert, done only with --force.
	d.MustVirsh("start", "g")
	d.MustVirsh("managedsave", "g")
	mustFail(t, d.Virsh("snapshot-revert", "g", "i1"), "removal of existing managed saved state strongly recommended")
	d.MustVirsh("snapshot-revert", "g", "i1", "--force")
	d.MustVirsh("managedsave-remove", "g")

	// --no-metadata: the image has it, the domain does not list it.
	d.MustVirsh("snapshot-revert", "g", "i1")
	d.MustVirsh("snapshot-create-as", "g", "ghost", "--no-metadata")
	if l := daemontest.InternalSnapshots(t, disk); !strings.Contains(l, "ghost") {
		t.Errorf("--no-metadata snapshot not in the image:\n%s", l)
	}
	if n := d.MustVirsh("snapshot-list", "g", "--name"); strings.Contains(n, "ghost") {
		t.Errorf("--no-metadata snapshot listed")
	}
}

func sortStrings(s []string) {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
}

// TestSnapshotMetadataOfRemovedDomain: a domain's snapshot metadata goes
// with it, directory and all (an undefine with --snapshots-metadata, and
// one after every snapshot was deleted), and a start removes the
// directory a removal cut short left (here: the config gone, the
// metadata not), which would otherwise become the snapshots of the next
// domain given the name.
func TestSnapshotMetadataOfRemovedDomain(t *testing.T) {
	t.Parallel()
	root := daemontest.NewRoot(t)
	snapDir := func(dom string) string { return filepath.Join(root, "var/lib/libvirt/libxl/snapshot", dom) }
	d := daemontest.Start(t, root)
	redefine := func(dom, snap string) {
		uuid := strings.TrimSpace(d.MustVirsh("domuuid", dom))
		x := `<domainsnapshot><name>` + snap + `</name><state>shutoff</state><creationTime>1700000000</creationTime>` +
			strings.Replace(guestXML(dom, ""), "<memory", "<uuid>"+uuid+"</uuid><memory", 1) + `</domainsnapshot>`
		d.MustVirsh("snapshot-create", dom, daemontest.WriteFile(t, t.TempDir(), snap+".xml", x), "--redefine", "--current")
	}
	gone := func(dom string) {
		t.Helper()
		if _, err := os.Stat(snapDir(dom)); !os.IsNotExist(err) {
			t.Errorf("the snapshot directory of %s: %v", dom, err)
		}
	}

	define(t, d, "g", guestXML("g", ""))
	redefine("g", "a")
	mustFail(t, d.Virsh("undefine", "g"), "cannot delete inactive domain with 1 snapshots")
	d.MustVirsh("undefine", "g", "--snapshots-metadata")
	gone("g")

	define(t, d, "g", guestXML("g", ""))
	redefine("g", "a")
	d.MustVirsh("snapshot-delete", "g", "a")
	d.MustVirsh("undefine", "g")
	gone("g")

	define(t, d, "h", guestXML("h", ""))
	redefine("h", "a")
	d.Stop()
	if err := os.Remove(filepath.Join(root, "etc/libvirt/libxl/h.xml")); err != nil {
		t.Fatal(err)
	}
	d = daemontest.Start(t, root)
	gone("h")
	define(t, d, "h", guestXML("h", ""))
	if n := strings.TrimSpace(d.MustVirsh("snapshot-list", "h", "--name")); n != "" {
		t.Errorf("a new h has the snapshots of the one before: %q", n)
	}
}
