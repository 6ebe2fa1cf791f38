package driver

import (
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
	"virtxend/internal/qemuimg"
)

// qcow2Chain makes a qcow2 base and an overlay over it in dir, or skips
// the test without qemu-img.
func qcow2Chain(t *testing.T) (base, overlay string) {
	t.Helper()
	if _, err := exec.LookPath("qemu-img"); err != nil {
		t.Skip("qemu-img is not installed (qemu-utils)")
	}
	dir := t.TempDir()
	base, overlay = filepath.Join(dir, "base.qcow2"), filepath.Join(dir, "top.qcow2")
	for _, args := range [][]string{
		{"create", "-q", "-f", "qcow2", base, "4M"},
		{"create", "-q", "-f", "qcow2", "-b", base, "-F", "qcow2", overlay},
	} {
		if out, err := exec.Command("qemu-img", args...).CombinedOutput(); err != nil {
			t.Fatalf("qemu-img %v: %v: %s", args, err, out)
		}
	}
	return base, overlay
}

// TestActiveCommitPivot: an active commit, read while it runs from other
// goroutines (the race detector's part), becomes ready with its events and
// mirror, and a synchronous pivot returns with the disk on the base in
// both definitions and the job gone.
func TestActiveCommitPivot(t *testing.T) {
	base, top := qcow2Chain(t)
	drv, _ := newEnv(t).start()
	d := define(t, drv, "g", 1, `<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='`+top+`'/><target dev='xvda'/></disk></devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	w := watchBroker(t, drv.Events())
	if _, err := w.sub.Register(events.IDBlockJob2, nil, false); err != nil {
		t.Fatal(err)
	}
	if err := drv.BlockCommit(ctx, started, "xvda", "", "", 0, uint32(libvirt.DomainBlockCommitActive)); err != nil {
		t.Fatal(err)
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	for range 3 {
		readers.Add(1)
		go func() {
			defer readers.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				drv.GetBlockJobInfo(ctx, started, "xvda", 0)
				drv.GetXMLDesc(ctx, started, 0)
				time.Sleep(time.Millisecond)
			}
		}()
	}
	if ev := w.next(); ev.ID != events.IDBlockJob2 || ev.BlockJob != (events.BlockJob{Disk: "xvda", Type: blockJobActiveCommit, Status: blockJobReady}) {
		t.Fatalf("event %+v", ev)
	}
	if x, _ := drv.GetXMLDesc(ctx, started, 0); !strings.Contains(x, "job='active-commit' ready='yes'") {
		t.Errorf("live XML of a ready commit:\n%s", x)
	}
	if err := drv.BlockJobAbort(ctx, started, "xvda", uint32(libvirt.DomainBlockJobAbortPivot)); err != nil {
		t.Fatal(err)
	}
	close(stop)
	readers.Wait()
	for _, flags := range []uint32{0, uint32(libvirt.DomainXMLInactive)} {
		if x, _ := drv.GetXMLDesc(ctx, started, flags); !strings.Contains(x, "<source file='"+base+"'/>") || strings.Contains(x, "<mirror") {
			t.Errorf("XML (flags %d) after the pivot:\n%s", flags, x)
		}
	}
	if _, found, err := drv.GetBlockJobInfo(ctx, started, "xvda", 0); found || err != nil {
		t.Errorf("a job after the pivot: %v %v", found, err)
	}
	if ev := w.next(); ev.BlockJob.Status != blockJobCompleted {
		t.Errorf("event %+v", ev)
	}
}

// TestCommitRange: top and base found as libvirt's chain lookup finds
// them (by path or TARGET[INDEX], base below top), and its refusals.
func TestCommitRange(t *testing.T) {
	chain := []qemuimg.Image{{Filename: "/i/top"}, {Filename: "/i/mid"}, {Filename: "/i/base"}}
	for _, c := range []struct {
		top, base string
		shallow   bool
		t, b      int
		err       string
	}{
		{"", "", false, 0, 2, ""},
		{"xvda", "", true, 0, 1, ""},
		{"/i/mid", "", false, 1, 2, ""},
		{"xvda[1]", "xvda[2]", false, 1, 2, ""},
		{"", "/i/mid", false, 0, 1, ""},
		{"/i/base", "", false, 0, 0, "invalid argument: top '/i/base' in chain for '/i/top' has no backing file"},
		{"/i/mid", "/i/top", false, 0, 0, "invalid argument: could not find image '/i/top' beneath '/i/mid' in chain for 'xvda'"},
		{"/i/nowhere", "", false, 0, 0, "invalid argument: could not find image '/i/nowhere' in chain for 'xvda'"},
		{"", "/i/nowhere", false, 0, 0, "invalid argument: could not find image '/i/nowhere' beneath '/i/top' in chain for 'xvda'"},
		{"xvda[3]", "", false, 0, 0, "invalid argument: could not find backing store index '3' in chain for 'xvda'"},
		{"", "/i/base", true, 0, 0, "invalid argument: base '/i/base' is not immediately below '/i/top' in chain for '/i/top'"},
	} {
		top, base, err := commitRange(chain, "xvda", c.top, c.base, c.shallow)
		if c.err != "" {
			if err == nil || err.Error() != c.err {
				t.Errorf("%+v: got %v", c, err)
			}
			continue
		}
		if err != nil || top != c.t || base != c.b {
			t.Errorf("%+v: got %d %d %v", c, top, base, err)
		}
	}
}
