package backendtest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// RemoveWait bounds how long the suite lets a guest take to release a
// device it is asked to give back; a booted guest does so at once.
const RemoveWait = 30 * time.Second

// HotplugDisk and HotplugNIC are what the hotplug cases plug into their
// running guest: a raw disk on blkback (a backend on real Xen replaces
// PdevPath with an image that exists, as for StatsDisk) and a PV NIC on
// xenbr0 that libxl numbers.
var (
	HotplugDisk = libxltypes.Disk{PdevPath: "/dev/null", Vdev: "xvdb", Backend: "phy", Format: "raw", Readwrite: 1, Removable: 1}
	HotplugNIC  = libxltypes.NIC{DevID: -1, MAC: "00:16:3e:7e:00:01", Bridge: "xenbr0", NICType: "vif"}
)

// hotplug is the backend's DeviceHotplug; every backend has it.
func hotplug(t *testing.T, b backend.Backend) backend.DeviceHotplug {
	t.Helper()
	h, ok := b.(backend.DeviceHotplug)
	if !ok {
		t.Fatalf("%T has no device hotplug", b)
	}
	return h
}

// bootedGuest starts a device-less guest of two vCPUs and waits for it to
// have booted (a real guest brings its second vCPU up late in its boot,
// after its frontends are ready).
func bootedGuest(t *testing.T, b backend.Backend, name string, uuid byte) backend.DomID {
	t.Helper()
	id := create(t, b, Config(name, uuid, 128*1024, 2), false)
	t.Cleanup(func() { b.Destroy(context.Background(), id) })
	Eventually(t, b, id, "booted (both vCPUs online)", func(gi backend.GuestInfo) bool { return gi.VCPUsOnline == 2 })
	return id
}

func removeCtx() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), RemoveWait)
}

// testHotplug plugs a disk, then a NIC, into one booted guest and unplugs
// them: one boot for both, which on real Xen under TCG costs more than all
// the plugging.
func testHotplug(t *testing.T, b backend.Backend) {
	hp := hotplug(t, b)
	id := bootedGuest(t, b, "conf-hotplug", 20)
	t.Run("Disk", func(t *testing.T) { testDiskHotplug(t, b, hp, id) })
	t.Run("NIC", func(t *testing.T) { testNICHotplug(t, b, hp, id) })
}

// testDiskHotplug: a disk plugged into a running guest is one of its
// devices until it is unplugged; unplugging it again finds no device.
func testDiskHotplug(t *testing.T, b backend.Backend, hp backend.DeviceHotplug, id backend.DomID) {
	ctx := context.Background()
	disk := HotplugDisk
	added, err := hp.AddDevice(ctx, id, backend.Device{Disk: &disk})
	if err != nil || added.Disk == nil || added.Disk.Vdev != "xvdb" {
		t.Fatalf("add disk: %+v, %v", added, err)
	}
	if got := vdevs(t, b, id); len(got) != 1 || got[0] != "xvdb" {
		t.Fatalf("disks after the add: %v", got)
	}
	rctx, cancel := removeCtx()
	defer cancel()
	if err := hp.RemoveDevice(rctx, id, backend.Device{Disk: &libxltypes.Disk{Vdev: "xvdb"}}); err != nil {
		t.Fatalf("remove disk: %v", err)
	}
	if got := vdevs(t, b, id); len(got) != 0 {
		t.Fatalf("disks after the removal: %v", got)
	}
	err = hp.RemoveDevice(rctx, id, backend.Device{Disk: &libxltypes.Disk{Vdev: "xvdb"}})
	if !errors.Is(err, backend.ErrNoDevice) {
		t.Fatalf("second removal: %v", err)
	}
}

// testNICHotplug: a NIC gets the devid libxl chooses, shows as
// vifDOMID.DEVID, and is removed by its MAC.
func testNICHotplug(t *testing.T, b backend.Backend, hp backend.DeviceHotplug, id backend.DomID) {
	ctx := context.Background()
	nic := HotplugNIC
	added, err := hp.AddDevice(ctx, id, backend.Device{NIC: &nic})
	if err != nil || added.NIC == nil || added.NIC.DevID != 0 {
		t.Fatalf("add NIC: %+v, %v", added, err)
	}
	s := stats(t, b, []backend.DomID{id})
	if len(s) != 1 || len(s[0].NICs) != 1 || s[0].NICs[0].Ifname != fmt.Sprintf("vif%d.0", id) {
		t.Fatalf("NICs after the add: %+v", s)
	}
	rctx, cancel := removeCtx()
	defer cancel()
	if err := hp.RemoveDevice(rctx, id, backend.Device{NIC: &libxltypes.NIC{MAC: "00:16:3E:7E:00:01"}}); err != nil {
		t.Fatalf("remove NIC: %v", err)
	}
	if s := stats(t, b, []backend.DomID{id}); len(s) != 1 || len(s[0].NICs) != 0 {
		t.Fatalf("NICs after the removal: %+v", s)
	}
}

// testHotplugNoSuch: devices of a guest that does not exist, or that the
// guest does not have, are refused as such.
func testHotplugNoSuch(t *testing.T, b backend.Backend) {
	ctx := context.Background()
	hp := hotplug(t, b)
	disk := HotplugDisk
	if _, err := hp.AddDevice(ctx, 99999, backend.Device{Disk: &disk}); !errors.Is(err, backend.ErrNoGuest) {
		t.Errorf("add to no guest: %v", err)
	}
	id := create(t, b, Config("conf-hotplug-nosuch", 22, 128*1024, 1), true)
	defer b.Destroy(ctx, id)
	rctx, cancel := removeCtx()
	defer cancel()
	if err := hp.RemoveDevice(rctx, id, backend.Device{Disk: &libxltypes.Disk{Vdev: "xvdq"}}); !errors.Is(err, backend.ErrNoDevice) {
		t.Errorf("remove a disk the guest lacks: %v", err)
	}
	if err := hp.RemoveDevice(rctx, id, backend.Device{NIC: &libxltypes.NIC{MAC: "00:16:3e:7e:00:09"}}); !errors.Is(err, backend.ErrNoDevice) {
		t.Errorf("remove a NIC the guest lacks: %v", err)
	}
}

// vdevs are the guest's disks as Stats reports them.
func vdevs(t *testing.T, b backend.Backend, id backend.DomID) []string {
	t.Helper()
	s := stats(t, b, []backend.DomID{id})
	if len(s) != 1 {
		t.Fatalf("stats of %d: %+v", id, s)
	}
	var out []string
	for _, d := range s[0].Disks {
		out = append(out, d.Vdev)
	}
	return out
}
