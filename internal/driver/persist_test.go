package driver

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// TestUndefineKilledHalfway: an undefine removes the config, then the
// autostart link. Killed in between (here: the config removed by hand,
// the link left), the next driver finds a link to no config, removes it,
// and the domain is undefined whole: a domain defined again with that name
// does not autostart. With libvirt's order (link first), the kill-point
// harness found such a kill leaving the domain defined but no longer
// autostarting, an undefine half-applied.
func TestUndefineKilledHalfway(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	a := define(t, drv, "a", 1, "")
	if err := drv.SetAutostart(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	drv.Close()
	if err := os.Remove(drv.configPath("a")); err != nil {
		t.Fatal(err)
	}
	drv2, _ := e.start()
	if _, err := drv2.LookupByName(ctx, "a"); err == nil {
		t.Fatal("a domain with no config is listed")
	}
	if _, err := os.Lstat(drv2.autostartPath("a")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("stale autostart link: %v", err)
	}
	again := define(t, drv2, "a", 2, "")
	if on, _ := drv2.GetAutostart(ctx, again); on {
		t.Fatal("a new domain inherited the undefined one's autostart")
	}
}

// TestUndefineOrder: the config goes first, then the link; if the link
// cannot be removed, the config is put back and the undefine fails having
// changed nothing.
func TestUndefineOrder(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	a := define(t, drv, "a", 1, "")
	if err := drv.SetAutostart(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(drv.configPath("a"))
	if err != nil {
		t.Fatal(err)
	}
	// A link that cannot be removed: a directory with a file in it.
	link := drv.autostartPath("a")
	os.Remove(link)
	if err := os.MkdirAll(filepath.Join(link, "x"), 0o755); err != nil {
		t.Fatal(err)
	}
	err = drv.Undefine(ctx, a, 0)
	wantErr(t, err, libvirt.ErrSystemError, virerr.FromLibxl, "")
	after, rerr := os.ReadFile(drv.configPath("a"))
	if rerr != nil || string(after) != string(before) {
		t.Fatalf("config after the failed undefine: %v\n%s", rerr, after)
	}
	if p, _ := drv.IsPersistent(ctx, a); !p {
		t.Fatal("failed undefine changed the domain")
	}
	os.RemoveAll(link)
	if err := drv.Undefine(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(drv.configPath("a")); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("config after undefine: %v", err)
	}
}
