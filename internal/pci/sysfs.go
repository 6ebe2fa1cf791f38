package pci

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
)

// Sysfs is the host's real bus: the kernel's files under Root.
type Sysfs struct {
	// Root is the bus's directory, "" for /sys/bus/pci. Tests point it at
	// a tree of their own laid out the same way.
	Root string
	// Modprobe is the modprobe command, "" for "modprobe" on $PATH.
	Modprobe string
}

var _ Bus = Sysfs{}

func (s Sysfs) root() string {
	if s.Root == "" {
		return "/sys/bus/pci"
	}
	return s.Root
}

func (s Sysfs) dev(a Addr, file ...string) string {
	return filepath.Join(append([]string{s.root(), "devices", a.String()}, file...)...)
}

// gone wraps err in ErrNoDevice when it comes from the device being
// missing: its files absent with its directory, or the kernel's ENODEV.
func (s Sysfs) gone(a Addr, err error) error {
	if err == nil {
		return nil
	}
	missing := errors.Is(err, fs.ErrNotExist) && !exists(s.dev(a))
	if missing || errors.Is(err, syscall.ENODEV) {
		return fmt.Errorf("%w: %w", ErrNoDevice, err)
	}
	return err
}

func exists(path string) bool {
	_, err := os.Lstat(path)
	return err == nil
}

// Devices lists devices/, skipping any name that is not an address (as
// libvirt does, warning).
func (s Sysfs) Devices() ([]Addr, error) {
	entries, err := os.ReadDir(filepath.Join(s.root(), "devices"))
	if err != nil {
		return nil, err
	}
	var out []Addr
	for _, e := range entries {
		if a, err := ParseAddr(e.Name()); err == nil {
			out = append(out, a)
		}
	}
	return out, nil
}

// Config reads devices/ADDR/config.
func (s Sysfs) Config(a Addr) ([]byte, error) {
	b, err := os.ReadFile(s.dev(a, "config"))
	return b, s.gone(a, err)
}

// WriteConfig writes at offset off of devices/ADDR/config.
func (s Sysfs) WriteConfig(a Addr, off int, b []byte) error {
	f, err := os.OpenFile(s.dev(a, "config"), os.O_WRONLY, 0)
	if err != nil {
		return s.gone(a, err)
	}
	_, err = f.WriteAt(b, int64(off))
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return s.gone(a, err)
}

// Driver is the last element of the devices/ADDR/driver link.
func (s Sysfs) Driver(a Addr) (string, error) {
	link, err := os.Readlink(s.dev(a, "driver"))
	if errors.Is(err, fs.ErrNotExist) && exists(s.dev(a)) {
		return "", nil
	}
	if err != nil {
		return "", s.gone(a, err)
	}
	return filepath.Base(link), nil
}

// HasDriver says whether drivers/NAME exists.
func (s Sysfs) HasDriver(name string) bool {
	return exists(filepath.Join(s.root(), "drivers", name))
}

// SetDriverOverride writes devices/ADDR/driver_override.
func (s Sysfs) SetDriverOverride(a Addr, driver string) error {
	return s.gone(a, writeFile(s.dev(a, "driver_override"), driver))
}

// Unbind writes the address to devices/ADDR/driver/unbind; a device with
// no driver has no such file, and nothing to do.
func (s Sysfs) Unbind(a Addr) error {
	path := s.dev(a, "driver", "unbind")
	if !exists(path) {
		if !exists(s.dev(a)) {
			return s.gone(a, fs.ErrNotExist)
		}
		return nil
	}
	return s.gone(a, writeFile(path, a.String()))
}

// Probe writes the address to drivers_probe.
func (s Sysfs) Probe(a Addr) error {
	return s.gone(a, writeFile(filepath.Join(s.root(), "drivers_probe"), a.String()))
}

// IsVirtualFunction says whether devices/ADDR/physfn exists.
func (s Sysfs) IsVirtualFunction(a Addr) bool {
	return exists(s.dev(a, "physfn"))
}

// writeFile writes a sysfs attribute, which must exist: opening with
// O_CREAT would make a stray file in a test tree, and means nothing to
// sysfs.
func writeFile(path, data string) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
	if err != nil {
		return err
	}
	_, err = f.WriteString(data)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// LoadModule is libvirt's virKModLoad, "modprobe -b NAME" (-b: honour the
// blacklist). When that fails, "modprobe -c" tells whether the module is
// blacklisted (virKModIsProhibited), and the error says so.
func (s Sysfs) LoadModule(name string) error {
	modprobe := s.Modprobe
	if modprobe == "" {
		modprobe = "modprobe"
	}
	var stderr bytes.Buffer
	cmd := exec.Command(modprobe, "-b", name)
	cmd.Stderr = &stderr
	err := cmd.Run()
	if err == nil {
		return nil
	}
	err = fmt.Errorf("modprobe -b %s: %w: %s", name, err, strings.TrimSpace(stderr.String()))
	// modprobe writes module names with "_" for "-" in its config dump.
	match := "blacklist " + strings.ReplaceAll(name, "-", "_") + "\n"
	if conf, cerr := exec.Command(modprobe, "-c").Output(); cerr == nil && bytes.Contains(conf, []byte(match)) {
		return fmt.Errorf("%w: %w", ErrModuleProhibited, err)
	}
	return err
}
