package daemontest

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"testing"
)

// A PCI fixture is a host's PCI devices as sysfs shows them, written into
// a directory FIX with sysfs's layout below /sys:
//
//	FIX/devices/pci0000:00/uevent
//	FIX/devices/pci0000:00/0000:00:03.0/{config,vendor,device,class,uevent,...}
//	FIX/devices/pci0000:00/0000:00:03.0/subsystem -> ../../../bus/pci
//	FIX/devices/pci0000:00/0000:00:03.0/driver -> ../../../bus/pci/drivers/e1000e
//	FIX/devices/pci0000:00/0000:00:1e.0/0000:01:00.0/...  (behind a bridge)
//	FIX/bus/pci/devices/0000:00:03.0 -> ../../../devices/pci0000:00/0000:00:03.0
//	FIX/bus/pci/drivers/e1000e/{bind,unbind,new_id,remove_id,uevent}
//	FIX/bus/pci/drivers/e1000e/0000:00:03.0 -> ../../../../devices/pci0000:00/0000:00:03.0
//	FIX/bus/pci/{drivers_probe,drivers_autoprobe,rescan,uevent,slots/}
//
// Every link is relative, so it resolves the same in the fixture and where
// scripts/libvirtd-beside mounts it (FIX/bus/pci over /sys/bus/pci,
// FIX/devices/pciDDDD:BB over /sys/devices/pciDDDD:BB). Nothing of a real
// device is ever read or written.

// The default fixture's devices (DefaultPCIFixture): a small server with
// Intel's C220 chipset, each device there for one of the reset rules of
// libvirt's virPCIDeviceReset (src/util/virpci.c). Their node device names
// are "pci_" and the address with '_' for ':' and '.'.
const (
	// PCIHostBridge is the host bridge (DRAM controller, class 0x060000):
	// no driver, no capabilities.
	PCIHostBridge = "0000:00:00.0"
	// PCINIC is a PCI Express endpoint NIC (82574L) bound to e1000e, with
	// function level reset.
	PCINIC = "0000:00:03.0"
	// PCIAudio is a conventional PCI endpoint bound to snd_hda_intel, with
	// power-management reset (a PM capability without NO_SOFT_RESET).
	PCIAudio = "0000:00:1b.0"
	// PCISMBus is an endpoint on the root bus bound to i801_smbus with
	// neither FLR nor a PM capability: it cannot be reset.
	PCISMBus = "0000:00:1f.3"
	// PCIBridge is a PCI-to-PCI bridge (header type 1, secondary and
	// subordinate bus 1) with PCILegacyNIC and PCISerial behind it.
	PCIBridge = "0000:00:1e.0"
	// PCILegacyNIC is a conventional NIC (82541PI) behind PCIBridge, bound
	// to e1000, whose PM capability has NO_SOFT_RESET set: only a
	// secondary bus reset resets it.
	PCILegacyNIC = "0000:01:00.0"
	// PCISerial is a serial card (NetMos 9835) behind PCIBridge, bound to
	// no driver, without capabilities: only a secondary bus reset.
	PCISerial = "0000:01:01.0"
)

// PCIReset is how libvirt's virPCIDeviceReset resets a device: what a
// fixture expects of each of its devices.
type PCIReset string

const (
	// ResetFLR: function level reset, advertised in the PCI Express
	// capability's DEVCAP (bit 28).
	ResetFLR PCIReset = "flr"
	// ResetPM: a D3hot to D0 transition, through a power-management
	// capability whose PMCSR lacks NO_SOFT_RESET.
	ResetPM PCIReset = "pm"
	// ResetBus: a secondary bus reset through the bridge the device sits
	// behind. libvirt refuses it while another device on the same bus is
	// active, that is, is not among the devices being reset together.
	ResetBus PCIReset = "bus"
	// ResetNone: none of them; on the root bus there is no bus to reset.
	// libvirt fails with "no FLR, PM reset or bus reset available".
	ResetNone PCIReset = "none"
	// ResetNotEndpoint: a bridge (header type 1); libvirt refuses:
	// "Only PCI endpoint devices can be reset".
	ResetNotEndpoint PCIReset = "not-endpoint"
)

// PCIDevice is one device of a fixture. Its config space is built from
// these fields (Config).
type PCIDevice struct {
	// Addr is the device's sysfs name, "0000:00:03.0".
	Addr string
	// Parent is the address of the bridge the device sits behind: its
	// directory is nested in the bridge's, and its bus is the bridge's
	// Secondary. "" for a device on the root bus.
	Parent string

	Vendor, Device       uint16
	SubVendor, SubDevice uint16
	// Class is the 24-bit class code (base class, subclass, prog-if):
	// 0x020000 is an Ethernet controller, 0x0604xx a PCI-to-PCI bridge.
	Class    uint32
	Revision uint8
	// Driver is the driver the device is bound to, "" when none is.
	Driver string
	// IRQ is its legacy interrupt (INTA), 0 when it has none.
	IRQ int

	// PCIe gives the device a PCI Express capability (an endpoint, or a
	// root port for a bridge on the root bus, a downstream port behind
	// one), a 4096-byte config space with an AER extended capability, and
	// a 2.5 GT/s x1 link.
	PCIe bool
	// FLR sets Function Level Reset in the PCI Express DEVCAP.
	FLR bool
	// PM gives it a power-management capability; NoSoftReset sets
	// NO_SOFT_RESET in its PMCSR (D3hot to D0 keeps the device's state).
	PM, NoSoftReset bool
	// MSI gives it an MSI capability.
	MSI bool
	// Secondary and Subordinate are a bridge's bus numbers; Class
	// 0x0604xx makes the device a bridge (header type 1).
	Secondary, Subordinate uint8

	// Reset is what libvirt's reset does with the device.
	Reset PCIReset
}

// PCIFixture is a host's PCI devices.
type PCIFixture struct {
	Devices []PCIDevice
	// Drivers are drivers registered with no device bound
	// (bus/pci/drivers/NAME exists); those devices are bound to are
	// registered anyway.
	Drivers []string
}

// DefaultPCIFixture is the fixture of the PCI* constants.
func DefaultPCIFixture() PCIFixture {
	const board = 0x15d9 // the onboard devices' subsystem vendor
	return PCIFixture{Devices: []PCIDevice{
		{Addr: PCIHostBridge, Vendor: 0x8086, Device: 0x0c08, SubVendor: board, SubDevice: 0x0805,
			Class: 0x060000, Revision: 0x06, Reset: ResetNone},
		{Addr: PCINIC, Vendor: 0x8086, Device: 0x10d3, SubVendor: 0x8086, SubDevice: 0xa01f,
			Class: 0x020000, Driver: "e1000e", IRQ: 16,
			PCIe: true, FLR: true, PM: true, MSI: true, Reset: ResetFLR},
		{Addr: PCIAudio, Vendor: 0x8086, Device: 0x8c20, SubVendor: board, SubDevice: 0x0805,
			Class: 0x040300, Revision: 0x05, Driver: "snd_hda_intel", IRQ: 22,
			PM: true, MSI: true, Reset: ResetPM},
		{Addr: PCIBridge, Vendor: 0x8086, Device: 0x244e, SubVendor: board, SubDevice: 0x0805,
			Class: 0x060401, Revision: 0xd5, Secondary: 1, Subordinate: 1, Reset: ResetNotEndpoint},
		{Addr: PCISMBus, Vendor: 0x8086, Device: 0x8c22, SubVendor: board, SubDevice: 0x0805,
			Class: 0x0c0500, Revision: 0x05, Driver: "i801_smbus", IRQ: 18, Reset: ResetNone},
		{Addr: PCILegacyNIC, Parent: PCIBridge, Vendor: 0x8086, Device: 0x107c, SubVendor: 0x8086, SubDevice: 0x1376,
			Class: 0x020000, Revision: 0x05, Driver: "e1000", IRQ: 17,
			PM: true, NoSoftReset: true, Reset: ResetBus},
		{Addr: PCISerial, Parent: PCIBridge, Vendor: 0x9710, Device: 0x9835, SubVendor: 0x1000, SubDevice: 0x0012,
			Class: 0x070002, Revision: 0x01, IRQ: 19, Reset: ResetBus},
	}}
}

// NewPCIFixture writes the default fixture into root/pci and returns that
// directory: the FIX of StartLibvirtdWithPCI.
func NewPCIFixture(t testing.TB, root string) string {
	t.Helper()
	fix := filepath.Join(root, "pci")
	if err := DefaultPCIFixture().Write(fix); err != nil {
		t.Fatal(err)
	}
	return fix
}

// Device is the fixture's device at addr.
func (f PCIFixture) Device(addr string) (PCIDevice, bool) {
	for _, d := range f.Devices {
		if d.Addr == addr {
			return d, true
		}
	}
	return PCIDevice{}, false
}

// NodeDevNames are the node device names of the fixture's devices, sorted
// as virsh nodedev-list prints them.
func (f PCIFixture) NodeDevNames() []string {
	var names []string
	for _, d := range f.Devices {
		names = append(names, d.NodeDevName())
	}
	sort.Strings(names)
	return names
}

// NodeDevName is the node device driver's name of the device:
// "pci_0000_00_03_0".
func (d PCIDevice) NodeDevName() string { return PCINodeDevName(d.Addr) }

// PCINodeDevName is the node device driver's name of the device at addr
// ("0000:00:03.0"): "pci_0000_00_03_0".
func PCINodeDevName(addr string) string {
	a, _ := parsePCIAddr(addr)
	return fmt.Sprintf("pci_%04x_%02x_%02x_%x", a.domain, a.bus, a.slot, a.function)
}

// IsBridge says whether the device is a PCI-to-PCI bridge (class 0x0604xx).
func (d PCIDevice) IsBridge() bool { return d.Class>>8 == 0x0604 }

// pciAddr is a parsed "DDDD:BB:SS.F".
type pciAddr struct{ domain, bus, slot, function uint }

func parsePCIAddr(s string) (pciAddr, error) {
	var a pciAddr
	var rest string
	n, _ := fmt.Sscanf(s, "%04x:%02x:%02x.%1x%s", &a.domain, &a.bus, &a.slot, &a.function, &rest)
	if n != 4 || a.bus > 0xff || a.slot > 0x1f || a.function > 7 ||
		s != fmt.Sprintf("%04x:%02x:%02x.%x", a.domain, a.bus, a.slot, a.function) {
		return pciAddr{}, fmt.Errorf("malformed PCI address %q: want DDDD:BB:SS.F in lower-case hex", s)
	}
	return a, nil
}

// Write writes the fixture into dir (FIX), which it creates if need be.
func (f PCIFixture) Write(dir string) error {
	paths, err := f.devicePaths()
	if err != nil {
		return err
	}
	bus := filepath.Join(dir, "bus", "pci")
	for _, sub := range []string{"devices", "drivers", "slots"} {
		if err := os.MkdirAll(filepath.Join(bus, sub), 0o755); err != nil {
			return err
		}
	}
	w := &fixtureWriter{}
	w.file(filepath.Join(bus, "drivers_autoprobe"), 0o644, "1\n")
	for _, name := range []string{"drivers_probe", "rescan", "uevent", "resource_alignment"} {
		w.file(filepath.Join(bus, name), 0o200, "")
	}
	for _, drv := range f.Drivers {
		w.driver(bus, drv)
	}
	for _, d := range f.Devices {
		devDir := filepath.Join(dir, "devices", paths[d.Addr])
		// A root bus's directory (pci0000:00) is a device of its own.
		w.file(filepath.Join(dir, "devices", rootOf(paths[d.Addr]), "uevent"), 0o644, "")
		w.device(d, devDir, bus, f.enabled(d))
		w.link(filepath.Join(bus, "devices", d.Addr), devDir)
		if d.Driver != "" {
			w.driver(bus, d.Driver)
			w.link(filepath.Join(bus, "drivers", d.Driver, d.Addr), devDir)
		}
	}
	return w.err
}

// devicePaths is each device's directory below FIX/devices,
// "pci0000:00/0000:00:1e.0/0000:01:00.0", after checking that the devices
// form a tree as sysfs has it.
func (f PCIFixture) devicePaths() (map[string]string, error) {
	byAddr := map[string]PCIDevice{}
	for _, d := range f.Devices {
		if _, err := parsePCIAddr(d.Addr); err != nil {
			return nil, err
		}
		if _, dup := byAddr[d.Addr]; dup {
			return nil, fmt.Errorf("PCI fixture: %s twice", d.Addr)
		}
		byAddr[d.Addr] = d
	}
	paths := map[string]string{}
	var walk func(d PCIDevice, depth int) (string, error)
	walk = func(d PCIDevice, depth int) (string, error) {
		if p, ok := paths[d.Addr]; ok {
			return p, nil
		}
		a, _ := parsePCIAddr(d.Addr)
		if d.Parent == "" {
			p := filepath.Join(fmt.Sprintf("pci%04x:%02x", a.domain, a.bus), d.Addr)
			paths[d.Addr] = p
			return p, nil
		}
		parent, ok := byAddr[d.Parent]
		if !ok || !parent.IsBridge() || depth > len(f.Devices) {
			return "", fmt.Errorf("PCI fixture: %s is behind %s, which is not a bridge of the fixture", d.Addr, d.Parent)
		}
		if pa, _ := parsePCIAddr(parent.Addr); pa.domain != a.domain || uint(parent.Secondary) != a.bus {
			return "", fmt.Errorf("PCI fixture: %s is behind %s, whose secondary bus is %02x", d.Addr, d.Parent, parent.Secondary)
		}
		pp, err := walk(parent, depth+1)
		if err != nil {
			return "", err
		}
		paths[d.Addr] = filepath.Join(pp, d.Addr)
		return paths[d.Addr], nil
	}
	for _, d := range f.Devices {
		if _, err := walk(d, 0); err != nil {
			return nil, err
		}
	}
	return paths, nil
}

// rootOf is the root bus directory of a device path: "pci0000:00".
func rootOf(path string) string {
	for filepath.Dir(path) != "." {
		path = filepath.Dir(path)
	}
	return path
}

// enabled says whether the kernel has the device enabled (its enable
// file): a bound driver enables it, and enabling a device enables the
// bridges above it.
func (f PCIFixture) enabled(d PCIDevice) bool {
	if d.Driver != "" {
		return true
	}
	for _, c := range f.Devices {
		if c.Parent == d.Addr && f.enabled(c) {
			return true
		}
	}
	return false
}

// fixtureWriter writes files and links, keeping the first error.
type fixtureWriter struct{ err error }

func (w *fixtureWriter) file(path string, mode os.FileMode, content string) {
	if w.err == nil {
		w.err = os.WriteFile(path, []byte(content), mode)
	}
}

// link makes path a relative symbolic link to target (an absolute path).
func (w *fixtureWriter) link(path, target string) {
	if w.err != nil {
		return
	}
	rel, err := filepath.Rel(filepath.Dir(path), target)
	if err == nil {
		os.Remove(path)
		err = os.Symlink(rel, path)
	}
	w.err = err
}

// driver registers a driver: its directory with the files the kernel
// gives a PCI driver.
func (w *fixtureWriter) driver(bus, name string) {
	dir := filepath.Join(bus, "drivers", name)
	if _, err := os.Stat(dir); err == nil || w.err != nil {
		return
	}
	if w.err = os.MkdirAll(dir, 0o755); w.err != nil {
		return
	}
	for _, f := range []string{"bind", "unbind", "new_id", "remove_id", "uevent"} {
		w.file(filepath.Join(dir, f), 0o200, "")
	}
}

// device writes one device's directory: its attributes as the kernel
// formats them, its config space, and its subsystem and driver links.
func (w *fixtureWriter) device(d PCIDevice, dir, bus string, enabled bool) {
	if w.err = os.MkdirAll(dir, 0o755); w.err != nil {
		return
	}
	hex16 := func(v uint16) string { return fmt.Sprintf("0x%04x\n", v) }
	modalias := fmt.Sprintf("pci:v%08Xd%08Xsv%08Xsd%08Xbc%02Xsc%02Xi%02X",
		d.Vendor, d.Device, d.SubVendor, d.SubDevice, byte(d.Class>>16), byte(d.Class>>8), byte(d.Class))
	uevent := ""
	if d.Driver != "" {
		uevent = "DRIVER=" + d.Driver + "\n"
	}
	uevent += fmt.Sprintf("PCI_CLASS=%04X\nPCI_ID=%04X:%04X\nPCI_SUBSYS_ID=%04X:%04X\nPCI_SLOT_NAME=%s\nMODALIAS=%s\n",
		d.Class, d.Vendor, d.Device, d.SubVendor, d.SubDevice, d.Addr, modalias)
	enable := "0\n"
	if enabled {
		enable = "1\n"
	}
	files := []struct {
		name    string
		mode    os.FileMode
		content string
	}{
		{"vendor", 0o444, hex16(d.Vendor)},
		{"device", 0o444, hex16(d.Device)},
		{"subsystem_vendor", 0o444, hex16(d.SubVendor)},
		{"subsystem_device", 0o444, hex16(d.SubDevice)},
		{"class", 0o444, fmt.Sprintf("0x%06x\n", d.Class)},
		{"revision", 0o444, fmt.Sprintf("0x%02x\n", d.Revision)},
		{"config", 0o644, string(d.Config())},
		{"irq", 0o444, fmt.Sprintf("%d\n", d.IRQ)},
		{"numa_node", 0o644, "-1\n"},
		{"enable", 0o644, enable},
		{"driver_override", 0o644, "(null)\n"},
		{"modalias", 0o444, modalias + "\n"},
		{"uevent", 0o644, uevent},
		{"remove", 0o200, ""},
		{"rescan", 0o200, ""},
	}
	for _, f := range files {
		w.file(filepath.Join(dir, f.name), f.mode, f.content)
	}
	if d.IsBridge() {
		w.file(filepath.Join(dir, "secondary_bus_number"), 0o444, fmt.Sprintf("%d\n", d.Secondary))
		w.file(filepath.Join(dir, "subordinate_bus_number"), 0o444, fmt.Sprintf("%d\n", d.Subordinate))
	}
	w.link(filepath.Join(dir, "subsystem"), bus)
	if d.Driver != "" {
		w.link(filepath.Join(dir, "driver"), filepath.Join(bus, "drivers", d.Driver))
	}
}
