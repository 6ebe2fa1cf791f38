//go:build libxl

package libxl

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// TestDiskSnapshotsOnXen: the backend's disk snapshots of a running PV
// guest whose xvda is a qcow2 image (libxl's qdisk: QEMU serves it) and
// whose xvdb is a raw one (libxl's phy: blkback serves it). xvdb is
// refused as unsupported, an unknown disk as no such device. xvda takes
// an internal snapshot, switches to an overlay and to a second one over
// that (each with the guest paused, as the driver does it), the overlay
// takes an internal snapshot, and after each switch libxl's configuration
// of the domain (xl list -l) and xenstore name the overlay. Then xl saves
// the guest and restores it from libxl's record: the new device model
// serves the second overlay. It needs qemu-img and xl (test/xen's dom0 has
// them).
func TestDiskSnapshotsOnXen(t *testing.T) {
	realXen(t)
	for _, tool := range []string{"qemu-img", "xl", "xenstore-read"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Fatalf("%s: %v", tool, err)
		}
	}
	b, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	go func() {
		for range b.Events() {
		}
	}()
	kernel := testKernel()
	dir := t.TempDir()
	base := filepath.Join(dir, "base.qcow2")
	run(t, "qemu-img", "create", "-q", "-f", "qcow2", base, "16M")
	cfg := backendtest.Config("conf-snap", 0x5d, bootMinKiB, 1)
	cfg.BInfo.Kernel, cfg.BInfo.Ramdisk, cfg.BInfo.Cmdline = kernel, os.Getenv("VIRTXEND_TEST_INITRD"), "console=hvc0"
	cfg.Disks = []libxltypes.Disk{
		{PdevPath: base, Vdev: "xvda", Format: "qcow2", Readwrite: 1},
		{PdevPath: diskImage(t), Vdev: "xvdb", Format: "raw", Readwrite: 1},
	}
	ctx, cancel := context.WithTimeout(context.Background(), 4*time.Minute)
	defer cancel()
	id, err := b.Create(ctx, cfg, backend.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if n, err := exec.Command("xl", "domid", "conf-snap").Output(); err == nil {
			exec.Command("xl", "destroy", strings.TrimSpace(string(n))).Run()
		}
	}()

	err = b.SwitchDisks(ctx, id, []backend.DiskOverlay{{Vdev: "xvdb", Path: filepath.Join(dir, "b.qcow2"), Format: "qcow2"}})
	if !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("switch of the phy disk: %v", err)
	}
	t.Log(err)
	if err := b.SnapshotDisksInternal(ctx, id, []string{"xvdb"}, "s"); !errors.Is(err, backend.ErrUnsupported) {
		t.Errorf("internal snapshot of the phy disk: %v", err)
	}
	if err := b.SwitchDisks(ctx, id, []backend.DiskOverlay{{Vdev: "xvdc", Path: "/x.qcow2"}}); !errors.Is(err, backend.ErrNoDevice) {
		t.Errorf("switch of a disk the guest lacks: %v", err)
	}

	paused(t, b, id, "internal snapshot s0", func() error { return b.SnapshotDisksInternal(ctx, id, []string{"xvda"}, "s0") })
	snapshots(t, base, "s0")
	top := base
	for i, name := range []string{"ov1.qcow2", "ov2.qcow2"} {
		ov := filepath.Join(dir, name)
		run(t, "qemu-img", "create", "-q", "-f", "qcow2", "-F", "qcow2", "-b", top, ov)
		paused(t, b, id, "switch to "+name, func() error {
			return b.SwitchDisks(ctx, id, []backend.DiskOverlay{{Vdev: "xvda", Path: ov, Format: "qcow2"}})
		})
		top = ov
		served(t, ctx, uint32(id), ov, "xvda-ov"+strconv.Itoa(i+1))
		if got := xlDiskPath(t, uint32(id), "xvda"); got != ov {
			t.Errorf("after the switch to %s xl list -l names %s", ov, got)
		}
		if got := run(t, "xenstore-read", "/libxl/"+strconv.Itoa(int(id))+"/device/vbd/51712/params"); got != "qcow2:"+ov {
			t.Errorf("after the switch to %s xenstore's params: %s", ov, got)
		}
	}
	paused(t, b, id, "internal snapshot s1", func() error { return b.SnapshotDisksInternal(ctx, id, []string{"xvda"}, "s1") })
	snapshots(t, top, "s1")
	if err := b.SnapshotDisksInternal(ctx, id, []string{"xvda"}, "s1"); err == nil {
		t.Error("a second internal snapshot s1 was taken")
	} else {
		t.Log(err)
	}

	// xl save and restore: the restored guest's device model opens what
	// libxl's record names
	waitMarker(t, "conf-snap")
	img := filepath.Join(dir, "conf-snap.save")
	t0 := time.Now()
	run(t, "xl", "save", strconv.Itoa(int(id)), img)
	t1 := time.Now()
	run(t, "xl", "restore", img)
	os.Remove(img)
	id2, err := strconv.Atoi(run(t, "xl", "domid", "conf-snap"))
	if err != nil {
		t.Fatal(err)
	}
	served(t, ctx, uint32(id2), top, "xvda-qcow2")
	t.Logf("xl save %.2f s, xl restore %.2f s: d%d's device model serves xvda from %s", t1.Sub(t0).Seconds(), time.Since(t1).Seconds(), id2, top)
}

// paused runs what with domain id paused, as the driver does, and logs
// how long the guest was paused.
func paused(t *testing.T, b *Backend, id backend.DomID, what string, fn func() error) {
	t.Helper()
	ctx := context.Background()
	t0 := time.Now()
	if err := b.Pause(ctx, id); err != nil {
		t.Fatal(err)
	}
	t1 := time.Now()
	err := fn()
	t2 := time.Now()
	if uerr := b.Unpause(ctx, id); uerr != nil {
		t.Fatal(uerr)
	}
	if err != nil {
		t.Fatalf("%s: %v", what, err)
	}
	t.Logf("%s: paused %.3f s (pause %.3f s, the call %.3f s, unpause %.3f s)", what,
		time.Since(t0).Seconds(), t1.Sub(t0).Seconds(), t2.Sub(t1).Seconds(), time.Since(t2).Seconds())
}

// served checks that domain domid's device model serves xvda from image,
// its root node named node.
func served(t *testing.T, ctx context.Context, domid uint32, image, node string) {
	t.Helper()
	s, closer, err := dialQMP(ctx, domid)
	if err != nil {
		t.Fatal(err)
	}
	defer closer.Close()
	disks, err := s.disks()
	if err != nil {
		t.Fatal(err)
	}
	d, err := xenDisk(disks, "xvda")
	if err != nil {
		t.Fatal(err)
	}
	if d.File != image || d.Node != node {
		t.Errorf("d%d's device model serves xvda from %s (node %s), want %s (node %s)", domid, d.File, d.Node, image, node)
	}
}

// snapshots checks that qemu-img lists internal snapshot name in image,
// which a device model has open (-U).
func snapshots(t *testing.T, image, name string) {
	t.Helper()
	out := run(t, "qemu-img", "snapshot", "-l", "-U", image)
	if !strings.Contains(out, " "+name+" ") {
		t.Errorf("qemu-img snapshot -l %s: no %s in\n%s", image, name, out)
	}
}

// xlDiskPath is the image xl list -l (libxl_retrieve_domain_configuration)
// gives domain domid's disk vdev.
func xlDiskPath(t *testing.T, domid uint32, vdev string) string {
	t.Helper()
	var doms []struct {
		Config struct {
			Disks []libxltypes.Disk `json:"disks"`
		} `json:"config"`
	}
	if err := json.Unmarshal([]byte(run(t, "xl", "list", "-l", strconv.Itoa(int(domid)))), &doms); err != nil || len(doms) != 1 {
		t.Fatalf("xl list -l: %d domains, %v", len(doms), err)
	}
	for _, d := range doms[0].Config.Disks {
		if d.Vdev == vdev {
			return d.PdevPath
		}
	}
	return ""
}

// waitMarker waits for guest name's init to print its marker on its
// console (xenconsoled's log in dom0), so that it answers a suspend.
func waitMarker(t *testing.T, name string) {
	t.Helper()
	path := filepath.Join("/var/log/xen/console", "guest-"+name+".log")
	for deadline := time.Now().Add(backendtest.EventWait); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		if b, _ := os.ReadFile(path); bytes.Contains(b, []byte("DOMU-MARKER-OK")) {
			return
		}
	}
	t.Fatalf("%s printed no DOMU-MARKER-OK in %s", name, path)
}

// run runs a command and returns its output, trimmed; a failure fails the test.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}
