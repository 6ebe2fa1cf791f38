package tools

import (
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

// TestVirtManagerTextConsole: virt-manager's window of a running guest
// with no graphics shows its text console (a libvirt console stream):
// the simulated guest's boot banner appears, a line typed there comes back,
// and "poweroff" typed there shuts the guest down; started again, its
// Force Reset boots it again, and the console carries the new boot. Its
// screenshots are kept if the test fails.
func TestVirtManagerTextConsole(t *testing.T) {
	if _, err := exec.LookPath("virt-manager"); err != nil {
		t.Skip("virt-manager is not installed")
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	xml := filepath.Join(t.TempDir(), "con.xml")
	os.WriteFile(xml, []byte(`<domain type='xen'><name>con</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os></domain>`), 0o644)
	d.MustVirsh("define", xml)
	d.MustVirsh("start", "con")
	if !poll(30*time.Second, func() bool { return strings.HasPrefix(d.Virsh("ttyconsole", "con").Stdout, "/dev/pts/") }) {
		t.Fatal("the guest's console has no pty")
	}

	x := daemontest.StartXvfb(t)
	shots := t.TempDir()
	daemontest.KeepOnFailure(t, shots)
	cmd := exec.Command("virt-manager", "--no-fork", "--debug", "--connect", d.URI(), "--show-domain-console", "con")
	cmd.Env = append(x.Env(), "HOME="+t.TempDir())
	log := daemontest.Beside(t, "virt-manager", cmd)
	win := firstLine(x.Xdotool("search", "--sync", "--name", "^con on Xen$"))
	shot := func(name string) int {
		t.Helper()
		p := filepath.Join(shots, name+".png")
		if err := x.Screenshot(p); err != nil {
			t.Fatal(err)
		}
		return textPixels(t, p, geometry(t, x, win))
	}
	// The banner: three lines of text on the terminal's black.
	var banner int
	if !poll(60*time.Second, func() bool { banner = shot("1-banner"); return banner > 300 }) {
		t.Fatalf("no text on the console (%d text pixels); virt-manager opened the stream: %v",
			banner, strings.Contains(log.String(), "Opening console stream"))
	}
	// A click gives the terminal the keyboard (there is no window manager).
	x.Xdotool("mousemove", "--window", win, "400", "400", "click", "1")
	x.Xdotool("type", "--delay", "50", "hello")
	x.Xdotool("key", "Return")
	var echoed int
	if !poll(30*time.Second, func() bool { echoed = shot("2-echo"); return echoed > banner+40 }) {
		t.Fatalf("the typed line did not come back: %d text pixels, %d before", echoed, banner)
	}
	t.Logf("text pixels: %d with the banner, %d with the line typed", banner, echoed)

	x.Xdotool("type", "--delay", "50", "poweroff")
	x.Xdotool("key", "Return")
	d.WaitState("con", "shut off (shutdown)")
	shot("3-poweroff")

	// Started again, then Force Reset from the toolbar's shut down menu
	// (the console has the keyboard, so the menu is opened with a click;
	// then it has the keys), and yes to the question: the guest boots
	// again, with a new id on Xen.
	d.MustVirsh("start", "con")
	w := &vmm{t: t, x: x, win: win, log: log, shots: shots}
	// The shut down menu's button is insensitive while the guest is shut
	// off: a click before virt-manager handled the start opens nothing (a
	// loaded run did). It has once it opened the console of the new boot.
	if !poll(30*time.Second, func() bool { return strings.Count(log.String(), "Opening console stream") >= 2 }) {
		t.Fatal("virt-manager did not open the console of the guest started again")
	}
	w.click(image.Pt(249, 45))
	w.step("4-shutdown-menu")
	x.Xdotool("key", "o") // F_orce Reset
	w.keysIn(w.messageDialog(), "alt+y")
	w.waitLog("Resetting vm 'con'")
	if !poll(30*time.Second, func() bool { return strings.TrimSpace(d.Virsh("domid", "con").Stdout) == "3" }) {
		t.Fatalf("the guest did not boot again: %s", d.DomState("con"))
	}
	w.waitLog("domain lifecycle event: domain=con state=VIR_DOMAIN_EVENT_STARTED reason=VIR_DOMAIN_EVENT_STARTED_BOOTED")
	w.step("5-reset")
	w.check()

	// Its console follows the guest into the new boot: once the new
	// boot's banner has settled, a line typed there comes back.
	x.Xdotool("mousemove", "--window", win, "400", "400", "click", "1")
	settled := 0
	poll(15*time.Second, func() bool {
		n := shot("6-new-boot")
		done := n == settled
		settled = n
		return done
	})
	x.Xdotool("type", "--delay", "50", "again")
	x.Xdotool("key", "Return")
	var again int
	if !poll(30*time.Second, func() bool { again = shot("7-again"); return again > settled+20 }) {
		t.Fatalf("after the reset a typed line did not come back: %d text pixels, %d before", again, settled)
	}
	t.Logf("text pixels after the reset: %d, %d with a line typed", settled, again)
	d.MustVirsh("destroy", "con")
}

func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexByte(s, '\n'); i >= 0 {
		return s[:i]
	}
	return s
}

// geometry is an X window's rectangle on the screen.
func geometry(t *testing.T, x *daemontest.Display, win string) image.Rectangle {
	t.Helper()
	v := map[string]int{}
	for _, l := range strings.Fields(x.Xdotool("getwindowgeometry", "--shell", win)) {
		if k, n, ok := strings.Cut(l, "="); ok {
			v[k], _ = strconv.Atoi(n)
		}
	}
	return image.Rect(v["X"], v["Y"], v["X"]+v["WIDTH"], v["Y"]+v["HEIGHT"])
}

// textPixels counts the light pixels beside black ones inside win, away
// from its edge: the strokes of light text on a terminal's black, which an
// empty terminal (its cursor aside) and the window's light chrome lack.
func textPixels(t *testing.T, path string, win image.Rectangle) int {
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
	lum := func(x, y int) int {
		r, g, b, _ := img.At(x, y).RGBA()
		return int((r>>8)*299+(g>>8)*587+(b>>8)*114) / 1000
	}
	r := win.Inset(4).Intersect(img.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X + 1; x < r.Max.X-1; x++ {
			if lum(x, y) > 150 && (lum(x-1, y) < 20 || lum(x+1, y) < 20) {
				n++
			}
		}
	}
	return n
}
