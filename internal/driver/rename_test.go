package driver

import (
	"errors"
	"io/fs"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/store"
	"virtxend/internal/virerr"
)

// TestRename: a shut-off domain takes a new name with its config and
// autostart link, the old name's go, UNDEFINED/RENAMED then
// DEFINED/RENAMED follow, and the next driver finds it by its new name;
// libvirt's errors for what cannot be renamed.
func TestRename(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	a := define(t, drv, "a", 1, "")
	define(t, drv, "other", 2, "")
	if err := drv.SetAutostart(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	w := watch(t, drv)
	if err := drv.Rename(ctx, a, "b", 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"a", libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRenamed)},
		lc{"b", libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedRenamed)})
	for _, p := range []string{drv.configPath("a"), drv.autostartPath("a")} {
		if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%s: %v", p, err)
		}
	}
	if !store.LinkPointsTo(drv.autostartPath("b"), drv.configPath("b")) {
		t.Error("no autostart link for b")
	}
	if _, err := drv.LookupByName(ctx, "a"); err == nil {
		t.Error("a is still found")
	}
	if x, err := drv.GetXMLDesc(ctx, a, 0); err != nil || !strings.Contains(x, "<name>b</name>") {
		t.Errorf("by uuid: %v\n%s", err, x)
	}

	_, err := drv.Create(ctx, a, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		dom  Domain
		code virerr.Code
		from virerr.Domain
		want string
	}{
		{"c", a, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: cannot rename active domain"},
		{"b", domOf(2), libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain with name 'b' already exists"},
		{"other", domOf(2), libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: Can't rename domain to itself"},
		{"x/y", domOf(2), libvirt.ErrXMLError, virerr.FromLibxl, "XML error: name x/y cannot contain '/'"},
	} {
		wantErr(t, drv.Rename(ctx, c.dom, c.name, 0), c.code, c.from, c.want)
	}
	wantErr(t, drv.Rename(ctx, domOf(2), "z", 1), libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainRename")
	if err := drv.Destroy(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	drv.Close()

	drv2, _ := e.start()
	b, err := drv2.LookupByName(ctx, "b")
	if err != nil {
		t.Fatal(err)
	}
	if on, _ := drv2.GetAutostart(ctx, b); !on {
		t.Error("b does not autostart after a restart")
	}
}

// TestRenameKilledHalfway: a rename killed after the new config was
// written, before the old one went, leaves the domain's config under both
// names; the next driver keeps the newer, with its autostart link, and
// removes the other with its own: the rename is done. Had the old config
// been written last (by hand), it is the one kept.
func TestRenameKilledHalfway(t *testing.T) {
	for _, newer := range []string{"b", "a"} {
		e := newEnv(t)
		drv, _ := e.start()
		a := define(t, drv, "a", 1, "")
		if err := drv.SetAutostart(ctx, a, true); err != nil {
			t.Fatal(err)
		}
		drv.Close()
		// What moveConfig leaves after its new link and config.
		data, err := os.ReadFile(drv.configPath("a"))
		if err != nil {
			t.Fatal(err)
		}
		b := []byte(strings.ReplaceAll(string(data), "<name>a</name>", "<name>b</name>"))
		if err := os.WriteFile(drv.configPath("b"), b, 0o600); err != nil {
			t.Fatal(err)
		}
		if err := os.Symlink(drv.configPath("b"), drv.autostartPath("b")); err != nil {
			t.Fatal(err)
		}
		older, newest := drv.configPath("a"), drv.configPath("b")
		if newer == "a" {
			older, newest = newest, older
		}
		now := time.Now()
		os.Chtimes(older, now.Add(-time.Minute), now.Add(-time.Minute))
		os.Chtimes(newest, now, now)

		drv2, _ := e.start()
		gone := map[string]string{"a": "b", "b": "a"}[newer]
		if _, err := drv2.LookupByName(ctx, newer); err != nil {
			t.Errorf("newer %s: %v", newer, err)
		}
		if _, err := drv2.LookupByName(ctx, gone); err == nil {
			t.Errorf("newer %s: %s is still defined", newer, gone)
		}
		if on, _ := drv2.GetAutostart(ctx, domOf(1)); !on {
			t.Errorf("newer %s: no autostart", newer)
		}
		for _, p := range []string{drv2.configPath(gone), drv2.autostartPath(gone)} {
			if _, err := os.Lstat(p); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("newer %s: %s left: %v", newer, p, err)
			}
		}
	}
}
