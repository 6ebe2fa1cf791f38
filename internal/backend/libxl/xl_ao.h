//go:build libxl

/* libxl's asynchronous calls: the libxl_asyncop_how whose callback hands
 * the call's result to Go (goLibxlAODone, by the cgo handle of a channel),
 * and the abort of a call made with it. Device hotplug and save share it. */
#ifndef VIRTXEND_XL_AO_H
#define VIRTXEND_XL_AO_H

#include <stdint.h>
#include <libxl.h>

libxl_asyncop_how vx_ao_how(uintptr_t handle);
int vx_ao_abort(libxl_ctx *ctx, uintptr_t handle);

#endif
