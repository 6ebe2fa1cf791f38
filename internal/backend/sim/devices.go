package sim

import (
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

// Device hotplug on the simulated host. A guest's devices are its stored
// libxl configuration (guest.Config), so what is plugged in is kept with
// it in host.json, counted by Stats and shown by GuestConfig. Adding a
// device takes effect at once. Removing one needs the guest's
// acknowledgement, as a real frontend must close its device before the
// backend lets it go: by default the guest gives it at once; the fault
// detach-delay makes it take that long, detach="ignore" makes it never
// come, and a paused guest gives none until it is unpaused. When the
// caller's context ends first, the removal fails with ErrTimedOut and the
// device stays.

var _ backend.DeviceHotplug = (*Host)(nil)

// detachPoll is how often a removal looks for the guest's acknowledgement.
const detachPoll = 20 * time.Millisecond

// AddDevice implements backend.DeviceHotplug.
func (h *Host) AddDevice(ctx context.Context, id backend.DomID, dev backend.Device) (backend.Device, error) {
	var added backend.Device
	if dev.PCI != nil {
		if err := h.claimPCI(*dev.PCI); err != nil {
			return added, err
		}
	}
	err := h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		cfg := g.devices()
		var err error
		switch {
		case dev.Disk != nil:
			err = addDisk(cfg, *dev.Disk)
			added.Disk = dev.Disk
		case dev.NIC != nil:
			n := *dev.NIC
			if n.DevID < 0 {
				n.DevID = nextNICDevID(cfg)
			}
			cfg.NICs = append(cfg.NICs, n)
			added.NIC = &n
		case dev.USBCtrl != nil:
			var c libxltypes.USBCtrl
			c, err = addUSBCtrl(cfg, *dev.USBCtrl)
			added.USBCtrl = &c
		case dev.USBDev != nil:
			var u libxltypes.USBDev
			u, err = addUSBDev(cfg, *dev.USBDev)
			added.USBDev = &u
		case dev.PCI != nil:
			if findPCI(cfg, *dev.PCI) >= 0 {
				return fmt.Errorf("%w: PCI device %s is already assigned", backend.ErrInvalid, pciName(*dev.PCI))
			}
			if err := pciTaken(st, id, *dev.PCI); err != nil {
				return err
			}
			if err := canTakePCI(g, *dev.PCI); err != nil {
				return err
			}
			cfg.PCIDevs = append(cfg.PCIDevs, *dev.PCI)
			added.PCI = dev.PCI
		default:
			err = fmt.Errorf("%w: no device", backend.ErrInvalid)
		}
		return err
	})
	if err != nil {
		return backend.Device{}, err
	}
	return added, nil
}

// devices is the guest's configuration, made for a guest of a host
// written before configurations were kept.
func (g *guest) devices() *libxltypes.DomainConfig {
	if g.Config == nil {
		g.Config = &libxltypes.DomainConfig{CInfo: libxltypes.CreateInfo{Name: g.Name, UUID: g.UUID.String()}}
	}
	return g.Config
}

func addDisk(cfg *libxltypes.DomainConfig, d libxltypes.Disk) error {
	if findDisk(cfg, d.Vdev) >= 0 {
		return fmt.Errorf("%w: virtual device %s exists", backend.ErrInvalid, d.Vdev)
	}
	cfg.Disks = append(cfg.Disks, d)
	return nil
}

// nextNICDevID is libxl__device_nextid for NICs: one past the highest
// devid (a NIC whose devid was left to libxl at create has its place).
func nextNICDevID(cfg *libxltypes.DomainConfig) int {
	next := 0
	for i, n := range cfg.NICs {
		devid := n.DevID
		if devid < 0 {
			devid = i
		}
		if devid >= next {
			next = devid + 1
		}
	}
	return next
}

func addUSBCtrl(cfg *libxltypes.DomainConfig, c libxltypes.USBCtrl) (libxltypes.USBCtrl, error) {
	if c.DevID < 0 {
		c.DevID = 0
		for findUSBCtrl(cfg, c.DevID) >= 0 {
			c.DevID++
		}
	} else if findUSBCtrl(cfg, c.DevID) >= 0 {
		return c, fmt.Errorf("%w: USB controller %d exists", backend.ErrInvalid, c.DevID)
	}
	if c.Ports == 0 {
		c.Ports = 8
	}
	cfg.USBCtrls = append(cfg.USBCtrls, c)
	return c, nil
}

// addUSBDev plugs a USB host device into the controller and port it
// names, or, as libxl does for ctrl -1, into the first free port, adding a
// USB 2.0 controller of 8 ports when every port is taken.
func addUSBDev(cfg *libxltypes.DomainConfig, u libxltypes.USBDev) (libxltypes.USBDev, error) {
	for _, o := range cfg.USBDevs {
		if o.HostDev == u.HostDev {
			return u, fmt.Errorf("%w: USB device %d.%d is already assigned", backend.ErrInvalid, u.HostDev.HostBus, u.HostDev.HostAddr)
		}
	}
	if u.Ctrl < 0 {
		u.Ctrl, u.Port = freeUSBPort(cfg)
		if u.Ctrl < 0 {
			c, _ := addUSBCtrl(cfg, libxltypes.USBCtrl{Type: "qusb", DevID: -1, Version: 2, Ports: 8})
			u.Ctrl, u.Port = c.DevID, 1
		}
	} else if findUSBCtrl(cfg, u.Ctrl) < 0 {
		return u, fmt.Errorf("%w: no USB controller %d", backend.ErrInvalid, u.Ctrl)
	}
	cfg.USBDevs = append(cfg.USBDevs, u)
	return u, nil
}

// freeUSBPort is the first controller and port no device uses, or -1.
func freeUSBPort(cfg *libxltypes.DomainConfig) (ctrl, port int) {
	for _, c := range cfg.USBCtrls {
		for p := 1; p <= c.Ports; p++ {
			used := false
			for _, u := range cfg.USBDevs {
				used = used || (u.Ctrl == c.DevID && u.Port == p)
			}
			if !used {
				return c.DevID, p
			}
		}
	}
	return -1, 0
}

func findDisk(cfg *libxltypes.DomainConfig, vdev string) int {
	for i, d := range cfg.Disks {
		if d.Vdev == vdev {
			return i
		}
	}
	return -1
}

func findUSBCtrl(cfg *libxltypes.DomainConfig, devid int) int {
	for i, c := range cfg.USBCtrls {
		if c.DevID == devid {
			return i
		}
	}
	return -1
}

func findPCI(cfg *libxltypes.DomainConfig, p libxltypes.PCIDev) int {
	for i, o := range cfg.PCIDevs {
		if o.Domain == p.Domain && o.Bus == p.Bus && o.Dev == p.Dev && o.Func == p.Func {
			return i
		}
	}
	return -1
}

func pciName(p libxltypes.PCIDev) string {
	return fmt.Sprintf("%04x:%02x:%02x.%d", p.Domain, p.Bus, p.Dev, p.Func)
}

// findDevice is where dev is among the guest's devices of its kind, or -1.
func findDevice(cfg *libxltypes.DomainConfig, dev backend.Device) int {
	switch {
	case dev.Disk != nil:
		return findDisk(cfg, dev.Disk.Vdev)
	case dev.NIC != nil:
		for i, n := range cfg.NICs {
			if sameMAC(n.MAC, dev.NIC.MAC) {
				return i
			}
		}
	case dev.USBCtrl != nil:
		return findUSBCtrl(cfg, dev.USBCtrl.DevID)
	case dev.USBDev != nil:
		for i, u := range cfg.USBDevs {
			if u.HostDev == dev.USBDev.HostDev {
				return i
			}
		}
	case dev.PCI != nil:
		return findPCI(cfg, *dev.PCI)
	}
	return -1
}

// dropDevice removes the device at i of dev's kind; a USB controller goes
// with the devices plugged into it, as libxl removes them.
func dropDevice(cfg *libxltypes.DomainConfig, dev backend.Device, i int) {
	switch {
	case dev.Disk != nil:
		cfg.Disks = append(cfg.Disks[:i], cfg.Disks[i+1:]...)
	case dev.NIC != nil:
		cfg.NICs = append(cfg.NICs[:i], cfg.NICs[i+1:]...)
	case dev.USBCtrl != nil:
		devid := cfg.USBCtrls[i].DevID
		cfg.USBCtrls = append(cfg.USBCtrls[:i], cfg.USBCtrls[i+1:]...)
		kept := cfg.USBDevs[:0]
		for _, u := range cfg.USBDevs {
			if u.Ctrl != devid {
				kept = append(kept, u)
			}
		}
		cfg.USBDevs = kept
	case dev.USBDev != nil:
		cfg.USBDevs = append(cfg.USBDevs[:i], cfg.USBDevs[i+1:]...)
	case dev.PCI != nil:
		cfg.PCIDevs = append(cfg.PCIDevs[:i], cfg.PCIDevs[i+1:]...)
	}
}

// sameMAC compares MACs as libxl_mac_to_device_nic parses them.
func sameMAC(a, b string) bool {
	var x, y [6]byte
	_, e1 := fmt.Sscanf(a, "%x:%x:%x:%x:%x:%x", &x[0], &x[1], &x[2], &x[3], &x[4], &x[5])
	_, e2 := fmt.Sscanf(b, "%x:%x:%x:%x:%x:%x", &y[0], &y[1], &y[2], &y[3], &y[4], &y[5])
	return e1 == nil && e2 == nil && x == y
}

// RemoveDevice implements backend.DeviceHotplug: it waits for the guest's
// acknowledgement (see the top of this file) and then removes the device.
func (h *Host) RemoveDevice(ctx context.Context, id backend.DomID, dev backend.Device) error {
	if dev.Kind() == "" {
		return fmt.Errorf("%w: no device", backend.ErrInvalid)
	}
	var ackAt time.Time
	err := h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if findDevice(g.devices(), dev) < 0 {
			return fmt.Errorf("%w: domain %d has no such %s", backend.ErrNoDevice, id, dev.Kind())
		}
		ackAt = time.Now().Add(g.Faults.DetachDelay)
		return nil
	})
	if err != nil {
		return err
	}
	t := time.NewTicker(detachPoll)
	defer t.Stop()
	for {
		done, err := h.tryRemove(id, dev, ackAt)
		if done || err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: domain %d did not release its %s", backend.ErrTimedOut, id, dev.Kind())
		case <-t.C:
		}
	}
}

// tryRemove removes the device once the guest acknowledges: when it runs,
// obeys removals and its delay has passed.
func (h *Host) tryRemove(id backend.DomID, dev backend.Device, ackAt time.Time) (done bool, err error) {
	err = h.mutate(func(st *hostState) (bool, error) {
		g, err := st.find(id)
		if err != nil {
			return false, err
		}
		if g.Faults.IgnoreDetach || g.Paused || g.Shutdown || time.Now().Before(ackAt) {
			return false, nil
		}
		cfg := g.devices()
		i := findDevice(cfg, dev)
		if i < 0 {
			return false, fmt.Errorf("%w: domain %d has no such %s", backend.ErrNoDevice, id, dev.Kind())
		}
		dropDevice(cfg, dev, i)
		if dev.Disk != nil {
			delete(g.Throttles, dev.Disk.Vdev) // QEMU's limits go with its device
		}
		done = true
		return true, nil
	})
	return done, err
}

// InsertMedia implements backend.DeviceHotplug: the cdrom keeps its place
// and takes the new media's path and format.
func (h *Host) InsertMedia(ctx context.Context, id backend.DomID, disk libxltypes.Disk) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		cfg := g.devices()
		i := findDisk(cfg, disk.Vdev)
		if i < 0 {
			return fmt.Errorf("%w: domain %d has no disk %s", backend.ErrNoDevice, id, disk.Vdev)
		}
		if cfg.Disks[i].IsCDROM == 0 {
			return fmt.Errorf("%w: virtual device %s is not a cdrom", backend.ErrInvalid, disk.Vdev)
		}
		disk.IsCDROM = 1
		cfg.Disks[i] = disk
		return nil
	})
}

// ResizeDisk implements backend.DiskResizer as the phy backend serves a
// raw image file: the file grows to bytes (backend.CheckRawGrowth); the simulated
// guest reads the disk's new size from it. Other formats, which QEMU
// would resize, are refused: the simulated host writes none of them.
func (h *Host) ResizeDisk(ctx context.Context, id backend.DomID, vdev, path string, bytes uint64) error {
	var disk libxltypes.Disk
	err := h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if g.Config != nil {
			for _, d := range g.Config.Disks {
				if d.Vdev == vdev {
					disk = d
					return nil
				}
			}
		}
		return fmt.Errorf("%w: domain %d has no disk %s", backend.ErrNoDevice, id, vdev)
	})
	switch {
	case err != nil:
		return err
	case disk.IsCDROM != 0:
		return fmt.Errorf("%w: disk %s of domain %d is a cdrom", backend.ErrInvalid, vdev, id)
	case disk.Format != "" && disk.Format != "raw":
		return fmt.Errorf("%w: the simulated host resizes raw images only, not %s", backend.ErrUnsupported, disk.Format)
	}
	if err := backend.CheckRawGrowth(path, bytes); err != nil {
		return err
	}
	if err := os.Truncate(path, int64(bytes)); err != nil {
		return fmt.Errorf("%w: %v", backend.ErrFailed, err)
	}
	return nil
}

// SetNICRate implements backend.NICRateSetter: the rate the guest's NIC
// of MAC address mac is limited to, kept in its configuration as Xen's
// netback keeps it in xenstore.
func (h *Host) SetNICRate(ctx context.Context, id backend.DomID, mac string, bytes uint64, intervalUs uint32) error {
	return h.onGuest(ctx, id, func(st *hostState, g *guest, now time.Time) error {
		if g.Config != nil {
			for i := range g.Config.NICs {
				if n := &g.Config.NICs[i]; strings.EqualFold(n.MAC, mac) {
					n.RateBytes, n.RateInterval = bytes, intervalUs
					if bytes == 0 {
						n.RateInterval = 0
					}
					return nil
				}
			}
		}
		return fmt.Errorf("%w: domain %d has no NIC %s", backend.ErrNoDevice, id, mac)
	})
}
