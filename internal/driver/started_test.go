package driver

import (
	"fmt"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/libxltypes"
)

// TestStartNamesDevices: the live XML of a started guest names its
// interfaces and its disks' drivers as libvirt's libxlDomainStart does,
// what test/xen's oracle showed libvirt's dumpxml and domiflist say; the
// inactive XML keeps them unnamed.
func TestStartNamesDevices(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "named", 1, `<devices>
  <disk type='file'><source file='/img/a'/><target dev='xvda'/></disk>
  <disk type='file'><driver name='qemu'/><source file='/img/b'/><target dev='xvdb'/></disk>
  <interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='xenbr0'/></interface>
  <interface type='bridge'><mac address='00:16:3e:00:00:02'/><source bridge='xenbr0'/><target dev='mine'/></interface>
</devices>`)
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	live, err := drv.GetXMLDesc(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, w := range []string{
		"<driver name='phy' type='raw'/>\n      <source file='/img/a'/>",
		"<driver name='qemu' type='raw'/>\n      <source file='/img/b'/>",
		fmt.Sprintf("<target dev='vif%d.0'/>", started.ID),
		"<target dev='mine'/>",
	} {
		if !strings.Contains(live, w) {
			t.Errorf("live XML lacks %q:\n%s", w, live)
		}
	}
	inactive, err := drv.GetXMLDesc(ctx, d, uint32(libvirt.DomainXMLInactive))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(inactive, "vif") || strings.Contains(inactive, "'phy'") {
		t.Errorf("inactive XML names the live devices:\n%s", inactive)
	}
}

// TestDiskDriverOf: libxl's choice of a backend, as libvirt names it.
func TestDiskDriverOf(t *testing.T) {
	for _, c := range []struct {
		x    libxltypes.Disk
		want string
	}{
		{libxltypes.Disk{Format: "raw"}, "phy"},
		{libxltypes.Disk{Format: "qcow2"}, "qemu"},
		{libxltypes.Disk{Format: "empty"}, "qemu"},
		{libxltypes.Disk{Format: "raw", Backend: "qdisk"}, "qemu"},
		{libxltypes.Disk{Format: "vhd", Backend: "tap"}, "tap"},
	} {
		if got := diskDriverOf(c.x); got != c.want {
			t.Errorf("%+v: %q, want %q", c.x, got, c.want)
		}
	}
}

// TestEmulatedNICName: an HVM guest's emulated NIC is named for its tap.
func TestEmulatedNICName(t *testing.T) {
	d := &libvirtxml.Domain{Devices: &libvirtxml.DomainDeviceList{Interfaces: []libvirtxml.DomainInterface{{}}}}
	nameInterfaces(d, 7, []libxltypes.NIC{{DevID: 0, NICType: "vif_ioemu"}}, nil)
	if got := d.Devices.Interfaces[0].Target; got == nil || got.Dev != "vif7.0-emu" {
		t.Errorf("target %+v, want vif7.0-emu", got)
	}
}
