//go:build libxl

package libxl

/*
#include <stdlib.h>
#include <libxl.h>
#include "xl_logger.h"

static char *vx_canonical(libxl_ctx *ctx, const char *json, int *rc)
{
	libxl_domain_config cfg;
	char *out = NULL;

	libxl_domain_config_init(&cfg);
	*rc = libxl_domain_config_from_json(ctx, &cfg, json);
	if (*rc == 0)
		out = libxl_domain_config_to_json(ctx, &cfg);
	libxl_domain_config_dispose(&cfg);
	return out;
}

static char *vx_cpuid_json(libxl_ctx *ctx, const char *feature, int *rc)
{
	libxl_domain_config cfg;
	char *out = NULL;

	libxl_domain_config_init(&cfg);
	libxl_domain_build_info_init_type(&cfg.b_info, LIBXL_DOMAIN_TYPE_HVM);
	cfg.c_info.type = LIBXL_DOMAIN_TYPE_HVM;
	*rc = libxl_cpuid_parse_config(&cfg.b_info.cpuid, feature);
	if (*rc == 0)
		out = libxl_domain_config_to_json(ctx, &cfg);
	libxl_domain_config_dispose(&cfg);
	return out;
}
*/
import "C"

import (
	"log/slog"
	"runtime/cgo"
	"unsafe"
)

// CanonicalJSON reads libxl_domain_config JSON into libxl and writes it
// out again: libxl's own form of the configuration, defaults dropped, as
// libvirt's libxlxml2domconfigtest compares them.
func (c *Context) CanonicalJSON(js []byte) ([]byte, error) {
	defer c.hold()()
	return canonical(c.ctx, c.sink, js)
}

// OfflineCanonicalJSON is CanonicalJSON on a host without Xen, where no
// libxl context can be opened: libxl's JSON functions get a stand-in
// context that carries only a logger. For tests.
func OfflineCanonicalJSON(js []byte, log *slog.Logger) ([]byte, error) {
	if log == nil {
		log = slog.Default()
	}
	return withOfflineCtx(log, func(ctx *C.libxl_ctx, sink *logSink) ([]byte, error) {
		return canonical(ctx, sink, js)
	})
}

// withOfflineCtx runs fn on a stand-in libxl context whose logger feeds log.
func withOfflineCtx(log *slog.Logger, fn func(*C.libxl_ctx, *logSink) ([]byte, error)) ([]byte, error) {
	sink := &logSink{log: log}
	h := cgo.NewHandle(sink)
	defer h.Delete()
	lg := C.vx_logger_new(C.uintptr_t(h), xtlLevel(log))
	if lg == nil {
		return nil, newError("xentoollog", errNoMem, "")
	}
	defer C.xtl_logger_destroy(lg)
	ctx := C.vx_offline_ctx(lg)
	if ctx == nil {
		return nil, newError("calloc", errNoMem, "")
	}
	defer C.vx_offline_ctx_free(ctx)
	return fn(ctx, sink)
}

func canonical(ctx *C.libxl_ctx, sink *logSink, js []byte) ([]byte, error) {
	cs, free := cstring(string(js))
	defer free()
	var rc C.int
	out := C.vx_canonical(ctx, cs, &rc)
	if rc != 0 {
		return nil, newError("libxl_domain_config_from_json", int(rc), sink.takeLastError())
	}
	if out == nil {
		return nil, newError("libxl_domain_config_to_json", errNoMem, sink.takeLastError())
	}
	defer C.free(unsafe.Pointer(out))
	return []byte(C.GoString(out)), nil
}

// offlineCPUIDJSON is libxl's own translation of one xl CPUID setting
// ("sse3=0") into a configuration's JSON, on a stand-in context. For tests
// of the CPUID table.
func offlineCPUIDJSON(setting string) ([]byte, error) {
	return withOfflineCtx(slog.Default(), func(ctx *C.libxl_ctx, _ *logSink) ([]byte, error) {
		cs, free := cstring(setting)
		defer free()
		var rc C.int
		out := C.vx_cpuid_json(ctx, cs, &rc)
		if rc != 0 {
			return nil, newError("libxl_cpuid_parse_config", int(rc), setting)
		}
		defer C.free(unsafe.Pointer(out))
		return []byte(C.GoString(out)), nil
	})
}
