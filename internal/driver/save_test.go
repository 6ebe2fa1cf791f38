package driver

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// TestAutostartRestoresManagedSave: the host reboots (libvirt-guests saved
// the guest before); autostart brings the guest back from its managed
// save image, which goes, with STARTED/RESTORED.
func TestAutostartRestoresManagedSave(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.start()
	a := define(t, drv, "auto", 1, "")
	if _, err := drv.Create(ctx, a, 0); err != nil {
		t.Fatal(err)
	}
	if err := drv.ManagedSave(ctx, a, "", 0); err != nil {
		t.Fatal(err)
	}
	if err := drv.SetAutostart(ctx, a, true); err != nil {
		t.Fatal(err)
	}
	drv.Close()
	e.boot = "kernel-boot-2"
	drv2, _ := e.start()
	d, _ := drv2.LookupByUUID(ctx, a.UUID)
	if d.ID <= 0 {
		t.Fatal("not autostarted after host boot")
	}
	if has, _ := drv2.HasManagedSaveImage(ctx, a, 0); has {
		t.Error("the managed save image outlived the restore")
	}
	state, reason, _ := drv2.GetState(ctx, a, 0)
	if state != libvirt.DomainRunning || reason != int32(libvirt.DomainRunningBooted) {
		t.Errorf("state %d/%d", state, reason)
	}
}
