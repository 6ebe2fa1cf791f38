//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
#include <libxl_utils.h>

// vx_create: libxl_domain_create_new of the configuration in json. With
// started, *started is the configuration as libxl completed it while
// creating the domain (its defaults set, devids given), in libxl's JSON:
// what libvirt's libxl driver writes to the domain's log as "Domain start:".
static int vx_create(libxl_ctx *ctx, const char *json, uint32_t *domid, int *parse_rc, char **started)
{
	libxl_domain_config cfg;
	int rc;

	libxl_domain_config_init(&cfg);
	*parse_rc = libxl_domain_config_from_json(ctx, &cfg, json);
	if (*parse_rc) {
		libxl_domain_config_dispose(&cfg);
		return *parse_rc;
	}
	rc = libxl_domain_create_new(ctx, &cfg, domid, NULL, NULL);
	if (rc == 0 && started)
		*started = libxl_domain_config_to_json(ctx, &cfg);
	libxl_domain_config_dispose(&cfg);
	return rc;
}
*/
import "C"

import (
	"fmt"
	"unsafe"
)

// DomainInfo is one domain as libxl_list_domain reports it.
type DomainInfo struct {
	ID           uint32
	UUID         string
	Name         string
	Running      bool
	Blocked      bool
	Paused       bool
	Shutdown     bool
	Dying        bool
	CurrentKiB   uint64
	MaxKiB       uint64
	CPUTimeNS    uint64
	VCPUsOnline  uint32
	VCPUMaxID    uint32
	ShutdownCode int // libxl_shutdown_reason, meaningful when Shutdown
	PV           bool
}

// CreateFromJSON creates a domain from libxl_domain_config JSON (as
// BuildDomainConfig's JSON gives it) and, unless paused, unpauses it. A
// domain that fails to unpause is destroyed. With wantStarted it also
// returns the configuration as libxl completed it in creating the domain
// (libxl_domain_config_to_json after libxl_domain_create_new), as libvirt's
// libxl driver logs it; else that is nil.
func (c *Context) CreateFromJSON(js []byte, paused, wantStarted bool) (uint32, []byte, error) {
	defer c.hold()()
	cs, free := cstring(string(js))
	defer free()
	var domid C.uint32_t
	var parseRC C.int
	var started *C.char
	var startedp **C.char
	if wantStarted {
		startedp = &started
	}
	if rc := C.vx_create(c.ctx, cs, &domid, &parseRC, startedp); rc != 0 {
		if parseRC != 0 {
			return 0, nil, c.fail("libxl_domain_config_from_json", rc)
		}
		return 0, nil, c.fail("libxl_domain_create_new", rc)
	}
	var out []byte
	if started != nil {
		out = []byte(C.GoString(started))
		C.free(unsafe.Pointer(started))
	}
	if paused {
		return uint32(domid), out, nil
	}
	if rc := C.libxl_domain_unpause(c.ctx, domid, nil); rc != 0 {
		err := c.fail("libxl_domain_unpause", rc)
		C.libxl_domain_destroy(c.ctx, domid, nil)
		return 0, nil, err
	}
	return uint32(domid), out, nil
}

// Destroy destroys a domain at once.
func (c *Context) Destroy(domid uint32) error {
	defer c.hold()()
	if rc := C.libxl_domain_destroy(c.ctx, C.uint32_t(domid), nil); rc != 0 {
		return c.fail("libxl_domain_destroy", rc)
	}
	return nil
}

// List is every domain on the host, Domain-0 included.
func (c *Context) List() ([]DomainInfo, error) {
	defer c.hold()()
	var n C.int
	list := C.libxl_list_domain(c.ctx, &n)
	if list == nil {
		return nil, c.fail("libxl_list_domain", errFail)
	}
	defer C.libxl_dominfo_list_free(list, n)
	doms := unsafe.Slice(list, int(n))
	out := make([]DomainInfo, 0, len(doms))
	for i := range doms {
		out = append(out, c.dominfo(&doms[i]))
	}
	return out, nil
}

func (c *Context) dominfo(d *C.libxl_dominfo) DomainInfo {
	info := DomainInfo{
		ID:           uint32(d.domid),
		UUID:         uuidString(C.libxl_uuid_bytearray(&d.uuid)),
		Running:      bool(d.running),
		Blocked:      bool(d.blocked),
		Paused:       bool(d.paused),
		Shutdown:     bool(d.shutdown),
		Dying:        bool(d.dying),
		CurrentKiB:   uint64(d.current_memkb),
		MaxKiB:       uint64(d.max_memkb),
		CPUTimeNS:    uint64(d.cpu_time),
		VCPUsOnline:  uint32(d.vcpu_online),
		VCPUMaxID:    uint32(d.vcpu_max_id),
		ShutdownCode: int(d.shutdown_reason),
		PV:           d.domain_type == C.LIBXL_DOMAIN_TYPE_PV,
	}
	if name := C.libxl_domid_to_name(c.ctx, d.domid); name != nil {
		info.Name = C.GoString(name)
		C.free(unsafe.Pointer(name))
	}
	return info
}

func uuidString(b *C.uint8_t) string {
	u := unsafe.Slice((*byte)(unsafe.Pointer(b)), 16)
	return fmt.Sprintf("%x-%x-%x-%x-%x", u[0:4], u[4:6], u[6:8], u[8:10], u[10:16])
}

// VersionInfo is what libxl_get_version_info reports of the hypervisor.
type VersionInfo struct {
	Major, Minor int
	Extra        string // e.g. ".7"
	Capabilities string // e.g. "xen-3.0-x86_64 hvm-3.0-x86_32 ..."
	PageSize     int
}

// Version is the running hypervisor's version.
func (c *Context) Version() (VersionInfo, error) {
	defer c.hold()()
	vi := C.libxl_get_version_info(c.ctx)
	if vi == nil {
		return VersionInfo{}, c.fail("libxl_get_version_info", errFail)
	}
	return VersionInfo{
		Major:        int(vi.xen_version_major),
		Minor:        int(vi.xen_version_minor),
		Extra:        C.GoString(vi.xen_version_extra),
		Capabilities: C.GoString(vi.capabilities),
		PageSize:     int(vi.pagesize),
	}, nil
}

// PhysInfo is the host as libxl_get_physinfo reports it.
type PhysInfo struct {
	CPUs           int
	ThreadsPerCore int
	CoresPerSocket int
	CPUkHz         int
	NUMANodes      int
	TotalKiB       uint64
	FreeKiB        uint64
	HVM, PV, HAP   bool
	// Shadow: Xen has shadow paging, without which it cannot track a PV
	// guest's dirty pages, so cannot save one live.
	Shadow bool
	HWCap  [8]uint32 // hw_cap
}

// PhysInfo reads the host's CPUs, memory and capabilities.
func (c *Context) PhysInfo() (PhysInfo, error) {
	defer c.hold()()
	var p C.libxl_physinfo
	C.libxl_physinfo_init(&p)
	defer C.libxl_physinfo_dispose(&p)
	if rc := C.libxl_get_physinfo(c.ctx, &p); rc != 0 {
		return PhysInfo{}, c.fail("libxl_get_physinfo", rc)
	}
	const pageKiB = 4
	var hw [8]uint32
	for i := range hw {
		hw[i] = uint32(p.hw_cap[i])
	}
	return PhysInfo{
		HWCap:          hw,
		CPUs:           int(p.nr_cpus),
		ThreadsPerCore: int(p.threads_per_core),
		CoresPerSocket: int(p.cores_per_socket),
		CPUkHz:         int(p.cpu_khz),
		NUMANodes:      int(p.nr_nodes),
		TotalKiB:       uint64(p.total_pages) * pageKiB,
		FreeKiB:        uint64(p.free_pages) * pageKiB,
		HVM:            bool(p.cap_hvm),
		PV:             bool(p.cap_pv),
		HAP:            bool(p.cap_hap),
		Shadow:         bool(p.cap_shadow),
	}, nil
}
