package drivertests

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// PCI passthrough on the simulated host, with stock virsh: the node device
// procedures and guests with <hostdev> PCI devices. libvirtd beside the
// daemon serves the node device driver over a fixture PCI tree
// (daemontest.DefaultPCIFixture), which the simulated host reads too, so
// both see the same devices on any machine, and no real device is touched.

// startPCI starts libvirtd over the fixture and the daemon whose simulated
// host has the fixture's devices.
func startPCI(t *testing.T) *daemontest.Daemon {
	t.Helper()
	root := daemontest.NewRoot(t)
	fix := daemontest.NewPCIFixture(t, root)
	daemontest.StartLibvirtdWithPCI(t, root, fix)
	daemontest.WriteFile(t, root, "etc/libvirt/libxl.conf", `sim_pci_sysfs = "`+filepath.Join(fix, "bus", "pci")+`"`+"\n")
	return daemontest.Start(t, root)
}

// pciGuest is a PV guest with PCI host devices: each of addrs ("0000:00:03.0")
// managed or not.
func pciGuest(name string, managed bool, addrs ...string) string {
	m := "no"
	if managed {
		m = "yes"
	}
	var devs strings.Builder
	for _, a := range addrs {
		devs.WriteString(hostdevXML(a, m))
	}
	return guestXML(name, "<devices>"+devs.String()+"</devices>")
}

func hostdevXML(addr, managed string) string {
	dom, rest, _ := strings.Cut(addr, ":")
	bus, rest, _ := strings.Cut(rest, ":")
	slot, fn, _ := strings.Cut(rest, ".")
	return `<hostdev mode='subsystem' type='pci' managed='` + managed + `'><source><address domain='0x` + dom +
		`' bus='0x` + bus + `' slot='0x` + slot + `' function='0x` + fn + `'/></source></hostdev>`
}

// simBinding is the simulated host's binding of a PCI device: the driver
// it is bound to now, as host.json keeps it once the daemon changed it.
func simBinding(t *testing.T, d *daemontest.Daemon, addr string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Paths.SimHostDir(), "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	var host struct {
		PCI map[string]struct {
			Driver string `json:"driver"`
		} `json:"pci"`
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatal(err)
	}
	bd, ok := host.PCI[addr]
	if !ok {
		if dev, ok := daemontest.DefaultPCIFixture().Device(addr); ok {
			return dev.Driver // never changed
		}
	}
	return bd.Driver
}

func wantFail(t *testing.T, r daemontest.Result, text string) {
	t.Helper()
	if r.Code == 0 || !strings.Contains(r.Stderr, text) {
		t.Fatalf("want a failure saying %q; exit %d\n%s%s", text, r.Code, r.Stdout, r.Stderr)
	}
}

func TestNodeDeviceDetachReattachReset(t *testing.T) {
	d := startPCI(t)
	list := d.MustVirsh("nodedev-list", "--cap", "pci")
	for _, n := range daemontest.DefaultPCIFixture().NodeDevNames() {
		if !strings.Contains(list, n) {
			t.Fatalf("nodedev-list lacks %s:\n%s", n, list)
		}
	}
	nic := daemontest.PCINodeDevName(daemontest.PCINIC)
	d.MustVirsh("nodedev-detach", nic)
	if got := simBinding(t, d, daemontest.PCINIC); got != "pciback" {
		t.Fatalf("detached NIC is on %q, want pciback", got)
	}
	d.MustVirsh("nodedev-detach", nic) // already there: a no-op, as libvirt's
	d.MustVirsh("nodedev-reset", nic)  // FLR: the device resets itself
	d.MustVirsh("nodedev-reattach", nic)
	if got := simBinding(t, d, daemontest.PCINIC); got != "e1000e" {
		t.Fatalf("reattached NIC is on %q, want e1000e", got)
	}
	wantFail(t, d.Virsh("nodedev-detach", nic, "--driver", "vfio"), "invalid argument: unsupported driver name 'vfio'")
	wantFail(t, d.Virsh("nodedev-detach", "pci_0000_09_00_0"), "no node device with matching name 'pci_0000_09_00_0'")
	wantFail(t, d.Virsh("nodedev-detach", "computer"), "invalid argument: device computer is not a PCI device")

	d.MustVirsh("nodedev-reset", daemontest.PCINodeDevName(daemontest.PCIAudio)) // PM reset
	wantFail(t, d.Virsh("nodedev-reset", daemontest.PCINodeDevName(daemontest.PCISMBus)),
		"internal error: Unable to reset PCI device 0000:00:1f.3: no FLR, PM reset or bus reset available")
	wantFail(t, d.Virsh("nodedev-reset", daemontest.PCINodeDevName(daemontest.PCIBridge)),
		"Invalid attempt to reset PCI device 0000:00:1e.0. Only PCI endpoint devices can be reset")
	// A bus reset is refused while another device of its bus is the
	// host's, and done once that one is detached for guests too.
	legacy := daemontest.PCINodeDevName(daemontest.PCILegacyNIC)
	wantFail(t, d.Virsh("nodedev-reset", legacy), "Active 0000:01:01.0 devices on bus with 0000:01:00.0, not doing bus reset")
	d.MustVirsh("nodedev-detach", daemontest.PCINodeDevName(daemontest.PCISerial))
	d.MustVirsh("nodedev-reset", legacy)
}

func TestManagedHostdevFollowsTheGuest(t *testing.T) {
	d := startPCI(t)
	defineStart(t, d, "pt1", pciGuest("pt1", true, daemontest.PCINIC))
	if got := simBinding(t, d, daemontest.PCINIC); got != "pciback" {
		t.Fatalf("running guest's NIC is on %q, want pciback", got)
	}
	// The same device refused to a second guest, and to the host.
	define(t, d, "pt2", pciGuest("pt2", true, daemontest.PCINIC))
	wantFail(t, d.Virsh("start", "pt2"), "Requested operation is not valid: PCI device 0000:00:03.0 is in use by driver xenlight, domain pt1")
	nic := daemontest.PCINodeDevName(daemontest.PCINIC)
	wantFail(t, d.Virsh("nodedev-reattach", nic), "PCI device 0000:00:03.0 is in use by driver xenlight, domain pt1")
	wantFail(t, d.Virsh("nodedev-reset", nic), "Not resetting active device 0000:00:03.0")

	d.MustVirsh("destroy", "pt1")
	if got := simBinding(t, d, daemontest.PCINIC); got != "e1000e" {
		t.Fatalf("destroyed guest's NIC is on %q, want e1000e back", got)
	}
	d.MustVirsh("start", "pt2")
	d.MustVirsh("shutdown", "pt2")
	d.WaitState("pt2", "shut off (shutdown)")
	// As with libvirt's driver, the state reads "shut off" from the moment
	// the guest is seen gone; the device goes back in the cleanup after
	// libxl's destroy, within the same job, so wait for it.
	if got := waitBinding(t, d, daemontest.PCINIC, "e1000e"); got != "e1000e" {
		t.Fatalf("shut-down guest's NIC is on %q, want e1000e back", got)
	}
}

// waitBinding returns the driver of the simulated device at addr once it
// is want, or what it is after a minute.
func waitBinding(t *testing.T, d *daemontest.Daemon, addr, want string) string {
	t.Helper()
	got := ""
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got = simBinding(t, d, addr); got == want {
			break
		}
	}
	return got
}

func TestUnmanagedHostdevNeedsDetach(t *testing.T) {
	d := startPCI(t)
	define(t, d, "um", pciGuest("um", false, daemontest.PCIAudio))
	wantFail(t, d.Virsh("start", "um"), "Unmanaged PCI device 0000:00:1b.0 must be manually detached from the host")
	audio := daemontest.PCINodeDevName(daemontest.PCIAudio)
	d.MustVirsh("nodedev-detach", audio)
	d.MustVirsh("start", "um")
	d.MustVirsh("destroy", "um")
	if got := simBinding(t, d, daemontest.PCIAudio); got != "pciback" {
		t.Fatalf("an unmanaged device went to %q at the guest's stop; it stays detached", got)
	}
	d.MustVirsh("nodedev-reattach", audio)
	if got := simBinding(t, d, daemontest.PCIAudio); got != "snd_hda_intel" {
		t.Fatalf("reattached audio is on %q", got)
	}
}

func TestHostdevHotplug(t *testing.T) {
	d := startPCI(t)
	path := daemontest.WriteFile(t, t.TempDir(), "nic.xml", hostdevXML(daemontest.PCINIC, "yes"))
	// Xen gives a guest PCI devices later only when it was created with
	// an IOMMU context: one with PCI devices at its start, or one that
	// asks for it (libxl's passthrough).
	defineStart(t, d, "nopt", guestXML("nopt", ""))
	wantFail(t, d.Virsh("attach-device", "nopt", path, "--live"), "internal error: libxenlight failed to attach pci device 0000:00:03.0")
	if got := simBinding(t, d, daemontest.PCINIC); got != "e1000e" {
		t.Fatalf("a failed hotplug left the NIC on %q", got)
	}
	passthrough := "<features><xen><passthrough state='on'/></xen></features>"
	defineStart(t, d, "hp", guestXML("hp", passthrough))
	d.MustVirsh("attach-device", "hp", path, "--live")
	if got := simBinding(t, d, daemontest.PCINIC); got != "pciback" {
		t.Fatalf("hotplugged NIC is on %q", got)
	}
	if x := d.MustVirsh("dumpxml", "hp"); !strings.Contains(x, "<alias name='hostdev0'/>") {
		t.Fatalf("live XML lacks the hostdev:\n%s", x)
	}
	defineStart(t, d, "hp2", guestXML("hp2", passthrough))
	wantFail(t, d.Virsh("attach-device", "hp2", path, "--live"), "PCI device 0000:00:03.0 is in use by driver xenlight, domain hp")
	d.MustVirsh("detach-device", "hp", path, "--live")
	if got := simBinding(t, d, daemontest.PCINIC); got != "e1000e" {
		t.Fatalf("unplugged NIC is on %q", got)
	}
	d.MustVirsh("attach-device", "hp2", path, "--live")
}

// A daemon restart keeps who holds what; a guest that stopped while the
// daemon was down gets its device back at the next start.
func TestHostdevsSurviveRestart(t *testing.T) {
	d := startPCI(t)
	defineStart(t, d, "r1", pciGuest("r1", true, daemontest.PCINIC))
	defineStart(t, d, "r2", pciGuest("r2", true, daemontest.PCIAudio))
	d.Signal(syscall.SIGKILL)
	d.Wait(bound)
	daemontest.SimXL(t, d.Root, "destroy", "r2")
	d = daemontest.Start(t, d.Root)
	define(t, d, "r3", pciGuest("r3", true, daemontest.PCINIC))
	wantFail(t, d.Virsh("start", "r3"), "PCI device 0000:00:03.0 is in use by driver xenlight, domain r1")
	if got := simBinding(t, d, daemontest.PCIAudio); got != "snd_hda_intel" {
		t.Fatalf("the device of the guest destroyed while the daemon was down is on %q", got)
	}
	define(t, d, "r4", pciGuest("r4", true, daemontest.PCIAudio))
	d.MustVirsh("start", "r4")
}

// A USB host device is one guest's at a time, at start and at hotplug, and
// free again once that guest stops.
func TestUSBHostdevOneGuestAtATime(t *testing.T) {
	d := startPCI(t)
	usb := `<hostdev mode='subsystem' type='usb'><source><address bus='1' device='4'/></source></hostdev>`
	defineStart(t, d, "u1", guestXML("u1", "<devices>"+usb+"</devices>"))
	define(t, d, "u2", guestXML("u2", "<devices>"+usb+"</devices>"))
	wantFail(t, d.Virsh("start", "u2"), "Requested operation is not valid: USB device 001:004 is in use by driver xenlight, domain u1")
	defineStart(t, d, "u3", guestXML("u3", ""))
	path := daemontest.WriteFile(t, t.TempDir(), "usb.xml", usb)
	wantFail(t, d.Virsh("attach-device", "u3", path, "--live"), "USB device 001:004 is in use by driver xenlight, domain u1")
	d.MustVirsh("destroy", "u1")
	d.MustVirsh("attach-device", "u3", path, "--live")
	wantFail(t, d.Virsh("start", "u2"), "USB device 001:004 is in use by driver xenlight, domain u3")
	d.MustVirsh("detach-device", "u3", path, "--live")
	d.MustVirsh("start", "u2")
}
