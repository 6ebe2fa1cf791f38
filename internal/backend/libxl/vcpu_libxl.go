//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
*/
import "C"

import (
	"errors"
	"unsafe"

	"virtxend/internal/backend"
)

// VCPUInfo is one vCPU as libxl_list_vcpu reports it.
type VCPUInfo struct {
	ID       uint32
	CPU      uint32 // the physical CPU it runs or last ran on
	Online   bool
	Blocked  bool
	Running  bool
	TimeNS   uint64
	Affinity []int // hard affinity (cpumap)
}

// ListVCPU reports every vCPU of a domain (libxl_list_vcpu). A domain
// that does not exist is backend.ErrNoGuest, as Info reports it.
func (c *Context) ListVCPU(domid uint32) ([]VCPUInfo, error) {
	defer c.hold()()
	var n, nrCPUs C.int
	list := C.libxl_list_vcpu(c.ctx, C.uint32_t(domid), &n, &nrCPUs)
	if list == nil {
		err := c.fail("libxl_list_vcpu", errFail)
		if _, ierr := c.info(domid); errors.Is(ierr, backend.ErrNoGuest) {
			return nil, ierr
		}
		return nil, err
	}
	defer C.libxl_vcpuinfo_list_free(list, n)
	vcpus := unsafe.Slice(list, int(n))
	out := make([]VCPUInfo, 0, len(vcpus))
	for i := range vcpus {
		v := &vcpus[i]
		out = append(out, VCPUInfo{
			ID: uint32(v.vcpuid), CPU: uint32(v.cpu), Online: bool(v.online),
			Blocked: bool(v.blocked), Running: bool(v.running), TimeNS: uint64(v.vcpu_time),
			Affinity: bitmapCPUs(&v.cpumap),
		})
	}
	return out, nil
}

// bitmapCPUs lists the set bits of a libxl_bitmap.
func bitmapCPUs(b *C.libxl_bitmap) []int {
	if b._map == nil || b.size == 0 {
		return nil
	}
	bytes := unsafe.Slice((*byte)(unsafe.Pointer(b._map)), int(b.size))
	var cpus []int
	for i, by := range bytes {
		for bit := 0; bit < 8; bit++ {
			if by&(1<<bit) != 0 {
				cpus = append(cpus, i*8+bit)
			}
		}
	}
	return cpus
}
