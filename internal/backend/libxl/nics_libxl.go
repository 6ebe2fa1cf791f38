//go:build libxl

package libxl

/*
#cgo LDFLAGS: -lxenstore
#include <stdlib.h>
#include "xl_nics.h"
*/
import "C"

import (
	"context"
	"fmt"
	"syscall"

	"virtxend/internal/backend"
)

var _ backend.NICRateSetter = (*Backend)(nil)

// SetNICRate implements backend.NICRateSetter. libxl has no call that
// changes a NIC of a running guest, but netback watches the rate in the
// vif's backend directory and applies a new one at once: it is written
// there, and into libxl's own record of the device (what xl list -l and
// libxl_device_nic_list read), in the format libxl writes at creation.
func (b *Backend) SetNICRate(_ context.Context, id backend.DomID, mac string, bytes uint64, intervalUs uint32) error {
	cm, freeM := cstring(mac)
	defer freeM()
	var cr *C.char
	if bytes > 0 {
		r, freeR := cstring(fmt.Sprintf("%d,%d", bytes, intervalUs))
		defer freeR()
		cr = r
	}
	switch rc := C.vx_xs_nic_rate(C.uint32_t(id), cm, cr); {
	case rc == 0:
		b.log.Info("NIC rate set", "domid", id, "mac", mac, "bytes", bytes, "interval_us", intervalUs)
		return nil
	case syscall.Errno(rc) == syscall.ENOENT:
		return fmt.Errorf("%w: domain %d has no NIC %s", backend.ErrNoDevice, id, mac)
	default:
		return fmt.Errorf("%w: rate of NIC %s of domain %d: %v", backend.ErrFailed, mac, id, syscall.Errno(rc))
	}
}
