package drivertests

import (
	"image/png"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestVirshScreenshot: virsh screenshot, which libvirt's Xen driver does
// not serve, writes the picture of a running guest's screen (an HVM
// guest's, a PV guest's with a vfb) as the device model gives it, a PNG;
// libvirt-python's screenshot, as virt-manager calls it for a snapshot's
// picture, reads the same stream; libvirt's errors for a guest that does
// not run, has no screen or not that one, and on the read-only socket. No
// temporary file is left behind.
func TestVirshScreenshot(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "hvm", `<domain type='xen'><name>hvm</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os><devices><graphics type='vnc'/></devices></domain>`)
	define(t, d, "pvfb", guestXML("pvfb", "<devices><graphics type='vnc'/></devices>"))
	define(t, d, "plain", guestXML("plain", ""))
	dir := t.TempDir()
	if r := d.Virsh("screenshot", "hvm", filepath.Join(dir, "off")); r.Code == 0 || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("screenshot of a shut-off guest: %d %q", r.Code, r.Stderr)
	}
	for _, g := range []string{"hvm", "pvfb", "plain"} {
		d.MustVirsh("start", g)
	}
	for _, g := range []string{"hvm", "pvfb"} {
		path := filepath.Join(dir, g)
		r := daemontest.Run(t, "virsh", "-c", d.URI(), "screenshot", g, path)
		if r.Code != 0 || !strings.Contains(r.Stdout, "Screenshot saved to "+path+", with type of image/png") {
			t.Fatalf("virsh screenshot %s: %d %q %q", g, r.Code, r.Stdout, r.Stderr)
		}
		checkPNG(t, path)
	}
	for _, tc := range []struct{ args, want string }{
		{"plain", "error: Requested operation is not valid: no screens to take screenshot from"},
		{"hvm --screen 1", "error: Requested operation is not valid: no such screen ID"},
		{"Domain-0", "Domain-0 does not support requested operation"},
	} {
		args := append([]string{"screenshot"}, strings.Fields(tc.args)...)
		if r := d.Virsh(append(args, filepath.Join(dir, "x"))...); r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("virsh screenshot %s: %d %q", tc.args, r.Code, r.Stderr)
		}
	}
	r := daemontest.Run(t, "virsh", "-c", d.ROURI(), "screenshot", "hvm", filepath.Join(dir, "ro"))
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainScreenshot") {
		t.Errorf("read-only screenshot: %d %q", r.Code, r.Stderr)
	}

	// virt-manager's call (details/snapshots.py _take_screenshot).
	py := filepath.Join(dir, "py.png")
	r = d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
stream = conn.newStream(0)
mime = conn.lookupByName("hvm").screenshot(stream, 0, 0)
data = bytearray()
stream.recvAll(lambda s, buf, opaque: data.extend(buf), None)
stream.finish()
open(sys.argv[2], "wb").write(data)
print(mime, len(data))
`, py)
	if !strings.HasPrefix(r.Stdout, "image/png ") {
		t.Fatalf("libvirt-python's screenshot: %q %s", r.Stdout, r.Stderr)
	}
	checkPNG(t, py)
	left, _ := filepath.Glob(filepath.Join(d.Paths.LibDir(), ".screendump*"))
	if len(left) > 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

// checkPNG fails unless path is a PNG of the simulated screen, 720x400.
func checkPNG(t *testing.T, path string) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	cfg, err := png.DecodeConfig(f)
	if err != nil || cfg.Width != 720 || cfg.Height != 400 {
		t.Errorf("%s: %+v %v", path, cfg, err)
	}
}

// TestVirshSendKey: virsh send-key, which libvirt's Xen driver does not
// serve, presses keys on the guest's keyboard (its device model's), in any
// of libvirt's codesets: Ctrl+Alt+Delete reboots the simulated guest as it
// reboots Linux (a new id on Xen); other keys are pressed and nothing
// follows. libvirt's errors for a key with no QEMU number, a guest without
// a device model or not running, and the read-only socket; go-libvirt's
// calls past virsh's own checks get the entry point's.
func TestVirshSendKey(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	w := watchEvents(t, d)
	define(t, d, "hvm", `<domain type='xen'><name>hvm</name><memory unit='MiB'>128</memory><vcpu>1</vcpu>
<os><type arch='x86_64' machine='xenfv'>hvm</type></os></domain>`)
	define(t, d, "plain", guestXML("plain", ""))
	if r := d.Virsh("send-key", "hvm", "KEY_ESC"); r.Code == 0 || !strings.Contains(r.Stderr, "error: Requested operation is not valid: domain is not running") {
		t.Errorf("send-key to a shut-off guest: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("start", "hvm")
	d.MustVirsh("start", "plain")
	d.MustVirsh("send-key", "hvm", "--codeset", "xt", "0x1c")           // Enter
	d.MustVirsh("send-key", "hvm", "--holdtime", "500", "KEY_LEFTCTRL") // held half a second
	d.MustVirsh("send-key", "hvm", "KEY_LEFTCTRL", "KEY_LEFTALT", "KEY_DELETE")
	waitNewID(t, d, "hvm", 1)
	w.exactly(d, "hvm", "DEFINED/ADDED", "STARTED/BOOTED", "STOPPED/SHUTDOWN", "STARTED/BOOTED")

	for _, tc := range []struct{ args, want string }{
		{"hvm --codeset linux 0xffff", "error: internal error: cannot translate keycode 65535 of linux codeset to qnum keycode"},
		{"plain KEY_ESC", "error: internal error: Failed to send keys to domain '2'"},
		{"Domain-0 KEY_ESC", "Domain-0 does not support requested operation"},
	} {
		if r := d.Virsh(append([]string{"send-key"}, strings.Fields(tc.args)...)...); r.Code == 0 || !strings.Contains(r.Stderr, tc.want) {
			t.Errorf("send-key %s: %d %q", tc.args, r.Code, r.Stderr)
		}
	}
	r := daemontest.Run(t, "virsh", "-c", d.ROURI(), "send-key", "hvm", "KEY_ESC")
	if r.Code == 0 || !strings.Contains(r.Stderr, "read only access prevents virDomainSendKey") {
		t.Errorf("read-only send-key: %d %q", r.Code, r.Stderr)
	}

	l := d.GoLibvirt(paths.RWSocketName)
	dom, err := l.DomainLookupByName("hvm")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		codeset uint32
		keys    []uint32
		want    string
	}{
		{0, nil, "nkeycodes in virDomainSendKey must be greater than zero"},
		{10, []uint32{1}, "Unsupported codeset '10'"},
		{0, make([]uint32, 17), "nkeycodes must be <= 16"},
	} {
		if err := l.DomainSendKey(dom, tc.codeset, 0, tc.keys, 0); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("DomainSendKey codeset %d, %d keys: %v", tc.codeset, len(tc.keys), err)
		}
	}
}
