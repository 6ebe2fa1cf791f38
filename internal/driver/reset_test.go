package driver

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// TestReset: a reset guest is destroyed and booted again with a new id,
// running as before or paused as before, from the persistent definition;
// a transient guest keeps its definition; libvirt's errors otherwise.
func TestReset(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	w := watch(t, drv)
	d := define(t, drv, "vm1", 1, "")
	w.expect(lc{"vm1", evDefined, int32(libvirt.DomainEventDefinedAdded)})
	err := drv.Reset(ctx, d, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	err = drv.Reset(ctx, d, 1)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "unsupported flags (0x1) in function libxlDomainReset")
	err = drv.Reset(ctx, Domain{Name: "Domain-0", ID: 0}, 0)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromLibxl, "Requested operation is not valid: Domain-0 does not support requested operation")

	first, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.SetMemoryFlags(ctx, first, 64<<10, uint32(libvirt.DomainMemLive)); err != nil {
		t.Fatal(err)
	}
	if err := drv.Reset(ctx, first, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"vm1", evStarted, int32(libvirt.DomainEventStartedBooted)},
		lc{"vm1", evStopped, int32(libvirt.DomainEventStoppedDestroyed)},
		lc{"vm1", evStarted, int32(libvirt.DomainEventStartedBooted)})
	now, err := drv.LookupByName(ctx, "vm1")
	if err != nil || now.ID <= first.ID {
		t.Fatalf("after reset: %+v %v (was id %d)", now, err, first.ID)
	}
	if st, r := stateOf(t, drv, now); st != libvirt.DomainRunning || r != int32(libvirt.DomainRunningBooted) {
		t.Fatalf("state %v/%d", st, r)
	}
	if info, _ := drv.GetInfo(ctx, now); info.MemKiB != 128<<10 {
		t.Errorf("memory after reset: %d KiB, want the definition's 131072", info.MemKiB)
	}
	if list, _ := h.Guests(ctx); len(list) != 2 {
		t.Errorf("guests after reset: %+v", list)
	}

	// Paused before, paused after.
	if err := drv.Suspend(ctx, now); err != nil {
		t.Fatal(err)
	}
	if err := drv.Reset(ctx, now, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"vm1", evSuspended, int32(libvirt.DomainEventSuspendedPaused)},
		lc{"vm1", evStopped, int32(libvirt.DomainEventStoppedDestroyed)},
		lc{"vm1", evStarted, int32(libvirt.DomainEventStartedBooted)})
	if st, _ := stateOf(t, drv, d); st != libvirt.DomainPaused {
		t.Fatalf("a paused guest after reset: state %v", st)
	}

	// A transient guest is still there after its reset.
	tr, err := drv.CreateXML(ctx, domXML("tr", 5, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := drv.Reset(ctx, tr, 0); err != nil {
		t.Fatal(err)
	}
	if now, err := drv.LookupByName(ctx, "tr"); err != nil || now.ID <= tr.ID {
		t.Fatalf("transient guest after reset: %+v %v", now, err)
	}
}

// SetLifecycleAction's argument checks, as libvirt's entry point and
// virDomainDefLifecycleActionAllowed make them, and its flags' impact.
func TestSetLifecycleActionArgs(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	d := define(t, drv, "vm1", 1, "")
	wantErr(t, drv.SetLifecycleAction(ctx, d, 3, 0, 0), libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: invalid lifecycle type '3'")
	wantErr(t, drv.SetLifecycleAction(ctx, d, 0, 6, 0), libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: invalid lifecycle action '6'")
	wantErr(t, drv.SetLifecycleAction(ctx, d, 1, 5, 0), libvirt.ErrConfigUnsupported, virerr.FromDomain,
		"unsupported configuration: Lifecycle event 'reboot' doesn't support 'coredump-restart' action")
	wantErr(t, drv.SetLifecycleAction(ctx, d, 2, 5, uint32(libvirt.DomainAffectLive)), libvirt.ErrOperationInvalid, virerr.FromDomain,
		"Requested operation is not valid: domain is not running")
	if err := drv.SetLifecycleAction(ctx, d, 2, 5, 0); err != nil { // current: the config of a shut-off guest
		t.Fatal(err)
	}
	x, _ := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if !strings.Contains(x, "<on_crash>coredump-restart</on_crash>") {
		t.Errorf("persistent definition after the change:\n%s", x)
	}
}

// A screendump a killed daemon left (between its creation and removal) is
// gone after the next start, as the store's temporaries are.
func TestScreendumpLeftoverSwept(t *testing.T) {
	e := newEnv(t)
	left := filepath.Join(e.root.LibDir(), ".screendump.tmp-1234")
	if err := os.MkdirAll(e.root.LibDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(left, []byte("P6\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	e.start()
	if _, err := os.Stat(left); !os.IsNotExist(err) {
		t.Errorf("the leftover screendump is still there: %v", err)
	}
}
