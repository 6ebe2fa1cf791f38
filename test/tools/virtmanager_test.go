package tools

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestVirtManagerNewVM: virt-manager's New VM wizard, under Xvfb and
// driven from the keyboard as a user would, creates a guest that installs
// from an ISO onto a new disk in the default pool: the storage step finds
// the pool (no "A storage path must be specified", no "Connection doesn't
// seem to support storage"), and the guest runs with both disks. The
// screenshots of each step are kept if the test fails. The keys and the
// debug log's lines waited for are those of Debian 12's virt-manager 4.1.
func TestVirtManagerNewVM(t *testing.T) {
	if _, err := exec.LookPath("virt-manager"); err != nil {
		t.Skip("virt-manager is not installed")
	}
	d, l := daemontest.StartWithLibvirtd(t)
	iso := file(t, "install.iso", 1<<20)
	w := startWizard(t, d)

	w.step("1-install-method") // "Local install media" is chosen already
	w.keys("alt+f")
	w.keys("alt+i") // Choose ISO or CDROM install media
	w.text(iso)
	w.keys("Tab", "alt+u") // no detection: a blank ISO names no OS
	w.keys("alt+h")        // Choose the operating system
	w.text(osinfo)
	w.keys("Down", "Return") // the first OS the search found
	w.step("2-install-media")
	w.keys("alt+f")
	w.waitLog("Recommended resources for os=" + osinfo)
	w.step("3-memory-cpus")
	w.keys("alt+f")
	w.step("4-storage") // a new disk image in the default pool
	w.keys("alt+f")
	w.waitLog("Default storage path is: /var/lib/libvirt/images/" + osinfo + ".img")
	// The network: the wizard's default, libvirt's network "default".
	w.step("5-finish")
	w.keys("alt+f")
	w.waitLog("Install completed")

	for _, bad := range []string{"A storage path must be specified", "doesn't seem to support"} {
		if strings.Contains(w.log.String(), bad) {
			t.Errorf("virt-manager said %q:\n%s", bad, w.log.String())
		}
	}
	waitRunning(t, d, osinfo)
	const disk = "/var/lib/libvirt/images/" + osinfo + ".img"
	mustContain(t, "the guest's live XML", d.MustVirsh("dumpxml", osinfo),
		"<source file='"+disk+"'/>", "<source file='"+iso+"'/>", "device='cdrom'", "<interface type='network'>", "<source network='default' portid=", "bridge='virbr0'/>")
	if !l.Exists(disk) {
		t.Fatalf("libvirtd made no %s", disk)
	}
}

// vmm is virt-manager showing one of its windows (the New VM wizard, a
// guest's details) on an Xvfb display, driven from the keyboard.
type vmm struct {
	t     *testing.T
	x     *daemontest.Display
	win   string // the window's X window id
	log   *daemontest.SyncBuffer
	shots string // the directory of its screenshots
	done  chan struct{}
}

// startWizard starts virt-manager with the New VM wizard of the daemon's
// connection (--show-domain-creator) and waits for the wizard's window.
func startWizard(t *testing.T, d *daemontest.Daemon) *vmm {
	t.Helper()
	return startVirtManager(t, d, "^New VM$", "--show-domain-creator")
}

// startVirtManager starts virt-manager on a new display with its debug
// log, connected to the daemon, with more arguments (the window to show),
// and waits for a window whose name matches title, a regular expression.
func startVirtManager(t *testing.T, d *daemontest.Daemon, title string, args ...string) *vmm {
	t.Helper()
	x := daemontest.StartXvfb(t)
	w := &vmm{t: t, x: x, log: &daemontest.SyncBuffer{}, shots: t.TempDir(), done: make(chan struct{})}
	daemontest.KeepOnFailure(t, w.shots)
	cmd := exec.Command("virt-manager", append([]string{"--no-fork", "--debug", "--connect", d.URI()}, args...)...)
	cmd.Env = append(x.Env(), "HOME="+t.TempDir())
	cmd.Stdout, cmd.Stderr = w.log, w.log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { cmd.Wait(); close(w.done) }()
	t.Cleanup(func() {
		cmd.Process.Kill()
		<-w.done
		if t.Failed() {
			t.Logf("virt-manager's log:\n%s", w.log.String())
		}
	})
	// --onlyvisible: a window that exists but is not mapped yet takes no
	// focus (virt-manager logs "Showing VM details" before it maps it).
	w.win = firstLine(x.Xdotool("search", "--sync", "--onlyvisible", "--name", title))
	return w
}

// keys presses keys in the window, one after another. With no window
// manager on the display, the window is given the focus first.
func (w *vmm) keys(keys ...string) {
	w.t.Helper()
	w.keysIn(w.win, keys...)
}

// keysIn presses keys in another window of virt-manager's (a dialog).
func (w *vmm) keysIn(win string, keys ...string) {
	w.t.Helper()
	w.check()
	w.x.Xdotool(append([]string{"windowfocus", "--sync", win, "key", "--delay", "150"}, keys...)...)
	time.Sleep(300 * time.Millisecond) // for GTK to act on them before the next
}

// text types s into the window's focused field.
func (w *vmm) text(s string) {
	w.t.Helper()
	w.textIn(w.win, s)
}

// textIn types s into the focused field of another window (a dialog).
func (w *vmm) textIn(win, s string) {
	w.t.Helper()
	w.check()
	w.x.Xdotool("windowfocus", "--sync", win, "type", "--delay", "30", s)
	time.Sleep(300 * time.Millisecond)
}

// step takes a screenshot of the screen at a step, named name.png.
func (w *vmm) step(name string) {
	w.t.Helper()
	w.check()
	if err := w.x.Screenshot(filepath.Join(w.shots, name+".png")); err != nil {
		w.t.Fatal(err)
	}
}

// waitLog waits until virt-manager's debug log has s.
func (w *vmm) waitLog(s string) {
	w.t.Helper()
	if !poll(60*time.Second, func() bool { w.check(); return strings.Contains(w.log.String(), s) }) {
		w.step("timeout")
		w.t.Fatalf("virt-manager never logged %q", s)
	}
}

// check fails the test, with a screenshot, if virt-manager showed an error
// dialog.
func (w *vmm) check() {
	w.t.Helper()
	_, msg, ok := strings.Cut(w.log.String(), "error dialog message:")
	if !ok {
		return
	}
	os.WriteFile(filepath.Join(w.shots, "error.txt"), []byte(msg), 0o644)
	w.x.Screenshot(filepath.Join(w.shots, "error.png"))
	summary, _, _ := strings.Cut(strings.TrimSpace(msg), "\n")
	w.t.Fatalf("virt-manager showed an error: %s", summary)
}

// poll calls ok every 50 ms until it is true or limit passes.
func poll(limit time.Duration, ok func() bool) bool {
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ok() {
			return true
		}
	}
	return ok()
}
