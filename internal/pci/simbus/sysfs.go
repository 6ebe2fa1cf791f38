package simbus

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"virtxend/internal/pci"
)

// FromSysfs fills a bus from a sysfs tree laid out as /sys/bus/pci is:
// devices/ADDR/{config,vendor,device,class,driver_override}, a driver
// symlink into drivers/NAME, a physfn link for a VF, and the drivers/
// directory for the registered drivers. It only reads the tree, so it may
// be pointed at the host's real /sys/bus/pci to simulate this host.
//
// A device's native driver is the one it is bound to, unless that is a
// stub driver, which says nothing of the host's driver for it (the device
// then goes back to no driver when released, as it would on a host
// without one).
func FromSysfs(root string) (*Bus, error) {
	b := New()
	drivers, err := os.ReadDir(filepath.Join(root, "drivers"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	for _, e := range drivers {
		b.drivers[e.Name()] = true
	}
	entries, err := os.ReadDir(filepath.Join(root, "devices"))
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		a, err := pci.ParseAddr(e.Name())
		if err != nil {
			continue // sysfs has only devices there; libvirt skips others too
		}
		d, err := readDevice(filepath.Join(root, "devices", e.Name()))
		if err != nil {
			return nil, err
		}
		b.Add(a, d)
	}
	return b, nil
}

// stubs are the drivers that bind a device only when told to: libvirt's
// two and the kernel's own pci-stub.
var stubs = map[string]bool{"pciback": true, "vfio-pci": true, "pci-stub": true}

// readDevice reads one device's directory.
func readDevice(dir string) (Device, error) {
	cfg, err := readConfig(dir)
	if err != nil {
		return Device{}, err
	}
	d := Device{Config: cfg}
	if link, err := os.Readlink(filepath.Join(dir, "driver")); err == nil {
		d.Driver = filepath.Base(link)
	}
	if !stubs[d.Driver] {
		d.Native = d.Driver
	}
	if o, err := os.ReadFile(filepath.Join(dir, "driver_override")); err == nil {
		if s := strings.TrimSpace(string(o)); s != "(null)" {
			d.Override = s
		}
	}
	_, err = os.Lstat(filepath.Join(dir, "physfn"))
	d.VF = err == nil
	return d, nil
}

// readConfig reads the config file. A reader without CAP_SYS_ADMIN gets
// only 64 bytes of it; the rest, as long as the file says it is, reads as
// zeros. A tree that has only the vendor, device and class files (a
// hand-made fixture) gets a config space holding those.
func readConfig(dir string) ([]byte, error) {
	cfg, err := os.ReadFile(filepath.Join(dir, "config"))
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, err
	}
	size := 256
	if fi, err := os.Stat(filepath.Join(dir, "config")); err == nil && fi.Size() > int64(size) {
		size = int(fi.Size())
	}
	if len(cfg) < size {
		cfg = append(cfg, make([]byte, size-len(cfg))...)
	}
	if cfg[0] == 0 && cfg[1] == 0 {
		if err := idsFromFiles(dir, cfg); err != nil {
			return nil, err
		}
	}
	return cfg, nil
}

// idsFromFiles fills the ids and class from sysfs's vendor, device and
// class files ("0x8086\n", "0x020000\n").
func idsFromFiles(dir string, c cfg) error {
	for _, f := range []struct {
		name   string
		pos, n int
	}{{"vendor", 0, 2}, {"device", 2, 2}, {"class", 0x09, 3}} {
		raw, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			return err
		}
		v, err := strconv.ParseUint(strings.TrimPrefix(strings.TrimSpace(string(raw)), "0x"), 16, 8*f.n)
		if err != nil {
			return err
		}
		c.put(f.pos, uint32(v), f.n)
	}
	return nil
}
