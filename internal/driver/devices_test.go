package driver

import (
	"context"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// startDevices opens a driver whose detaches wait 300 ms for the guest.
func (e *env) startDevices() (*Driver, *simHost) {
	e.t.Helper()
	h := e.sim()
	drv, err := New(e.cfg, e.root, h, nil, Options{DeviceRemoveTimeout: 300 * time.Millisecond})
	if err != nil {
		h.Close()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { drv.Close() })
	return drv, h
}

// deviceWatcher collects device events.
func deviceWatcher(t *testing.T, drv *Driver) *events.Subscriber {
	s := drv.Events().Subscribe(100)
	for _, id := range []int32{events.IDDeviceAdded, events.IDDeviceRemoved, events.IDDeviceRemovalFailed} {
		if _, err := s.Register(id, nil, false); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(s.Close)
	return s
}

func expectDeviceEvent(t *testing.T, s *events.Subscriber, id int32, alias string) {
	t.Helper()
	select {
	case d := <-s.C():
		if d.Event.ID != id || d.Event.DevAlias != alias {
			t.Fatalf("event %d %q, want %d %q", d.Event.ID, d.Event.DevAlias, id, alias)
		}
	case <-time.After(10 * time.Second):
		t.Fatalf("no event %d %q", id, alias)
	}
}

func noDeviceEvent(t *testing.T, s *events.Subscriber) {
	t.Helper()
	select {
	case d := <-s.C():
		t.Fatalf("unexpected event %+v", d.Event)
	default:
	}
}

func liveXML(t *testing.T, drv *Driver, dom Domain, flags uint32) string {
	t.Helper()
	x, err := drv.GetXMLDesc(ctx, dom, flags)
	if err != nil {
		t.Fatal(err)
	}
	return x
}

func guestConfig(t *testing.T, h *simHost, drv *Driver, dom Domain) *libxltypes.DomainConfig {
	t.Helper()
	d, _ := drv.find(dom)
	cfg, err := h.GuestConfig(ctx, backendDomID(d.ref().ID))
	if err != nil {
		t.Fatal(err)
	}
	return cfg
}

const (
	newDisk   = `<disk type='file' device='disk'><source file='/var/lib/xen/b.img'/><target dev='xvdb'/></disk>`
	live      = uint32(libvirt.DomainDeviceModifyLive)
	persist   = uint32(libvirt.DomainDeviceModifyConfig)
	inactive  = uint32(libvirt.DomainXMLInactive)
	pvDevices = `<devices><disk type='file' device='disk'><source file='/var/lib/xen/a.img'/><target dev='xvda'/></disk>
<interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='xenbr0'/></interface></devices>`
)

// TestAttachDetachDisk: a disk attached live and to the config is in both
// definitions, in the guest and its status file, with an alias and the
// driver libxl's backend gives it (libxlUpdateDiskDef) in the live view and
// DEVICE_ADDED; detached, it is gone from all, with
// DEVICE_REMOVED; a second detach names it in libvirt's words.
func TestAttachDetachDisk(t *testing.T) {
	e := newEnv(t)
	drv, h := e.startDevices()
	dom := define(t, drv, "g", 1, pvDevices)
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	ev := deviceWatcher(t, drv)
	if err := drv.AttachDevice(ctx, dom, newDisk, live|persist); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceAdded, "xen-disk1")
	lx := liveXML(t, drv, dom, 0)
	if !strings.Contains(lx, "<driver name='phy' type='raw'/>\n      <source file='/var/lib/xen/b.img'/>\n      <target dev='xvdb' bus='xen'/>\n      <alias name='xen-disk1'/>") {
		t.Fatalf("live XML:\n%s", lx)
	}
	if px := liveXML(t, drv, dom, inactive); !strings.Contains(px, "<target dev='xvdb' bus='xen'/>") || strings.Contains(px, "alias") ||
		strings.Contains(px, "'phy'") {
		t.Fatalf("persistent XML:\n%s", px)
	}
	if cfg := guestConfig(t, h, drv, dom); len(cfg.Disks) != 2 || cfg.Disks[1].PdevPath != "/var/lib/xen/b.img" {
		t.Fatalf("guest disks %+v", cfg.Disks)
	}
	status, _ := os.ReadFile(drv.statusPath("g"))
	if !strings.Contains(string(status), "b.img") {
		t.Fatalf("status file:\n%s", status)
	}
	if err := drv.DetachDevice(ctx, dom, newDisk, live|persist); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceRemoved, "xen-disk1")
	if strings.Contains(liveXML(t, drv, dom, 0), "xvdb") || strings.Contains(liveXML(t, drv, dom, inactive), "xvdb") {
		t.Fatal("xvdb stayed")
	}
	if cfg := guestConfig(t, h, drv, dom); len(cfg.Disks) != 1 {
		t.Fatalf("guest disks %+v", cfg.Disks)
	}
	err := drv.DetachDevice(ctx, dom, newDisk, live)
	wantErr(t, err, libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: disk xvdb not found")
	err = drv.DetachDevice(ctx, dom, newDisk, live|persist)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: no target device xvdb")
}

// TestDeviceRefusals: what libvirt's libxl driver refuses, with its words.
func TestDeviceRefusals(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.startDevices()
	dom := define(t, drv, "g", 1, pvDevices)
	stopped := define(t, drv, "s", 2, "")
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name  string
		dom   Domain
		xml   string
		flags uint32
		op    func(context.Context, Domain, string, uint32) error
		code  virerr.Code
		edom  virerr.Domain
		msg   string
	}{
		{"flags", dom, newDisk, 4, drv.AttachDevice, libvirt.ErrInvalidArg, virerr.FromLibxl,
			"unsupported flags (0x4) in function libxlDomainAttachDeviceFlags"},
		{"not running", stopped, newDisk, live, drv.AttachDevice, libvirt.ErrOperationInvalid, virerr.FromDomain,
			"Requested operation is not valid: domain is not running"},
		{"scsi bus", dom, `<disk type='file'><source file='/x'/><target dev='sdb'/></disk>`, live, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: disk bus 'scsi' cannot be hotplugged."},
		{"floppy", dom, `<disk type='file' device='floppy'><source file='/x'/><target dev='fda'/></disk>`, live, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: disk device type 'floppy' cannot be hotplugged"},
		{"target live", dom, `<disk type='file'><source file='/x'/><target dev='xvda'/></disk>`, live, drv.AttachDevice,
			libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: target xvda already exists"},
		{"target config", dom, `<disk type='file'><source file='/x'/><target dev='xvda'/></disk>`, persist, drv.AttachDevice,
			libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: target xvda already exists."},
		{"video", dom, `<video/>`, live, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: device type 'video' cannot be attached"},
		{"video config", dom, `<video/>`, persist, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: persistent attach of device is not supported"},
		{"serial detach", dom, `<serial type='pty'/>`, live, drv.DetachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: device type 'chr' cannot be detached"},
		{"mac", dom, `<interface type='bridge'><mac address='00:16:3e:00:00:01'/><source bridge='xenbr0'/></interface>`, live, drv.AttachDevice,
			libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: network device with mac 00:16:3e:00:00:01 already exists"},
		{"pv model", dom, `<interface type='bridge'><source bridge='xenbr0'/><model type='e1000'/></interface>`, live, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains"},
		{"no such mac", dom, `<interface type='bridge'><mac address='00:16:3e:00:00:09'/><source bridge='xenbr0'/></interface>`, live, drv.DetachDevice,
			libvirt.ErrDeviceMissing, virerr.FromDomain, "device not found: no device found at address '(<null>)' matching MAC address '00:16:3e:00:00:09' and alias '(<null>)'"},
		{"ide controller", dom, `<controller type='ide' index='1'/>`, live, drv.AttachDevice,
			libvirt.ErrOperationUnsupported, virerr.FromLibxl, "Operation not supported: 'ide' controller cannot be hot plugged."},
		{"cdrom detach", dom, `<disk type='file' device='cdrom'><target dev='hdc'/></disk>`, live, drv.DetachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: device type 'cdrom' cannot hot unplugged"},
		{"update disk", dom, `<disk type='file'><source file='/y'/><target dev='xvda'/></disk>`, live, drv.UpdateDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: disk bus 'xen' cannot be updated."},
		{"update config", dom, `<disk type='file' device='cdrom'><target dev='hdd'/></disk>`, persist, drv.UpdateDevice,
			libvirt.ErrInvalidArg, virerr.FromLibxl, "invalid argument: target hdd doesn't exist."},
		{"update interface", dom, `<interface type='bridge'><source bridge='xenbr0'/></interface>`, live, drv.UpdateDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: device type 'interface' cannot be updated"},
		{"usb config", dom, `<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>`, persist, drv.AttachDevice,
			libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: persistent attach of device is not supported"},
		{"usb missing", dom, `<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>`, live, drv.DetachDevice,
			libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: host USB device Busnum:   1, Devnum:   2 not found"},
		{"pci missing", dom, `<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='3' slot='0' function='1'/></source></hostdev>`, live, drv.DetachDevice,
			libvirt.ErrOperationFailed, virerr.FromLibxl, "operation failed: host pci device 0000:03:00.1 not found"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := c.op(ctx, c.dom, c.xml, c.flags)
			wantErr(t, err, c.code, c.edom, c.msg)
		})
	}
	wantErr(t, drv.AttachDevice(ctx, Domain{Name: Dom0Name}, newDisk, live), libvirt.ErrOperationInvalid, virerr.FromLibxl,
		"Requested operation is not valid: Domain-0 does not support requested operation")
}

// TestDetachNotAcknowledged: a guest that never lets the disk go keeps it,
// in the live definition too; the detach fails with libvirt's error after
// the timeout, and DEVICE_REMOVAL_FAILED names the disk.
func TestDetachNotAcknowledged(t *testing.T) {
	e := newEnv(t)
	drv, h := e.startDevices()
	dom := define(t, drv, "deaf", 1, pvDevices+`<metadata><sim:fault xmlns:sim="urn:virtxend:sim" detach="ignore"/></metadata>`)
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	ev := deviceWatcher(t, drv)
	if err := drv.AttachDevice(ctx, dom, newDisk, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceAdded, "xen-disk1")
	start := time.Now()
	err := drv.DetachDevice(ctx, dom, newDisk, live)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: libxenlight failed to detach disk 'xvdb'")
	if time.Since(start) < 300*time.Millisecond {
		t.Errorf("failed after %v, before the timeout", time.Since(start))
	}
	expectDeviceEvent(t, ev, events.IDDeviceRemovalFailed, "xen-disk1")
	if !strings.Contains(liveXML(t, drv, dom, 0), "xvdb") || len(guestConfig(t, h, drv, dom).Disks) != 2 {
		t.Fatal("the disk the guest kept left the live XML or the guest")
	}
	noDeviceEvent(t, ev)
}

// TestInterfaceNames: the live XML names every NIC's backend vifDOMID.N,
// at start and at hotplug (with the devid libxl chose); detached by MAC,
// the NIC goes; the inactive view shows no names.
func TestInterfaceNames(t *testing.T) {
	e := newEnv(t)
	drv, h := e.startDevices()
	dom := define(t, drv, "g", 1, pvDevices)
	ref, err := drv.Create(ctx, dom, 0)
	if err != nil {
		t.Fatal(err)
	}
	ev := deviceWatcher(t, drv)
	const nic = `<interface type='bridge'><mac address='00:16:3e:00:00:02'/><source bridge='xenbr0'/></interface>`
	if err := drv.AttachDevice(ctx, dom, nic, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceAdded, "net1")
	lx := liveXML(t, drv, dom, 0)
	for _, want := range []string{
		fmt.Sprintf("<target dev='vif%d.0'/>\n      <alias name='net0'/>", ref.ID),
		fmt.Sprintf("<target dev='vif%d.1'/>\n      <alias name='net1'/>", ref.ID),
	} {
		if !strings.Contains(lx, want) {
			t.Fatalf("live XML lacks %q:\n%s", want, lx)
		}
	}
	if strings.Contains(liveXML(t, drv, dom, inactive), "vif") {
		t.Fatal("the inactive view shows vif names")
	}
	if cfg := guestConfig(t, h, drv, dom); len(cfg.NICs) != 2 || cfg.NICs[1].DevID != 1 {
		t.Fatalf("guest NICs %+v", cfg.NICs)
	}
	if err := drv.DetachDevice(ctx, dom, `<interface type='bridge'><mac address='00:16:3E:00:00:02'/><source bridge='xenbr0'/></interface>`, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceRemoved, "net1")
	if strings.Contains(liveXML(t, drv, dom, 0), "00:16:3e:00:00:02") || len(guestConfig(t, h, drv, dom).NICs) != 1 {
		t.Fatal("the NIC stayed")
	}
}

const hvmDevices = `<domain type='xen'>
  <name>%s</name>
  <uuid>%02x345678-1234-1234-1234-123456789abc</uuid>
  <memory unit='MiB'>256</memory>
  <os><type arch='x86_64' machine='xenfv'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><source file='/var/lib/xen/a.img'/><target dev='hda'/></disk>
    <disk type='file' device='cdrom'><source file='/var/lib/xen/one.iso'/><target dev='hdc'/></disk>
  </devices>
</domain>`

// TestMediaChange: update-device changes and ejects an HVM guest's cdrom,
// live and in the config; no device event follows.
func TestMediaChange(t *testing.T) {
	e := newEnv(t)
	drv, h := e.startDevices()
	dom, err := drv.Define(ctx, fmt.Sprintf(hvmDevices, "h", 3), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	ev := deviceWatcher(t, drv)
	two := `<disk type='file' device='cdrom'><source file='/var/lib/xen/two.iso'/><target dev='hdc' bus='ide'/></disk>`
	if err := drv.UpdateDevice(ctx, dom, two, live|persist); err != nil {
		t.Fatal(err)
	}
	for _, flags := range []uint32{0, inactive} {
		if x := liveXML(t, drv, dom, flags); !strings.Contains(x, "two.iso") || strings.Contains(x, "one.iso") {
			t.Fatalf("after the change (flags %d):\n%s", flags, x)
		}
	}
	if cfg := guestConfig(t, h, drv, dom); cfg.Disks[1].PdevPath != "/var/lib/xen/two.iso" || cfg.Disks[1].IsCDROM != 1 {
		t.Fatalf("guest disks %+v", cfg.Disks)
	}
	eject := `<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/></disk>`
	if err := drv.UpdateDevice(ctx, dom, eject, live); err != nil {
		t.Fatal(err)
	}
	if x := liveXML(t, drv, dom, 0); strings.Contains(x, "two.iso") || !strings.Contains(liveXML(t, drv, dom, inactive), "two.iso") {
		t.Fatalf("after the eject:\n%s", x)
	}
	if cfg := guestConfig(t, h, drv, dom); cfg.Disks[1].PdevPath != "" || cfg.Disks[1].Format != "empty" {
		t.Fatalf("guest disks %+v", cfg.Disks)
	}
	noDeviceEvent(t, ev)
	err = drv.UpdateDevice(ctx, dom, `<disk type='file' device='cdrom'><target dev='hda' bus='ide'/></disk>`, live)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: Removable media not supported for cdrom device")
}

// TestUSBHotplug: a USB host device attached to an HVM guest with no USB
// controller gets one (8 ports, alias usb), then the device (hostdev0);
// detaching the device and then the controller leaves neither.
func TestUSBHotplug(t *testing.T) {
	e := newEnv(t)
	drv, h := e.startDevices()
	dom, err := drv.Define(ctx, fmt.Sprintf(hvmDevices, "h", 3), 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	ev := deviceWatcher(t, drv)
	usb := `<hostdev mode='subsystem' type='usb'><source><address bus='1' device='2'/></source></hostdev>`
	if err := drv.AttachDevice(ctx, dom, usb, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceAdded, "hostdev0")
	lx := liveXML(t, drv, dom, 0)
	if !strings.Contains(lx, "<controller type='usb' index='0' model='qusb2' ports='8'>\n      <alias name='usb'/>") ||
		!strings.Contains(lx, "<alias name='hostdev0'/>") {
		t.Fatalf("live XML:\n%s", lx)
	}
	cfg := guestConfig(t, h, drv, dom)
	if len(cfg.USBCtrls) != 1 || len(cfg.USBDevs) != 1 || cfg.USBDevs[0].HostDev.HostBus != 1 || cfg.USBDevs[0].HostDev.HostAddr != 2 {
		t.Fatalf("guest USB %+v %+v", cfg.USBCtrls, cfg.USBDevs)
	}
	err = drv.AttachDevice(ctx, dom, usb, live)
	wantErr(t, err, libvirt.ErrInternalError, virerr.FromLibxl, "internal error: libxenlight failed to attach usb device Busnum:  1, Devnum:  2")
	if err := drv.DetachDevice(ctx, dom, usb, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceRemoved, "hostdev0")
	if err := drv.DetachDevice(ctx, dom, `<controller type='usb' index='0'/>`, live); err != nil {
		t.Fatal(err)
	}
	expectDeviceEvent(t, ev, events.IDDeviceRemoved, "usb")
	if cfg := guestConfig(t, h, drv, dom); len(cfg.USBCtrls) != 0 || len(cfg.USBDevs) != 0 {
		t.Fatalf("guest USB %+v %+v", cfg.USBCtrls, cfg.USBDevs)
	}
}

// TestDevicesSurviveRestart: what was attached live is in the live
// definition the next driver loads, and what was attached to the config
// in its config.
func TestDevicesSurviveRestart(t *testing.T) {
	e := newEnv(t)
	drv, _ := e.startDevices()
	dom := define(t, drv, "g", 1, pvDevices)
	if _, err := drv.Create(ctx, dom, 0); err != nil {
		t.Fatal(err)
	}
	if err := drv.AttachDevice(ctx, dom, newDisk, live); err != nil {
		t.Fatal(err)
	}
	cd := `<disk type='file' device='disk'><source file='/var/lib/xen/c.img'/><target dev='xvdc'/></disk>`
	if err := drv.AttachDevice(ctx, dom, cd, persist); err != nil {
		t.Fatal(err)
	}
	drv.Close()
	drv2, _ := e.startDevices()
	lx, px := liveXML(t, drv2, dom, 0), liveXML(t, drv2, dom, inactive)
	if !strings.Contains(lx, "b.img") || strings.Contains(lx, "c.img") || strings.Contains(px, "b.img") || !strings.Contains(px, "c.img") {
		t.Fatalf("live:\n%s\npersistent:\n%s", lx, px)
	}
}
