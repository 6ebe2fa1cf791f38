//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
#include <libxl_utils.h>

static int vx_vcpus_online(libxl_ctx *ctx, uint32_t domid, int max, int n)
{
	libxl_bitmap map;
	int i, rc;

	libxl_bitmap_init(&map);
	if (libxl_cpu_bitmap_alloc(ctx, &map, max))
		return ERROR_NOMEM;
	for (i = 0; i < n; i++)
		libxl_bitmap_set(&map, i);
	rc = libxl_set_vcpuonline(ctx, domid, &map, NULL);
	libxl_bitmap_dispose(&map);
	return rc;
}

static int vx_need_memory(libxl_ctx *ctx, const char *json, uint64_t *need)
{
	libxl_domain_config cfg;
	int rc;

	libxl_domain_config_init(&cfg);
	rc = libxl_domain_config_from_json(ctx, &cfg, json);
	if (!rc)
		rc = libxl_domain_need_memory(ctx, &cfg, INVALID_DOMID, need);
	libxl_domain_config_dispose(&cfg);
	return rc;
}
*/
import "C"

import "unsafe"

// These are thin wrappers of libxl's synchronous calls, one each. Each
// returns an *Error with libxl's code and message.

// Pause pauses a domain.
func (c *Context) Pause(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_pause", C.libxl_domain_pause(c.ctx, C.uint32_t(domid), nil))
}

// Unpause unpauses a domain.
func (c *Context) Unpause(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_unpause", C.libxl_domain_unpause(c.ctx, C.uint32_t(domid), nil))
}

// SendNMI sends vCPU 0 of a domain an NMI (xl trigger DOMID nmi).
func (c *Context) SendNMI(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_send_trigger", C.libxl_send_trigger(c.ctx, C.uint32_t(domid), C.LIBXL_TRIGGER_NMI, 0, nil))
}

// Shutdown asks a PV-aware guest to power off through xenstore.
func (c *Context) Shutdown(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_shutdown", C.libxl_domain_shutdown(c.ctx, C.uint32_t(domid), nil))
}

// Reboot asks a PV-aware guest to reboot through xenstore.
func (c *Context) Reboot(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_domain_reboot", C.libxl_domain_reboot(c.ctx, C.uint32_t(domid), nil))
}

// PowerButton presses an HVM guest's ACPI power button.
func (c *Context) PowerButton(domid uint32) error {
	defer c.hold()()
	return c.check("libxl_send_trigger",
		C.libxl_send_trigger(c.ctx, C.uint32_t(domid), C.LIBXL_TRIGGER_POWER, 0, nil))
}

// SetMemoryTarget sets the balloon target in KiB, enforced.
func (c *Context) SetMemoryTarget(domid uint32, kib uint64) error {
	defer c.hold()()
	return c.check("libxl_set_memory_target",
		C.libxl_set_memory_target(c.ctx, C.uint32_t(domid), C.int64_t(kib), 0, 1))
}

// SetMaxMemory sets the most memory a domain may have, in KiB.
func (c *Context) SetMaxMemory(domid uint32, kib uint64) error {
	defer c.hold()()
	return c.check("libxl_domain_setmaxmem",
		C.libxl_domain_setmaxmem(c.ctx, C.uint32_t(domid), C.uint64_t(kib)))
}

// SetVCPUsOnline brings vCPUs 0..n-1 online and the others, up to max,
// offline.
func (c *Context) SetVCPUsOnline(domid uint32, max, n int) error {
	defer c.hold()()
	return c.check("libxl_set_vcpuonline",
		C.vx_vcpus_online(c.ctx, C.uint32_t(domid), C.int(max), C.int(n)))
}

// FlaskSID resolves a FLASK security context to its sid.
func (c *Context) FlaskSID(label string) (uint32, error) {
	defer c.hold()()
	cs, free := cstring(label)
	defer free()
	var sid C.uint32_t
	if rc := C.libxl_flask_context_to_sid(c.ctx, cs, C.size_t(len(label)), &sid); rc != 0 {
		return 0, c.fail("libxl_flask_context_to_sid", rc)
	}
	return uint32(sid), nil
}

// MaxCPUs is the most vCPUs a guest may have (libxl_get_max_cpus).
func (c *Context) MaxCPUs() (int, error) {
	defer c.hold()()
	n := C.libxl_get_max_cpus(c.ctx)
	if n < 0 {
		return 0, c.fail("libxl_get_max_cpus", n)
	}
	return int(n), nil
}

// Info reports one domain.
func (c *Context) Info(domid uint32) (DomainInfo, error) {
	defer c.hold()()
	return c.info(domid)
}

// info is Info for a caller that holds the context.
func (c *Context) info(domid uint32) (DomainInfo, error) {
	var d C.libxl_dominfo
	C.libxl_dominfo_init(&d)
	defer C.libxl_dominfo_dispose(&d)
	if rc := C.libxl_domain_info(c.ctx, &d, C.uint32_t(domid)); rc != 0 {
		return DomainInfo{}, c.fail("libxl_domain_info", rc)
	}
	return c.dominfo(&d), nil
}

// NeedMemory is how much free host memory, in KiB, a domain built from
// this configuration needs (libxl_domain_need_memory).
func (c *Context) NeedMemory(js []byte) (uint64, error) {
	defer c.hold()()
	cs, free := cstring(string(js))
	defer free()
	var need C.uint64_t
	if rc := C.vx_need_memory(c.ctx, cs, &need); rc != 0 {
		return 0, c.fail("libxl_domain_need_memory", rc)
	}
	return uint64(need), nil
}

// userdataID names our libxl userdata: the marker that says a guest is
// ours, as libvirt's "libvirt-xml" userdata (backend.LibvirtMarker) does
// for libvirt.
const userdataID = "virtxend"

// StoreMarker stores data with the domain, for as long as it lives.
func (c *Context) StoreMarker(domid uint32, data []byte) error {
	defer c.hold()()
	id, free := cstring(userdataID)
	defer free()
	var p *C.uint8_t
	if len(data) > 0 {
		p = (*C.uint8_t)(C.CBytes(data))
		defer C.free(unsafe.Pointer(p))
	}
	return c.check("libxl_userdata_store",
		C.libxl_userdata_store(c.ctx, C.uint32_t(domid), id, p, C.int(len(data))))
}

// Marker returns what StoreMarker stored; nil when there is none.
func (c *Context) Marker(domid uint32) ([]byte, error) {
	return c.Userdata(domid, userdataID)
}

// Userdata returns the domain's libxl userdata of that name (libxl keeps
// it in a file per domain and name); nil when there is none.
func (c *Context) Userdata(domid uint32, name string) ([]byte, error) {
	defer c.hold()()
	id, free := cstring(name)
	defer free()
	var p *C.uint8_t
	var n C.int
	if rc := C.libxl_userdata_retrieve(c.ctx, C.uint32_t(domid), id, &p, &n); rc != 0 {
		return nil, c.fail("libxl_userdata_retrieve", rc)
	}
	if p == nil {
		return nil, nil
	}
	defer C.free(unsafe.Pointer(p))
	return C.GoBytes(unsafe.Pointer(p), n), nil
}

// Console types for ConsoleTTY.
const (
	ConsoleSerial = C.LIBXL_CONSOLE_TYPE_SERIAL
	ConsolePV     = C.LIBXL_CONSOLE_TYPE_PV
)

// ConsoleTTY is the pty of a domain's console number n.
func (c *Context) ConsoleTTY(domid uint32, n int, typ int) (string, error) {
	defer c.hold()()
	var path *C.char
	rc := C.libxl_console_get_tty(c.ctx, C.uint32_t(domid), C.int(n), C.libxl_console_type(typ), &path)
	if rc != 0 {
		return "", c.fail("libxl_console_get_tty", rc)
	}
	defer C.free(unsafe.Pointer(path))
	return C.GoString(path), nil
}

func (c *Context) check(op string, rc C.int) error {
	if rc != 0 {
		return c.fail(op, rc)
	}
	return nil
}
