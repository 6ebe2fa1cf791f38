//go:build libxl

#include <string.h>
#include <libxl.h>

#include "xl_ao.h"
#include "_cgo_export.h"

static void vx_ao_done(libxl_ctx *ctx, int rc, void *for_callback)
{
	(void)ctx;
	goLibxlAODone((uintptr_t)for_callback, rc);
}

libxl_asyncop_how vx_ao_how(uintptr_t handle)
{
	libxl_asyncop_how how;

	memset(&how, 0, sizeof(how));
	how.callback = vx_ao_done;
	how.u.for_callback = (void *)handle;
	return how;
}

/* libxl_ao_abort finds the call by its how's for_callback. */
int vx_ao_abort(libxl_ctx *ctx, uintptr_t handle)
{
	libxl_asyncop_how how = vx_ao_how(handle);

	return libxl_ao_abort(ctx, &how);
}
