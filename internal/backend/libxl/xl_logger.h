//go:build libxl

/* A xentoollog logger that hands each message to Go (goLibxlLog). */
#ifndef VIRTXEND_XL_LOGGER_H
#define VIRTXEND_XL_LOGGER_H

#include <stdint.h>
#include <libxl.h>
#include <xentoollog.h>

xentoollog_logger *vx_logger_new(uintptr_t handle, int min_level);
void vx_logger_set_level(xentoollog_logger *l, int min_level);
int vx_childproc_mainloop(libxl_ctx *ctx);
libxl_ctx *vx_offline_ctx(xentoollog_logger *lg);
void vx_offline_ctx_free(libxl_ctx *ctx);
int vx_poll_once(libxl_ctx *ctx, int wakefd, uintptr_t handle);
void vx_event_hooks(libxl_ctx *ctx, uintptr_t handle);

#endif
