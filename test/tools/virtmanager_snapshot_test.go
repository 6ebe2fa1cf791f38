package tools

import (
	"context"
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestVirtManagerSnapshots: the Snapshots tab of virt-manager's details
// window, under Xvfb and driven as a user would, creates a snapshot (a
// name and a description, through its dialog), lists it as current, and
// runs it (reverts to it, confirming the question), for a shut-off guest
// and for a running one, whose screen's picture (virDomainScreenshot) the
// dialog shows and virt-manager keeps. virt-manager 4.1 offers the tab only when every
// writable disk is qcow2, so each guest has one qcow2 disk. The shut-off
// guest's snapshot is an internal one of that image; the running guest's
// is a full one (state running, its memory beside the metadata), and the
// guest runs again after the revert. A write made after each snapshot is
// gone after its revert. The screenshots of each step are kept if the
// test fails (VIRTXEND_KEEP_SCREENSHOTS=1 keeps them anyway).
func TestVirtManagerSnapshots(t *testing.T) {
	for _, tool := range []string{"virt-manager", "qemu-img", "qemu-io"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	dir := t.TempDir()

	t.Run("shutoff", func(t *testing.T) {
		d := d.For(t)
		disk := daemontest.Image(t, dir, "off.qcow2", "qcow2", 0x11)
		defineXML(t, d, qcow2Guest("off", disk, ""))
		w := startSnapshots(t, d, "off")
		w.createSnapshot("clean", "before the upgrade")
		w.checkListed("2-created")
		info := d.SnapshotInfo("off", "clean")
		if info["State"] != "shutoff" || info["Location"] != "internal" || info["Current"] != "yes" {
			t.Errorf("snapshot-info off clean: %v", info)
		}
		mustContain(t, "qemu-img snapshot -l", daemontest.InternalSnapshots(t, disk), "clean")
		mustContain(t, "snapshot-dumpxml", d.MustVirsh("snapshot-dumpxml", "off", "clean"),
			"<description>before the upgrade</description>")

		daemontest.WriteBlock(t, disk, 0, 34) // after the snapshot
		w.runSnapshot("off", "clean")
		w.checkListed("4-reverted")
		if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "off", "--name")); cur != "clean" {
			t.Errorf("snapshot-current after the revert: %q", cur)
		}
		if !daemontest.HoldsBlock(t, disk, 0, 0x11) {
			t.Errorf("after the revert the disk keeps what was written after the snapshot")
		}
		if got := d.DomState("off"); !strings.HasPrefix(got, "shut off") {
			t.Errorf("after the revert to a shut-off snapshot the guest is %q", got)
		}
	})

	t.Run("running", func(t *testing.T) {
		d := d.For(t)
		disk := daemontest.Image(t, dir, "on.qcow2", "qcow2", 0x11)
		defineXML(t, d, qcow2Guest("on", disk, "<graphics type='vnc'/>"))
		d.MustVirsh("start", "on")
		waitRunning(t, d, "on")
		w := startSnapshots(t, d, "on")
		w.createSnapshot("live", "while it runs")
		w.checkListed("2-created")
		// The guest has a screen: the dialog showed its picture, which
		// virt-manager keeps beside the snapshot.
		shot := w.waitLogLine("Writing screenshot to ")
		if !strings.HasSuffix(shot, "snap-screenshot-live.png") {
			t.Errorf("virt-manager kept the guest's screenshot as %q", shot)
		}
		checkScreenshot(t, shot)
		info := d.SnapshotInfo("on", "live")
		if info["State"] != "running" || info["Location"] != "internal" || info["Current"] != "yes" {
			t.Errorf("snapshot-info on live: %v", info)
		}
		mustContain(t, "qemu-img snapshot -l", daemontest.InternalSnapshots(t, disk), "live")
		mustContain(t, "snapshot-dumpxml", d.MustVirsh("snapshot-dumpxml", "on", "live"),
			"<description>while it runs</description>", "<state>running</state>", "<memory snapshot='internal'/>")
		if got := d.DomState("on"); got != "running (booted)" {
			t.Errorf("after the snapshot the guest is %q", got)
		}

		daemontest.WriteBlock(t, disk, 0, 34) // after the snapshot
		w.runSnapshot("on", "live")
		w.checkListed("4-reverted")
		if got := d.DomState("on"); got != "running (from snapshot)" {
			t.Errorf("after the revert the guest is %q", got)
		}
		if cur := strings.TrimSpace(d.MustVirsh("snapshot-current", "on", "--name")); cur != "live" {
			t.Errorf("snapshot-current after the revert: %q", cur)
		}
		if !daemontest.HoldsBlock(t, disk, 0, 0x11) {
			t.Errorf("after the revert the disk keeps what was written after the snapshot")
		}
	})
}

// Where virt-manager 4.1 draws the Snapshots tab in a details window of
// 900x700 at the screen's corner, with Debian 12's Adwaita: the list of
// snapshots down the left, its first row, and the "+" (new snapshot)
// button under it.
var (
	snapshotRow = image.Rect(13, 80, 211, 117)
	snapshotAdd = image.Pt(33, 700-30)
)

// startSnapshots starts virt-manager with the details window of guest
// dom, and shows its Snapshots tab (View > Snapshots).
func startSnapshots(t *testing.T, d *daemontest.Daemon, dom string) *vmm {
	t.Helper()
	w := startVirtManager(t, d, "^"+dom+" on Xen$", "--show-domain-editor", dom)
	w.x.Xdotool("windowsize", "--sync", w.win, "900", "700")
	w.x.Xdotool("windowmove", "--sync", w.win, "0", "0")
	w.waitLog("Showing VM details")
	w.keys("alt+v", "p") // View, Sna_pshots
	w.step("0-snapshots-tab")
	return w
}

// createSnapshot creates a snapshot through the "+" button and its dialog,
// and waits until virt-manager closed the dialog, having listed it.
func (w *vmm) createSnapshot(name, description string) {
	w.t.Helper()
	w.click(snapshotAdd)
	w.waitLog("Showing new snapshot wizard")
	dlg := firstLine(w.x.Xdotool("search", "--sync", "--onlyvisible", "--name", "^Create snapshot$"))
	w.x.Xdotool("windowmove", "--sync", dlg, "460", "120") // beside the list, for the screenshots
	w.keysIn(dlg, "ctrl+a")                                // the name it proposes: snapshot1
	w.textIn(dlg, name)
	w.keysIn(dlg, "Tab")
	w.textIn(dlg, description)
	w.step("1-new-snapshot")
	w.keysIn(dlg, "alt+f") // _Finish
	w.waitLog("Closing new snapshot wizard")
	w.waitGone("^Creating snapshot$")
}

// runSnapshot runs (reverts to) the first snapshot listed, name, of guest
// dom: it activates the row (Return) and answers yes to virt-manager's
// question, whose text only the screenshot 3-run-question shows. It waits
// until the revert is done: the daemon's DEFINED/FROM_SNAPSHOT event
// reached virt-manager, and its progress window is gone.
func (w *vmm) runSnapshot(dom, name string) {
	w.t.Helper()
	w.click(snapshotRow.Min.Add(image.Pt(snapshotRow.Dx()/2, snapshotRow.Dy()/2)))
	w.keys("Return") // a row activated runs its snapshot
	dlg := w.messageDialog()
	w.step("3-run-question")
	w.keysIn(dlg, "alt+y")
	w.waitLog("Running snapshot '" + name + "'")
	w.waitLog("domain lifecycle event: domain=" + dom + " state=VIR_DOMAIN_EVENT_DEFINED reason=VIR_DOMAIN_EVENT_DEFINED_FROM_SNAPSHOT")
	w.waitGone("^Running snapshot$")
	w.check()
}

// click clicks at p in the window, then moves the pointer off it (to the
// screen's far corner), where it shows no tooltip.
func (w *vmm) click(p image.Point) {
	w.t.Helper()
	w.check()
	w.x.Xdotool("mousemove", "--window", w.win, strconv.Itoa(p.X), strconv.Itoa(p.Y), "click", "1",
		"mousemove", "1279", "1023")
	time.Sleep(300 * time.Millisecond) // for GTK to act on it before the next
}

// messageDialog waits for one of virt-manager's untitled message dialogs
// (a question) and returns its window id: a visible window of its class
// with no name (xdotool's --name "^$" matches no window with --all).
func (w *vmm) messageDialog() string {
	w.t.Helper()
	var dlg string
	found := poll(30*time.Second, func() bool {
		w.check()
		for _, win := range strings.Fields(w.xdotool("search", "--onlyvisible", "--class", "virt-manager")) {
			if win != w.win && strings.TrimSpace(w.xdotool("getwindowname", win)) == "" {
				dlg = win
				return true
			}
		}
		return false
	})
	if !found {
		w.step("timeout")
		w.t.Fatal("virt-manager showed no question")
	}
	return dlg
}

// waitGone waits until no visible window's name matches title (a
// progress window virt-manager closes when its job is done).
func (w *vmm) waitGone(title string) {
	w.t.Helper()
	if !poll(60*time.Second, func() bool { w.check(); return !w.visible(title) }) {
		w.step("timeout")
		w.t.Fatalf("a window %q is still there", title)
	}
}

// visible reports whether a visible window's name matches title.
func (w *vmm) visible(title string) bool {
	return strings.TrimSpace(w.xdotool("search", "--onlyvisible", "--name", title)) != ""
}

// xdotool runs xdotool on the display for what it prints, ignoring its
// exit code: it exits 1 when a search matches nothing, or when a window
// it was asked about has just gone.
func (w *vmm) xdotool(args ...string) string {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = w.x.Env()
	out, _ := cmd.Output()
	return string(out)
}

// checkListed waits until the list's first row is drawn selected with
// the emblem of the current snapshot, and keeps that screenshot as
// step.png.
func (w *vmm) checkListed(step string) {
	w.t.Helper()
	var selected, current int
	ok := poll(30*time.Second, func() bool {
		w.step(step)
		selected, current = rowPixels(w.t, filepath.Join(w.shots, step+".png"), snapshotRow)
		return selected > 2000 && current > 20
	})
	if !ok {
		w.t.Errorf("%s: the list's first row is not a selected current snapshot: %d pixels of the selection's blue, %d of the current emblem's green",
			step, selected, current)
	}
}

// rowPixels counts, in area of the screenshot at path, the pixels of
// Adwaita's selection blue and of the green of the emblem virt-manager
// puts on the current snapshot.
func rowPixels(t *testing.T, path string, area image.Rectangle) (selected, current int) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	near := func(a uint32, b int) bool { d := int(a>>8) - b; return d > -24 && d < 24 }
	r := area.Intersect(img.Bounds())
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			switch {
			case near(cr, 53) && near(cg, 132) && near(cb, 228):
				selected++
			case int(cg>>8) > int(cr>>8)+40 && int(cg>>8) > int(cb>>8)+60:
				current++
			}
		}
	}
	return selected, current
}

// qcow2Guest is a PV guest with one qcow2 disk, xvda, at path.
func qcow2Guest(name, path, devices string) string {
	return `<domain type='xen'><name>` + name + `</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='` + path + `'/><target dev='xvda' bus='xen'/></disk>` + devices + `</devices></domain>`
}

// defineXML defines a guest from its XML.
func defineXML(t *testing.T, d *daemontest.Daemon, xml string) {
	t.Helper()
	p := filepath.Join(t.TempDir(), "guest.xml")
	if err := os.WriteFile(p, []byte(xml), 0o644); err != nil {
		t.Fatal(err)
	}
	d.MustVirsh("define", p)
}

// waitLogLine waits until virt-manager's debug log has a line with s and
// returns the rest of that line.
func (w *vmm) waitLogLine(s string) string {
	w.t.Helper()
	w.waitLog(s)
	_, rest, _ := strings.Cut(w.log.String(), s)
	line, _, _ := strings.Cut(rest, "\n")
	return strings.TrimSpace(line)
}

// checkScreenshot fails unless path is a PNG of the simulated screen.
func checkScreenshot(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if cfg, err := png.DecodeConfig(f); err != nil || cfg.Width != 720 || cfg.Height != 400 {
		t.Errorf("%s: %+v %v", path, cfg, err)
	}
}
