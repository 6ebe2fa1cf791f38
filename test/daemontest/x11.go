package daemontest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Display is an Xvfb X server of a test's own, for desktop clients
// (virt-manager) driven without a screen; stopped when the test ends.
type Display struct {
	t testing.TB
	// Name is the DISPLAY value, e.g. ":3".
	Name string
}

// StartXvfb starts Xvfb on a free display number, which Xvfb chooses and
// reports (-displayfd), so tests and other users' servers never collide.
func StartXvfb(t testing.TB) *Display {
	t.Helper()
	if _, err := exec.LookPath("Xvfb"); err != nil {
		t.Skip("Xvfb is not installed")
	}
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	// -r: no auto-repeat. A key xdotool holds past the server's repeat
	// delay (660 ms), as happens when a loaded machine stalls it between
	// press and release, would otherwise be typed twice (a wizard test
	// once typed ".../0002/install.iso" for ".../002/install.iso").
	cmd := exec.Command("Xvfb", "-displayfd", "3", "-screen", "0", "1280x1024x24", "-nolisten", "tcp", "-r")
	cmd.ExtraFiles = []*os.File{w} // fd 3
	out := &SyncBuffer{}
	cmd.Stdout, cmd.Stderr = out, out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	num := make(chan string, 1)
	go func() { line, _ := bufio.NewReader(r).ReadString('\n'); num <- strings.TrimSpace(line) }()
	select {
	case n := <-num:
		if n == "" {
			t.Fatalf("Xvfb reported no display:\n%s", out.String())
		}
		return &Display{t: t, Name: ":" + n}
	case <-time.After(30 * time.Second):
		t.Fatalf("Xvfb reported no display in 30s:\n%s", out.String())
	}
	return nil
}

// Env is the environment of a program on the display: DISPLAY, and no
// session bus or dconf (settings stay in memory, not in root's files).
func (x *Display) Env() []string {
	return append(os.Environ(), "DISPLAY="+x.Name, "GSETTINGS_BACKEND=memory", "NO_AT_BRIDGE=1")
}

// screenshotScript saves the root window as PNG with GDK, through
// Debian's python3-gi and GTK 3, which virt-manager depends on anyway.
const screenshotScript = `import sys, gi
gi.require_version("Gdk", "3.0")
from gi.repository import Gdk
w = Gdk.get_default_root_window()
Gdk.pixbuf_get_from_window(w, 0, 0, w.get_width(), w.get_height()).savev(sys.argv[1], "png", [], [])
`

// Screenshot saves the whole screen as a PNG file at path.
func (x *Display) Screenshot(path string) error {
	cmd := exec.Command("/usr/bin/python3", "-c", screenshotScript, path)
	cmd.Env = x.Env()
	if out, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("screenshot: %v\n%s", err, out)
	}
	return nil
}

// Xdotool runs xdotool on the display (keys, windows) and returns what it
// printed; it fails the test if xdotool fails or takes over 30 seconds.
func (x *Display) Xdotool(args ...string) string {
	x.t.Helper()
	if _, err := exec.LookPath("xdotool"); err != nil {
		x.t.Skip("xdotool is not installed")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "xdotool", args...)
	cmd.Env = x.Env()
	out, err := cmd.CombinedOutput()
	if err != nil {
		x.t.Fatalf("xdotool %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

// KeepOnFailure copies the files of dir (a test's screenshots) to
// $VIRTXEND_ARTIFACTS/TEST (default: the system's temp directory's
// virtxend-artifacts/TEST) if the test fails, and logs where they are.
// With VIRTXEND_KEEP_SCREENSHOTS=1 it keeps them when the test passes too.
func KeepOnFailure(t testing.TB, dir string) {
	t.Cleanup(func() {
		if !t.Failed() && os.Getenv("VIRTXEND_KEEP_SCREENSHOTS") != "1" {
			return
		}
		base := os.Getenv("VIRTXEND_ARTIFACTS")
		if base == "" {
			base = filepath.Join(os.TempDir(), "virtxend-artifacts")
		}
		dst := filepath.Join(base, strings.ReplaceAll(t.Name(), "/", "_"))
		if err := os.MkdirAll(dst, 0o755); err != nil {
			t.Logf("keeping %s: %v", dir, err)
			return
		}
		files, _ := os.ReadDir(dir)
		for _, f := range files {
			if b, err := os.ReadFile(filepath.Join(dir, f.Name())); err == nil {
				os.WriteFile(filepath.Join(dst, f.Name()), b, 0o644)
			}
		}
		t.Logf("screenshots kept in %s", dst)
	})
}
