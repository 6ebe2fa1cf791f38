package sim

import (
	"context"
	"errors"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

func createWith(t *testing.T, h *Host, name string, n byte, metadata string, cfgFn func(*libxltypes.DomainConfig)) backend.DomID {
	t.Helper()
	cfg := backendtest.Config(name, n, 64*1024, 1)
	if cfgFn != nil {
		cfgFn(cfg)
	}
	id, err := h.Create(context.Background(), cfg, backend.CreateOptions{Metadata: metadata})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

const xvdb = "xvdb"

func diskDev() backend.Device {
	return backend.Device{Disk: &libxltypes.Disk{Vdev: xvdb, PdevPath: "/x.img", Format: "raw", Readwrite: 1}}
}

// TestDevicesKeptWithGuest: a hot-plugged device is part of the guest's
// configuration in host.json, which the next process sees.
func TestDevicesKeptWithGuest(t *testing.T) {
	dir := t.TempDir()
	h := open(t, dir, nil)
	id := createWith(t, h, "keep", 1, "", nil)
	ctx := context.Background()
	if _, err := h.AddDevice(ctx, id, diskDev()); err != nil {
		t.Fatal(err)
	}
	if _, err := h.AddDevice(ctx, id, diskDev()); !errors.Is(err, backend.ErrInvalid) {
		t.Fatalf("the same vdev twice: %v", err)
	}
	h.Close()
	h2 := open(t, dir, nil)
	cfg, err := h2.GuestConfig(ctx, id)
	if err != nil || len(cfg.Disks) != 1 || cfg.Disks[0].PdevPath != "/x.img" {
		t.Fatalf("config after reopening: %+v, %v", cfg, err)
	}
}

// TestDetachAcknowledgement: the guest lets a device go after its
// detach-delay; with detach="ignore", or while paused, it does not, and
// the removal fails when the caller's time is up, the device staying.
func TestDetachAcknowledgement(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	ctx := context.Background()
	slow := createWith(t, h, "slow", 1, `<s:fault xmlns:s="urn:virtxend:sim" detach-delay="200ms"/>`, nil)
	h.AddDevice(ctx, slow, diskDev())
	start := time.Now()
	if err := h.RemoveDevice(ctx, slow, diskDev()); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 200*time.Millisecond {
		t.Errorf("removed after %v, before the guest's delay", time.Since(start))
	}

	deaf := createWith(t, h, "deaf", 2, `<s:fault xmlns:s="urn:virtxend:sim" detach="ignore"/>`, nil)
	h.AddDevice(ctx, deaf, diskDev())
	tctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer cancel()
	if err := h.RemoveDevice(tctx, deaf, diskDev()); !errors.Is(err, backend.ErrTimedOut) {
		t.Fatalf("removal the guest ignores: %v", err)
	}
	if cfg, _ := h.GuestConfig(ctx, deaf); len(cfg.Disks) != 1 {
		t.Fatalf("the ignored disk went: %+v", cfg.Disks)
	}

	paused := createWith(t, h, "paused", 3, "", nil)
	h.AddDevice(ctx, paused, diskDev())
	h.Pause(ctx, paused)
	pctx, pcancel := context.WithTimeout(ctx, 100*time.Millisecond)
	defer pcancel()
	if err := h.RemoveDevice(pctx, paused, diskDev()); !errors.Is(err, backend.ErrTimedOut) {
		t.Fatalf("removal from a paused guest: %v", err)
	}
	h.Unpause(ctx, paused)
	if err := h.RemoveDevice(ctx, paused, diskDev()); err != nil {
		t.Fatalf("removal once unpaused: %v", err)
	}
}

// TestMediaAndUSB: a cdrom takes new media in its place; a USB device
// with no controller free gets a new one, as libxl gives it.
func TestMediaAndUSB(t *testing.T) {
	h := open(t, t.TempDir(), nil)
	ctx := context.Background()
	id := createWith(t, h, "hvm", 1, "", func(c *libxltypes.DomainConfig) {
		c.Disks = []libxltypes.Disk{{Vdev: "hdc", PdevPath: "/a.iso", Format: "raw", IsCDROM: 1}, {Vdev: "hda", PdevPath: "/d.img"}}
	})
	if err := h.InsertMedia(ctx, id, libxltypes.Disk{Vdev: "hdc", Format: "empty"}); err != nil {
		t.Fatal(err)
	}
	if err := h.InsertMedia(ctx, id, libxltypes.Disk{Vdev: "hda", PdevPath: "/b.iso"}); !errors.Is(err, backend.ErrInvalid) {
		t.Errorf("media into a disk: %v", err)
	}
	usb := backend.Device{USBDev: &libxltypes.USBDev{Ctrl: -1, HostDev: libxltypes.USBHostID{HostBus: 1, HostAddr: 2}}}
	added, err := h.AddDevice(ctx, id, usb)
	if err != nil || added.USBDev.Ctrl != 0 || added.USBDev.Port != 1 {
		t.Fatalf("USB device %+v, %v", added.USBDev, err)
	}
	cfg, _ := h.GuestConfig(ctx, id)
	if cfg.Disks[0].PdevPath != "" || cfg.Disks[0].Format != "empty" || cfg.Disks[0].IsCDROM != 1 ||
		len(cfg.USBCtrls) != 1 || cfg.USBCtrls[0].Ports != 8 || len(cfg.USBDevs) != 1 {
		t.Fatalf("config %+v", cfg)
	}
	if err := h.RemoveDevice(ctx, id, backend.Device{USBCtrl: &libxltypes.USBCtrl{DevID: 0}}); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := h.GuestConfig(ctx, id); len(cfg.USBCtrls) != 0 || len(cfg.USBDevs) != 0 {
		t.Fatalf("the controller's devices stayed: %+v", cfg)
	}
}
