package libxlconf

import (
	"os"
	"path/filepath"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// fakeUSBSysfs lays out devices as /sys/bus/usb/devices shows them:
// NAME -> idVendor idProduct devnum.
func fakeUSBSysfs(t *testing.T, devs map[string][3]string) string {
	dir := t.TempDir()
	for name, f := range devs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
		for i, file := range []string{"idVendor", "idProduct", "devnum"} {
			if err := os.WriteFile(filepath.Join(p, file), []byte(f[i]+"\n"), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return dir
}

func TestFindUSBDevice(t *testing.T) {
	dir := fakeUSBSysfs(t, map[string][3]string{
		"usb1":    {"1d6b", "0002", "1"},
		"1-1":     {"046d", "c52b", "3"},
		"1-1:1.0": {"046d", "c52b", "3"}, // an interface: skipped
		"2-3.1":   {"0781", "5567", "7"},
		"3-1":     {"1234", "0001", "2"},
		"4-1":     {"1234", "0001", "5"},
	})
	for _, c := range []struct {
		vendor, product, bus, dev uint
	}{{0x046d, 0xc52b, 1, 3}, {0x0781, 0x5567, 2, 7}, {0x1d6b, 0x0002, 1, 1}} {
		bus, dev, err := FindUSBDevice(dir, c.vendor, c.product)
		if err != nil || bus != c.bus || dev != c.dev {
			t.Errorf("%x:%x: bus %d dev %d (%v), want %d %d", c.vendor, c.product, bus, dev, err, c.bus, c.dev)
		}
	}
	// None, or two alike: libxlMakeUSB's error.
	for _, c := range [][2]uint{{0xdead, 0xbeef}, {0x1234, 0x0001}} {
		_, _, err := FindUSBDevice(dir, c[0], c[1])
		e := virerr.As(err)
		if err == nil || e.Code != libvirt.ErrOperationFailed || e.Domain != virerr.FromLibxl {
			t.Errorf("%x:%x: %v", c[0], c[1], err)
		}
	}
	_, _, err := FindUSBDevice(dir, 0x1234, 0x0001)
	if want := "operation failed: failed to find USB device busnum:devnum for 1234:1"; err == nil || err.Error() != want {
		t.Errorf("error %q, want %q", err, want)
	}
}
