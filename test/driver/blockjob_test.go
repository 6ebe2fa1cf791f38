package drivertests

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestVirshBlockcommit: virsh blockcommit, which libvirt's Xen driver does
// not serve, as libvirt's QEMU driver serves it, on a running guest's
// qcow2 disk: the backup routine (a disk-only snapshot without metadata,
// then an active commit with --pivot) brings the disk back to its base
// with what was written meanwhile, with READY and COMPLETED events and
// the mirror shown while it waits; a commit below the disk's own image
// (--top) finishes by itself and --delete removes what it merged; an
// active commit aborted leaves the disk on its overlay; what libvirt
// refuses is refused; the read-only socket reads the job but does not
// change it.
func TestVirshBlockcommit(t *testing.T) {
	t.Parallel()
	d, base := diskGuestRunning(t)
	events := virshEvents(t, d)

	// the backup routine
	d.MustVirsh("snapshot-create-as", "g", "backup", "--disk-only", "--no-metadata")
	ov := blk(t, d, "g", false)
	daemontest.WriteBlock(t, ov, 1, 0x22)
	virshFails(t, d, "error: invalid argument: commit of 'xvda' active layer requires active flag", "blockcommit", "g", "xvda")
	r := daemontest.Run(t, "virsh", "-c", d.URI(), "blockcommit", "g", "xvda", "--active", "--pivot", "--wait", "--verbose")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Successfully pivoted") || !strings.Contains(r.Stderr, "Block commit: [100 %]") {
		t.Errorf("blockcommit --active --pivot: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	events.Expect("event 'block-job' for domain 'g': Active Block Commit for " + ov + " ready")
	events.Expect("event 'block-job-2' for domain 'g': Active Block Commit for xvda ready")
	events.Expect("event 'block-job' for domain 'g': Active Block Commit for " + base + " completed")
	for _, inactive := range []bool{false, true} {
		if got := blk(t, d, "g", inactive); got != base {
			t.Errorf("after the pivot xvda is %s (inactive %v), want %s", got, inactive, base)
		}
	}
	if !daemontest.HoldsBlock(t, base, 1, 0x22) {
		t.Errorf("the base lacks what was written into the overlay")
	}
	if disks := guestConfig(t, d, "g").Disks; len(disks) != 1 || disks[0].PdevPath != base {
		t.Errorf("the simulated host's disk after the pivot: %+v", disks)
	}
	if r := daemontest.Run(t, "virsh", "-c", d.URI(), "blockjob", "g", "xvda", "--info"); !strings.Contains(r.Stdout, "No current block job for xvda") {
		t.Errorf("blockjob --info after the pivot: %q %q", r.Stdout, r.Stderr)
	}

	// below the disk's own image: done by itself; --delete
	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only", "--no-metadata")
	s1 := blk(t, d, "g", false)
	daemontest.WriteBlock(t, s1, 2, 0x33)
	d.MustVirsh("snapshot-create-as", "g", "s2", "--disk-only", "--no-metadata")
	s2 := blk(t, d, "g", false)
	virshFails(t, d, "error: invalid argument: active commit requested but '"+s1+"' is not active",
		"blockcommit", "g", "xvda", "--top", s1, "--active")
	d.MustVirsh("blockcommit", "g", "xvda", "--top", "xvda[1]", "--base", base, "--delete", "--wait")
	if c := chain(t, s2); len(c) != 2 || c[1] != "base.qcow2" {
		t.Errorf("chain after committing s1: %v", c)
	}
	if _, err := os.Stat(s1); !os.IsNotExist(err) {
		t.Errorf("--delete left %s: %v", s1, err)
	}
	if !daemontest.HoldsBlock(t, base, 2, 0x33) {
		t.Errorf("the base lacks s1's data")
	}

	// an active commit left ready, shown, then aborted
	d.MustVirsh("blockcommit", "g", "xvda", "--active")
	events.Expect("event 'block-job' for domain 'g': Active Block Commit for " + s2 + " ready")
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<mirror type='file' job='active-commit' ready='yes'>") {
		t.Errorf("live XML of a ready active commit:\n%s", live)
	}
	ro := daemontest.Run(t, "virsh", "-c", d.ROURI(), "blockjob", "g", "xvda", "--info")
	if ro.Code != 0 || !strings.Contains(ro.Stderr, "Active Block Commit: [100 %]") {
		t.Errorf("read-only blockjob --info: %d %q %q", ro.Code, ro.Stdout, ro.Stderr)
	}
	ro = daemontest.Run(t, "virsh", "-c", d.ROURI(), "blockjob", "g", "xvda", "--abort")
	if ro.Code == 0 || !strings.Contains(ro.Stderr, "read only access prevents virDomainBlockJobAbort") {
		t.Errorf("read-only abort: %d %q", ro.Code, ro.Stderr)
	}
	virshFails(t, d, "error: Requested operation is not valid: domain has active block job", "snapshot-create-as", "g", "s3", "--disk-only")
	virshFails(t, d, "error: block copy still active: disk 'xvda' already in active block job", "blockcommit", "g", "xvda", "--active")
	d.MustVirsh("blockjob", "g", "xvda", "--abort")
	events.Expect("event 'block-job' for domain 'g': Active Block Commit for " + s2 + " canceled")
	if got := blk(t, d, "g", false); got != s2 {
		t.Errorf("after the abort xvda is %s, want %s", got, s2)
	}
	if live := d.MustVirsh("dumpxml", "g"); strings.Contains(live, "<mirror") {
		t.Errorf("the mirror outlived the job:\n%s", live)
	}
}

// TestBlockcommitAcrossRestart: an active commit left ready when the daemon
// stops is followed again by the next one (the mirror in the status
// file), and pivots.
func TestBlockcommitAcrossRestart(t *testing.T) {
	t.Parallel()
	d, base, root := diskGuestInRoot(t)
	d.MustVirsh("snapshot-create-as", "g", "backup", "--disk-only", "--no-metadata")
	d.MustVirsh("blockcommit", "g", "xvda", "--active")
	for deadline := time.Now().Add(30 * time.Second); !strings.Contains(d.MustVirsh("dumpxml", "g"), "ready='yes'"); time.Sleep(100 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the commit never became ready:\n%s", d.MustVirsh("dumpxml", "g"))
		}
	}
	d.Stop()
	d = daemontest.Start(t, root)
	r := daemontest.Run(t, "virsh", "-c", d.URI(), "blockjob", "g", "xvda", "--info")
	if !strings.Contains(r.Stderr, "Active Block Commit: [100 %]") {
		t.Errorf("blockjob --info after a restart: %q %q", r.Stdout, r.Stderr)
	}
	d.MustVirsh("blockjob", "g", "xvda", "--pivot")
	if got := blk(t, d, "g", false); got != base {
		t.Errorf("after the pivot xvda is %s, want %s", got, base)
	}
}

// TestBlockJobsAcrossRestart: a commit below the disk's own image with
// --delete, and a pull, each running when the daemon stops (held by a speed
// of 1 byte a second, which the simulated host never gets past), are
// followed again by the next daemon from the status file: blockjob --info
// shows them, and once their speed is lifted they end as they would have,
// the committed image deleted, with their events.
func TestBlockJobsAcrossRestart(t *testing.T) {
	t.Parallel()
	d, base, root := diskGuestInRoot(t)
	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only", "--no-metadata")
	mid := blk(t, d, "g", false)
	daemontest.WriteBlock(t, mid, 1, 0x22)
	d.MustVirsh("snapshot-create-as", "g", "s2", "--disk-only", "--no-metadata")
	top := blk(t, d, "g", false)
	d.MustVirsh("blockcommit", "g", "xvda", "--top", mid, "--base", base, "--delete", "--bandwidth", "1", "--bytes")
	d.Stop()

	d = daemontest.Start(t, root)
	events := virshEvents(t, d)
	r := daemontest.Run(t, "virsh", "-c", d.URI(), "blockjob", "g", "xvda", "--info")
	if !strings.Contains(r.Stderr+r.Stdout, "Block Commit: [  0 %]") {
		t.Errorf("blockjob --info after a restart: %q %q", r.Stdout, r.Stderr)
	}
	d.MustVirsh("blockjob", "g", "xvda", "--bandwidth", "0")
	events.Expect("event 'block-job-2' for domain 'g': Block Commit for xvda completed")
	if c := chain(t, top); len(c) != 2 || c[1] != "base.qcow2" || !daemontest.HoldsBlock(t, base, 1, 0x22) {
		t.Errorf("after the commit: chain %v", c)
	}
	if _, err := os.Stat(mid); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("the committed image %s is still there (%v)", mid, err)
	}

	d.MustVirsh("blockpull", "g", "xvda", "--bandwidth", "1", "--bytes")
	d.Stop()
	d = daemontest.Start(t, root)
	events = virshEvents(t, d)
	d.MustVirsh("blockjob", "g", "xvda", "--bandwidth", "0")
	events.Expect("event 'block-job-2' for domain 'g': Block Pull for xvda completed")
	if c := chain(t, top); len(c) != 1 || !daemontest.HoldsBlock(t, top, 1, 0x22) {
		t.Errorf("after the pull: chain %v", c)
	}
	if out := d.MustVirsh("blockjob", "g", "xvda", "--info"); strings.TrimSpace(out) != "" {
		t.Errorf("a job is left: %q", out)
	}
}

// TestVirshBlockpull: virsh blockpull of a running guest's disk, which
// libvirt's Xen driver does not serve: with --base the images above the
// base give their data to the disk's image, which then reads the base;
// without, the whole chain, and the image stands alone; PULL events.
func TestVirshBlockpull(t *testing.T) {
	t.Parallel()
	d, base := diskGuestRunning(t)
	events := virshEvents(t, d)
	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only", "--no-metadata")
	daemontest.WriteBlock(t, blk(t, d, "g", false), 1, 0x22)
	d.MustVirsh("snapshot-create-as", "g", "s2", "--disk-only", "--no-metadata")
	top := blk(t, d, "g", false)
	d.MustVirsh("blockpull", "g", "xvda", "--base", base, "--wait")
	events.Expect("event 'block-job-2' for domain 'g': Block Pull for xvda completed")
	if c := chain(t, top); len(c) != 2 || c[1] != "base.qcow2" || !daemontest.HoldsBlock(t, top, 1, 0x22) {
		t.Errorf("after blockpull --base: chain %v", c)
	}
	d.MustVirsh("blockpull", "g", "xvda", "--wait")
	if c := chain(t, top); len(c) != 1 || !daemontest.HoldsBlock(t, top, 0, 0x11) {
		t.Errorf("after blockpull: chain %v", c)
	}
}

// TestVirshBlockcopy: virsh blockcopy, which libvirt's Xen driver does not
// serve, as libvirt's QEMU driver serves it: refused on a persistent domain
// without --transient-job; with it, the copy mirrors the disk, shows
// <mirror job='copy'>, and --pivot moves the disk onto the copy, which
// holds its data; a shallow copy keeps the image below as its backing; an
// aborted copy leaves the disk where it was.
func TestVirshBlockcopy(t *testing.T) {
	t.Parallel()
	d, base := diskGuestRunning(t)
	dir := filepath.Dir(base)
	events := virshEvents(t, d)
	dst := dir + "/copy.qcow2"
	virshFails(t, d, "error: Requested operation is not valid: domain is not transient", "blockcopy", "g", "xvda", dst)
	virshFails(t, d, "error: invalid argument: absolute path must be used as block copy target", "blockcopy", "g", "xvda", "copy.qcow2", "--transient-job")
	virshFails(t, d, "error: missing destination file for disk xvda: "+dir+"/none.qcow2: No such file or directory",
		"blockcopy", "g", "xvda", dir+"/none.qcow2", "--transient-job", "--reuse-external", "--format", "qcow2")
	r := daemontest.Run(t, "virsh", "-c", d.URI(), "blockcopy", "g", "xvda", dst, "--transient-job", "--wait", "--pivot", "--verbose")
	if r.Code != 0 || !strings.Contains(r.Stdout, "Successfully pivoted") {
		t.Fatalf("blockcopy --pivot: %d %q %q", r.Code, r.Stdout, r.Stderr)
	}
	events.Expect("event 'block-job-2' for domain 'g': Block Copy for xvda ready")
	events.Expect("event 'block-job' for domain 'g': Block Copy for " + dst + " completed")
	for _, inactive := range []bool{false, true} {
		if got := blk(t, d, "g", inactive); got != dst {
			t.Errorf("after the pivot xvda is %s (inactive %v), want %s", got, inactive, dst)
		}
	}
	if c := chain(t, dst); len(c) != 1 || !daemontest.HoldsBlock(t, dst, 0, 0x11) {
		t.Errorf("the full copy: chain %v", c)
	}

	// shallow: only the disk's own image, over the same backing
	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only", "--no-metadata")
	top := blk(t, d, "g", false)
	daemontest.WriteBlock(t, top, 1, 0x22)
	shallow := dir + "/shallow.qcow2"
	d.MustVirsh("blockcopy", "g", "xvda", shallow, "--transient-job", "--shallow", "--wait", "--pivot")
	if c := chain(t, shallow); len(c) != 2 || c[1] != "copy.qcow2" || !daemontest.HoldsBlock(t, shallow, 1, 0x22) {
		t.Errorf("the shallow copy: chain %v", c)
	}

	// aborted: the disk stays on its image
	d.MustVirsh("blockcopy", "g", "xvda", dir+"/other.qcow2", "--transient-job")
	events.Expect("event 'block-job' for domain 'g': Block Copy for " + shallow + " ready")
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<mirror type='file' file='"+dir+"/other.qcow2' format='qcow2' job='copy' ready='yes'>") {
		t.Errorf("live XML of a ready copy:\n%s", live)
	}
	d.MustVirsh("blockjob", "g", "xvda", "--abort")
	if got := blk(t, d, "g", false); got != shallow {
		t.Errorf("after the abort xvda is %s, want %s", got, shallow)
	}
}

// diskGuestRunning starts a daemon and, on it, guest g on a qcow2 image
// (base, block 0 holding 0x11) in a directory of its own.
func diskGuestRunning(t *testing.T) (*daemontest.Daemon, string) {
	t.Helper()
	d, base, _ := diskGuestInRoot(t)
	return d, base
}

// diskGuestInRoot is diskGuestRunning with the daemon's root, for a test
// that starts the daemon again.
func diskGuestInRoot(t *testing.T) (d *daemontest.Daemon, base, root string) {
	t.Helper()
	daemontest.NeedQemuImg(t)
	base = daemontest.Image(t, t.TempDir(), "base.qcow2", "qcow2", 0x11)
	root = daemontest.NewRoot(t)
	d = daemontest.Start(t, root)
	defineStart(t, d, "g", diskGuest("g", base, "qcow2", ""))
	return d, base, root
}
