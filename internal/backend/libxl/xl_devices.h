//go:build libxl

/* Device hotplug through libxl's asynchronous device calls: a device
 * struct read from its JSON (or looked up among the guest's), the call
 * with a libxl_asyncop_how whose callback hands the result to Go
 * (xl_ao.h), the struct kept until then. */
#ifndef VIRTXEND_XL_DEVICES_H
#define VIRTXEND_XL_DEVICES_H

#include <stdint.h>
#include <libxl.h>

/* Device kinds. */
enum { VX_DISK, VX_NIC, VX_PCI, VX_USBCTRL, VX_USBDEV };
/* Operations. VX_REMOVE of a disk is libxl_device_disk_safe_remove. */
enum { VX_ADD, VX_REMOVE, VX_INSERT };

struct vx_dev;

struct vx_dev *vx_dev_from_json(libxl_ctx *ctx, int kind, const char *json, int *rc);
struct vx_dev *vx_dev_lookup(libxl_ctx *ctx, uint32_t domid, const struct vx_dev *key, int *rc);
int vx_dev_op(libxl_ctx *ctx, uint32_t domid, struct vx_dev *d, int op, uintptr_t handle);
char *vx_dev_to_json(libxl_ctx *ctx, struct vx_dev *d);
void vx_dev_free(struct vx_dev *d);

#endif
