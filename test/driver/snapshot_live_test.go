package drivertests

import (
	"os"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestSnapshotDeleteRunning: external snapshots of a running guest deleted
// while it runs, as libvirt's QEMU driver deletes them, by a block commit
// in the guest's device model: an ancestor's overlay merges into the base
// below it, and the overlay above then reads from the base; the current
// leaf's overlay merges into the base, which the disk then reads (live and
// persistent XML, the simulated host's configuration). The overlays are
// gone, what they held is in the base, and the guest never stopped.
func TestSnapshotDeleteRunning(t *testing.T) {
	t.Parallel()
	d, base := diskGuestRunning(t)
	d.MustVirsh("snapshot-create-as", "g", "s1", "--disk-only")
	s1 := blk(t, d, "g", false)
	daemontest.WriteBlock(t, s1, 1, 0x22)
	d.MustVirsh("snapshot-create-as", "g", "s2", "--disk-only")
	s2 := blk(t, d, "g", false)
	daemontest.WriteBlock(t, s2, 2, 0x33)

	d.MustVirsh("snapshot-delete", "g", "s1")
	if got := blk(t, d, "g", false); got != s2 {
		t.Errorf("after deleting s1 xvda is %s, want %s", got, s2)
	}
	if c := chain(t, s2); len(c) != 2 || c[1] != "base.qcow2" {
		t.Errorf("chain after deleting s1: %v", c)
	}
	if !daemontest.HoldsBlock(t, base, 1, 0x22) || !daemontest.HoldsBlock(t, s2, 2, 0x33) {
		t.Errorf("deleting s1 did not merge its data into the base")
	}
	if _, err := os.Stat(s1); !os.IsNotExist(err) {
		t.Errorf("s1's overlay %s is still there: %v", s1, err)
	}

	d.MustVirsh("snapshot-delete", "g", "s2")
	for _, inactive := range []bool{false, true} {
		if got := blk(t, d, "g", inactive); got != base {
			t.Errorf("after deleting s2 xvda is %s (inactive %v), want %s", got, inactive, base)
		}
	}
	if disks := guestConfig(t, d, "g").Disks; len(disks) != 1 || disks[0].PdevPath != base {
		t.Errorf("the simulated host's disk after deleting s2: %+v", disks)
	}
	if !daemontest.HoldsBlock(t, base, 2, 0x33) {
		t.Errorf("deleting s2 did not merge its data into the base")
	}
	if _, err := os.Stat(s2); !os.IsNotExist(err) {
		t.Errorf("s2's overlay %s is still there: %v", s2, err)
	}
	if st := strings.TrimSpace(d.MustVirsh("domstate", "g")); st != "running" {
		t.Errorf("state: %q", st)
	}
	if l := strings.TrimSpace(d.MustVirsh("snapshot-list", "g", "--name")); l != "" {
		t.Errorf("snapshots left: %q", l)
	}
}
