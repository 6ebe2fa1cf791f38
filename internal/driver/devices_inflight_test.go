package driver

import (
	"os"
	"strings"
	"testing"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// TestHotplugKilledMidway: a daemon killed while a live disk hotplug was
// under way (its status file records it, the backend has or has not acted)
// comes back showing the disk exactly when the guest has it, and forgets
// the hotplug.
func TestHotplugKilledMidway(t *testing.T) {
	xvdb := libvirtxml.DomainDisk{
		Device: "disk",
		Source: &libvirtxml.DomainDiskSource{File: &libvirtxml.DomainDiskSourceFile{File: "/var/lib/xen/b.img"}},
		Target: &libvirtxml.DomainDiskTarget{Dev: "xvdb", Bus: "xen"},
		Alias:  &libvirtxml.DomainAlias{Name: "xen-disk1"},
	}
	for _, tc := range []struct {
		name     string
		attached bool // xvdb is in the live definition before the hotplug
		op       string
		acted    bool // the backend did it before the kill
		want     bool // the restarted daemon shows xvdb
	}{
		{"attach, guest has it", false, "attach", true, true},
		{"attach, guest lacks it", false, "attach", false, false},
		{"detach, guest let it go", true, "detach", true, false},
		{"detach, guest has it", true, "detach", false, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			drv, h := e.startDevices()
			dom := define(t, drv, "g", 1, pvDevices)
			if _, err := drv.Create(ctx, dom, 0); err != nil {
				t.Fatal(err)
			}
			if tc.attached {
				if err := drv.AttachDevice(ctx, dom, newDisk, live); err != nil {
					t.Fatal(err)
				}
			}
			d, _ := drv.find(dom)
			id := backend.DomID(d.ref().ID)
			// What the hotplug does up to the kill: record it, then (or
			// not) have the backend act.
			if err := drv.beginHotplug(d, tc.op, xvdb); err != nil {
				t.Fatal(err)
			}
			if tc.acted {
				var err error
				if tc.op == "attach" {
					_, err = h.AddDevice(ctx, id, backend.Device{Disk: &libxltypes.Disk{PdevPath: "/var/lib/xen/b.img", Vdev: "xvdb", Format: "raw", Readwrite: 1}})
				} else {
					err = h.RemoveDevice(ctx, id, backend.Device{Disk: &libxltypes.Disk{Vdev: "xvdb"}})
				}
				if err != nil {
					t.Fatal(err)
				}
			}
			drv.Close()

			drv2, _ := e.startDevices()
			if got := strings.Contains(liveXML(t, drv2, dom, 0), "<target dev='xvdb'"); got != tc.want {
				t.Errorf("the restarted daemon shows xvdb: %v, want %v", got, tc.want)
			}
			status, _ := os.ReadFile(drv2.statusPath("g"))
			if strings.Contains(string(status), "<hotplug") {
				t.Errorf("the hotplug stayed in the status file:\n%s", status)
			}
			// The restarted daemon can undo or redo it.
			if tc.want {
				err := drv2.DetachDevice(ctx, dom, newDisk, live)
				if err != nil {
					t.Fatal(err)
				}
			} else if err := drv2.AttachDevice(ctx, dom, newDisk, live); err != nil {
				t.Fatal(err)
			}
		})
	}
}
