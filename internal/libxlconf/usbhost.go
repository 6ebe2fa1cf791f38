package libxlconf

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// USBSysfsDir is where the host's USB devices are listed.
const USBSysfsDir = "/sys/bus/usb/devices"

// FindUSBDevice is virUSBDeviceFindByVendor over dir: the bus and device
// number of the one USB device with this vendor and product. None, or
// more than one, is libxlMakeUSB's error.
func FindUSBDevice(dir string, vendor, product uint) (bus, dev uint, err error) {
	notFound := virerr.New(virerr.FromLibxl, libvirt.ErrOperationFailed,
		"failed to find USB device busnum:devnum for %x:%x", vendor, product)
	entries, err := os.ReadDir(dir)
	if err != nil {
		return 0, 0, notFound
	}
	found := 0
	for _, e := range entries {
		name := e.Name()
		if strings.Contains(name, ":") { // an interface, not a device
			continue
		}
		v, vok := sysfsUint(filepath.Join(dir, name, "idVendor"), 16)
		p, pok := sysfsUint(filepath.Join(dir, name, "idProduct"), 16)
		if !vok || !pok || v != vendor || p != product {
			continue
		}
		// The bus is the number the name starts with: "usb2" or "2-1.4".
		digits := strings.TrimPrefix(name, "usb")
		digits = digits[:len(digits)-len(strings.TrimLeft(digits, "0123456789"))]
		b, err1 := strconv.ParseUint(digits, 10, 32)
		d, dok := sysfsUint(filepath.Join(dir, name, "devnum"), 10)
		if err1 != nil || !dok {
			continue
		}
		bus, dev = uint(b), d
		found++
	}
	if found != 1 {
		return 0, 0, notFound
	}
	return bus, dev, nil
}

func sysfsUint(path string, base int) (uint, bool) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, false
	}
	v, err := strconv.ParseUint(strings.TrimSpace(string(data)), base, 32)
	return uint(v), err == nil
}

// usbID reads a <vendor id='0x046d'/> or <product id=.../> value.
func usbID(id string) (uint, bool) {
	v, err := strconv.ParseUint(strings.TrimPrefix(strings.ToLower(id), "0x"), 16, 32)
	return uint(v), err == nil
}
