//go:build libxl

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "xl_logger.h"
#include "_cgo_export.h"

struct vx_logger {
	xentoollog_logger base;
	uintptr_t handle;
	int min_level;
};

static void vx_vmessage(xentoollog_logger *l, xentoollog_level level,
                        int errnoval, const char *context,
                        const char *format, va_list al)
{
	struct vx_logger *vl = (struct vx_logger *)l;
	char buf[2048];

	if ((int)level < __atomic_load_n(&vl->min_level, __ATOMIC_RELAXED))
		return;
	vsnprintf(buf, sizeof(buf), format, al);
	goLibxlLog(vl->handle, (int)level, errnoval,
	           (char *)(context ? context : ""), buf);
}

void vx_logger_set_level(xentoollog_logger *l, int min_level)
{
	__atomic_store_n(&((struct vx_logger *)l)->min_level, min_level, __ATOMIC_RELAXED);
}

static void vx_destroy(xentoollog_logger *l)
{
	free(l);
}

xentoollog_logger *vx_logger_new(uintptr_t handle, int min_level)
{
	struct vx_logger *vl = calloc(1, sizeof(*vl));

	if (!vl)
		return NULL;
	vl->base.vmessage = vx_vmessage;
	vl->base.progress = NULL; /* allowed: no progress reports */
	vl->base.destroy = vx_destroy;
	vl->handle = handle;
	vl->min_level = min_level;
	return &vl->base;
}

/* The Go runtime owns SIGCHLD: libxl must not install a handler, and is
 * told of each SIGCHLD through libxl_childproc_sigchld_occurred. */
static const libxl_childproc_hooks vx_hooks = {
	.chldowner = libxl_sigchld_owner_mainloop,
};

int vx_childproc_mainloop(libxl_ctx *ctx)
{
	libxl_childproc_setmode(ctx, &vx_hooks, NULL);
	return 0;
}

/* A context for libxl's JSON functions only, on a host without Xen, for
 * tests: those functions use the context for nothing but its logger, the
 * first member of libxl's private struct libxl__ctx. Never pass it to
 * anything else. */
libxl_ctx *vx_offline_ctx(xentoollog_logger *lg)
{
	void **p = calloc(1, 1 << 16);

	if (!p)
		return NULL;
	*p = lg;
	return (libxl_ctx *)p;
}

void vx_offline_ctx_free(libxl_ctx *ctx)
{
	free(ctx);
}
