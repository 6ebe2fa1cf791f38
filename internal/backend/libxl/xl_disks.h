//go:build libxl

/* A running guest's disks as libxl keeps them, for their snapshots
 * (snapshot_libxl.go): which backend serves a disk, and the image its
 * configuration names, in libxl's stored configuration and in xenstore. */
#ifndef VIRTXEND_XL_DISKS_H
#define VIRTXEND_XL_DISKS_H

#include <stdint.h>
#include <libxl.h>

int vx_disk_served(libxl_ctx *ctx, uint32_t domid, const char *vdev,
		   int *backend, uint32_t *backend_domid, int *cdrom);
int vx_stored_disks_repoint(libxl_ctx *ctx, uint32_t domid, int n,
			    char **vdevs, char **paths, const char *format, int *missing);
int vx_xs_disk_params(uint32_t domid, int devid, const char *vdev, const char *params);

#endif
