//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
#include "xl_devices.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"unsafe"
)

// Device kinds and operations, as xl_devices.h numbers them.
const (
	DeviceDisk    = C.VX_DISK
	DeviceNIC     = C.VX_NIC
	DevicePCI     = C.VX_PCI
	DeviceUSBCtrl = C.VX_USBCTRL
	DeviceUSBDev  = C.VX_USBDEV
)

// The libxl calls of each kind, for errors.
var deviceCalls = map[int][3]string{
	DeviceDisk:    {"libxl_device_disk_add", "libxl_device_disk_safe_remove", "libxl_cdrom_insert"},
	DeviceNIC:     {"libxl_device_nic_add", "libxl_device_nic_remove", ""},
	DevicePCI:     {"libxl_device_pci_add", "libxl_device_pci_remove", ""},
	DeviceUSBCtrl: {"libxl_device_usbctrl_add", "libxl_device_usbctrl_remove", ""},
	DeviceUSBDev:  {"libxl_device_usbdev_add", "libxl_device_usbdev_remove", ""},
}

// device is a libxl device struct in C memory, from JSON or looked up.
type device struct {
	kind int
	p    *C.struct_vx_dev
}

func (c *Context) deviceFromJSON(kind int, js []byte) (*device, error) {
	cs, free := cstring(string(js))
	defer free()
	var rc C.int
	p := C.vx_dev_from_json(c.ctx, C.int(kind), cs, &rc)
	if p == nil {
		return nil, c.fail("libxl_device_from_json", rc)
	}
	return &device{kind: kind, p: p}, nil
}

func (d *device) free() { C.vx_dev_free(d.p) }

// json is libxl's JSON of the device as it now is.
func (c *Context) deviceJSON(d *device) []byte {
	out := C.vx_dev_to_json(c.ctx, d.p)
	if out == nil {
		return nil
	}
	defer C.free(unsafe.Pointer(out))
	return []byte(C.GoString(out))
}

// deviceOp runs one of libxl's asynchronous device calls and waits for its
// completion callback. When ctx ends first, libxl is asked to abort the
// call (a removal then leaves the device with the guest), and the wait goes
// on: libxl may use the struct until its callback.
func (c *Context) deviceOp(ctx context.Context, domid uint32, d *device, op int) error {
	return c.asyncOp(ctx, deviceCalls[d.kind][op], nil, func(h C.uintptr_t) C.int {
		return C.vx_dev_op(c.ctx, C.uint32_t(domid), d.p, C.int(op), h)
	})
}

// AddDevice plugs the device of kind whose JSON is js into domain domid,
// and returns the device's JSON as libxl completed it (the devid it chose).
func (c *Context) AddDevice(ctx context.Context, domid uint32, kind int, js []byte) ([]byte, error) {
	defer c.hold()()
	d, err := c.deviceFromJSON(kind, js)
	if err != nil {
		return nil, err
	}
	defer d.free()
	if err := c.deviceOp(ctx, domid, d, C.VX_ADD); err != nil {
		return nil, err
	}
	return c.deviceJSON(d), nil
}

// RemoveDevice unplugs domain domid's device that js names (a disk's vdev,
// a NIC's MAC, ...), as libxl knows it. ERROR_NOTFOUND from the lookup
// means the domain has no such device.
func (c *Context) RemoveDevice(ctx context.Context, domid uint32, kind int, js []byte) error {
	defer c.hold()()
	key, err := c.deviceFromJSON(kind, js)
	if err != nil {
		return err
	}
	defer key.free()
	var rc C.int
	p := C.vx_dev_lookup(c.ctx, C.uint32_t(domid), key.p, &rc)
	if p == nil {
		return c.fail("libxl_device_lookup", rc)
	}
	d := &device{kind: kind, p: p}
	defer d.free()
	return c.deviceOp(ctx, domid, d, C.VX_REMOVE)
}

// InsertMedia puts the disk whose JSON is js into domain domid's cdrom of
// the same vdev (libxl_cdrom_insert).
func (c *Context) InsertMedia(ctx context.Context, domid uint32, js []byte) error {
	defer c.hold()()
	d, err := c.deviceFromJSON(DeviceDisk, js)
	if err != nil {
		return err
	}
	defer d.free()
	return c.deviceOp(ctx, domid, d, C.VX_INSERT)
}

// offlineDeviceJSON reads a device's JSON into libxl's struct and writes it
// out again, on a stand-in context: libxl's own form of what hotplug
// hands it. For tests.
func offlineDeviceJSON(kind int, js []byte) ([]byte, error) {
	return withOfflineCtx(slog.Default(), func(ctx *C.libxl_ctx, sink *logSink) ([]byte, error) {
		c := &Context{ctx: ctx, sink: sink}
		d, err := c.deviceFromJSON(kind, js)
		if err != nil {
			return nil, err
		}
		defer d.free()
		return c.deviceJSON(d), nil
	})
}
