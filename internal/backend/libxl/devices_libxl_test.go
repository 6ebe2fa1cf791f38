//go:build libxl

package libxl

import (
	"encoding/json"
	"testing"

	"virtxend/internal/backend"
	"virtxend/internal/backend/backendtest"
	"virtxend/internal/libxltypes"
)

// TestDeviceJSONReadByLibxl: libxl reads every kind of device hotplug
// hands it, and means by it what the translation meant (a devid or ctrl
// of -1, libxl's "choose", is its default and so left out).
func TestDeviceJSONReadByLibxl(t *testing.T) {
	disk, nic := backendtest.HotplugDisk, backendtest.HotplugNIC
	cd := libxltypes.Disk{Vdev: "hdc", Format: "empty", IsCDROM: 1, Removable: 1}
	cases := []struct {
		dev  backend.Device
		want map[string]any
	}{
		{backend.Device{Disk: &disk}, map[string]any{"vdev": "xvdb", "pdev_path": "/dev/null", "backend": "phy", "format": "raw", "readwrite": 1.0}},
		{backend.Device{Disk: &cd}, map[string]any{"vdev": "hdc", "format": "empty", "is_cdrom": 1.0}},
		{backend.Device{NIC: &nic}, map[string]any{"devid": nil, "mac": "00:16:3e:7e:00:01", "bridge": "xenbr0", "nictype": "vif"}},
		{backend.Device{USBCtrl: &libxltypes.USBCtrl{Type: "qusb", DevID: -1, Version: 2, Ports: 8}}, map[string]any{"type": "qusb", "devid": nil, "version": 2.0, "ports": 8.0}},
		{backend.Device{USBDev: &libxltypes.USBDev{Ctrl: -1, HostDev: libxltypes.USBHostID{HostBus: 1, HostAddr: 2}}}, map[string]any{"ctrl": nil}},
		{backend.Device{PCI: &libxltypes.PCIDev{Bus: 3, Func: 1, RDMPolicy: "invalid"}}, map[string]any{"bus": 3.0, "func": 1.0}},
	}
	for _, c := range cases {
		kind, js, err := deviceKind(c.dev)
		if err != nil {
			t.Fatal(err)
		}
		out, err := offlineDeviceJSON(kind, js)
		if err != nil {
			t.Fatalf("%s %s: %v", c.dev.Kind(), js, err)
		}
		var got map[string]any
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("%s: %v\n%s", c.dev.Kind(), err, out)
		}
		if c.dev.USBDev != nil {
			if h, _ := got["type.hostdev"].(map[string]any); h["hostbus"] != 1.0 || h["hostaddr"] != 2.0 {
				t.Errorf("usbdev: libxl reads the host device as %v\n%s", got["type.hostdev"], out)
			}
		}
		for k, v := range c.want {
			if got[k] != v {
				t.Errorf("%s: libxl reads %s as %v, want %v\n%s", c.dev.Kind(), k, got[k], v, out)
			}
		}
	}
}
