//go:build libxl

package libxl

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

var _ backend.DeviceHotplug = (*Backend)(nil)

// deviceKind is the libxl kind of dev and its JSON, as libxl's
// libxl_device_<kind>_from_json reads it.
func deviceKind(dev backend.Device) (int, []byte, error) {
	var kind int
	var v any
	switch {
	case dev.Disk != nil:
		kind, v = DeviceDisk, dev.Disk
	case dev.NIC != nil:
		kind, v = DeviceNIC, dev.NIC
	case dev.PCI != nil:
		kind, v = DevicePCI, dev.PCI
	case dev.USBCtrl != nil:
		kind, v = DeviceUSBCtrl, dev.USBCtrl
	case dev.USBDev != nil:
		kind, v = DeviceUSBDev, dev.USBDev
	default:
		return 0, nil, fmt.Errorf("%w: no device", backend.ErrInvalid)
	}
	js, err := json.Marshal(v)
	if err != nil {
		return 0, nil, errors.Join(backend.ErrInvalid, err)
	}
	return kind, js, nil
}

// AddDevice implements backend.DeviceHotplug: the device goes to libxl as
// the driver translated it, and what libxl chose (a NIC's or controller's
// devid, a USB device's controller and port) comes back.
func (b *Backend) AddDevice(ctx context.Context, id backend.DomID, dev backend.Device) (backend.Device, error) {
	kind, js, err := deviceKind(dev)
	if err != nil {
		return backend.Device{}, err
	}
	out, err := b.c.AddDevice(ctx, uint32(id), kind, js)
	if err != nil {
		return backend.Device{}, b.guestErr(id, err)
	}
	var chosen struct {
		DevID *int `json:"devid"`
		Ctrl  *int `json:"ctrl"`
		Port  *int `json:"port"`
	}
	json.Unmarshal(out, &chosen)
	switch {
	case dev.NIC != nil && chosen.DevID != nil:
		n := *dev.NIC
		n.DevID = *chosen.DevID
		dev.NIC = &n
	case dev.USBCtrl != nil && chosen.DevID != nil:
		c := *dev.USBCtrl
		c.DevID = *chosen.DevID
		dev.USBCtrl = &c
	case dev.USBDev != nil && chosen.Ctrl != nil:
		u := *dev.USBDev
		u.Ctrl = *chosen.Ctrl
		if chosen.Port != nil {
			u.Port = *chosen.Port
		}
		dev.USBDev = &u
	}
	return dev, nil
}

// RemoveDevice implements backend.DeviceHotplug. A disk goes through
// libxl_device_disk_safe_remove, which never forces a disk out of a guest
// that holds on to it (libvirt calls libxl_device_disk_remove, which after
// libxl's 10 s does); the other kinds through libxl's removes. The caller's
// context ending aborts libxl's wait for the guest, leaving the device.
func (b *Backend) RemoveDevice(ctx context.Context, id backend.DomID, dev backend.Device) error {
	kind, js, err := deviceKind(dev)
	if err != nil {
		return err
	}
	err = b.removeDevice(ctx, id, kind, js)
	var le *Error
	switch {
	case err == nil:
		return nil
	case errors.As(err, &le) && le.Op == "libxl_device_lookup" && le.Code == errNotFound:
		if _, ierr := b.c.Info(uint32(id)); ierr != nil {
			return b.guestErr(id, ierr)
		}
		return fmt.Errorf("%w: domain %d has no such %s: %v", backend.ErrNoDevice, id, dev.Kind(), err)
	case errors.As(err, &le) && (le.Code == errTimedOut || le.Code == errAborted):
		return fmt.Errorf("%w: domain %d kept its %s: %v", backend.ErrTimedOut, id, dev.Kind(), err)
	}
	return b.guestErr(id, err)
}

// removeDevice asks libxl to unplug a device until the guest lets it go or
// ctx ends. libxl gives up after its own 10 s (LIBXL_DESTROY_TIMEOUT); a
// caller's context that allows more is asked again, as a guest still
// connecting the device (a slow boot, a device plugged a moment ago)
// answers a later request.
func (b *Backend) removeDevice(ctx context.Context, id backend.DomID, kind int, js []byte) error {
	for {
		err := b.c.RemoveDevice(ctx, uint32(id), kind, js)
		var le *Error
		if err == nil || !errors.As(err, &le) || le.Code != errTimedOut || ctx.Err() != nil {
			return err
		}
		if d, ok := ctx.Deadline(); !ok || time.Until(d) < time.Second {
			return err
		}
		b.log.Info("the guest has not let its device go; asking again", "domid", id, "device", kind)
	}
}

// InsertMedia implements backend.DeviceHotplug.
func (b *Backend) InsertMedia(ctx context.Context, id backend.DomID, disk libxltypes.Disk) error {
	_, js, err := deviceKind(backend.Device{Disk: &disk})
	if err != nil {
		return err
	}
	return b.guestErr(id, b.c.InsertMedia(ctx, uint32(id), js))
}
