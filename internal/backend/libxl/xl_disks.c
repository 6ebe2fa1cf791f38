//go:build libxl

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <libxl.h>
#include <xenstore.h>

#include "xl_disks.h"
#include "xl_xenstore.h"

/* vx_disk_served: the backend that serves domain domid's disk vdev
 * (LIBXL_DISK_BACKEND_*: qdisk is the device model's), the domain it runs
 * in and whether the disk is a cdrom, as libxl lists the disks from
 * xenstore; 1 when the domain has no such disk (or is gone: libxl's list
 * does not tell). */
int vx_disk_served(libxl_ctx *ctx, uint32_t domid, const char *vdev,
		   int *backend, uint32_t *backend_domid, int *cdrom)
{
	libxl_device_disk *disks;
	int i, n = 0, rc = 1;

	disks = libxl_device_disk_list(ctx, domid, &n);
	for (i = 0; i < n; i++) {
		if (disks[i].vdev && !strcmp(disks[i].vdev, vdev)) {
			*backend = disks[i].backend;
			*backend_domid = disks[i].backend_domid;
			*cdrom = disks[i].is_cdrom;
			rc = 0;
			break;
		}
	}
	if (disks)
		libxl_device_disk_list_free(disks, n);
	return rc;
}

/* vx_stored_disks_repoint: in the configuration libxl keeps for domain
 * domid (its "libxl-json" userdata, which libxl_retrieve_domain_configuration
 * reads, and so xl list -l, xl save and xl migrate), disk vdevs[i] gets the
 * image paths[i] of format. It is libxl's own read and write of that
 * configuration (libxl__get_domain_configuration, libxl__set_domain_configuration)
 * through the public userdata calls, each of which takes libxl's lock of
 * the domain's userdata: the two are not one step, and a device added or
 * removed in between by another process would be lost. ERROR_NOTFOUND with
 * *missing the index of a vdev the configuration lacks; nothing is stored
 * then. */
int vx_stored_disks_repoint(libxl_ctx *ctx, uint32_t domid, int n,
			    char **vdevs, char **paths, const char *format, int *missing)
{
	libxl_domain_config cfg;
	libxl_disk_format fmt;
	uint8_t *data = NULL;
	char *json = NULL;
	int i, j, len = 0, rc;

	*missing = -1;
	rc = libxl_disk_format_from_string(format, &fmt);
	if (rc)
		return rc;
	rc = libxl_userdata_retrieve(ctx, domid, "libxl-json", &data, &len);
	if (rc)
		return rc;
	if (len == 0)
		return ERROR_JSON_CONFIG_EMPTY;
	libxl_domain_config_init(&cfg);
	rc = libxl_domain_config_from_json(ctx, &cfg, (const char *)data);
	free(data);
	if (rc)
		goto out;
	for (i = 0; i < n; i++) {
		for (j = 0; j < cfg.num_disks; j++)
			if (cfg.disks[j].vdev && !strcmp(cfg.disks[j].vdev, vdevs[i]))
				break;
		if (j == cfg.num_disks) {
			*missing = i;
			rc = ERROR_NOTFOUND;
			goto out;
		}
		free(cfg.disks[j].pdev_path);
		cfg.disks[j].pdev_path = strdup(paths[i]);
		if (!cfg.disks[j].pdev_path) {
			rc = ERROR_NOMEM;
			goto out;
		}
		cfg.disks[j].format = fmt;
	}
	json = libxl_domain_config_to_json(ctx, &cfg);
	if (!json) {
		rc = ERROR_NOMEM;
		goto out;
	}
	/* with its '\0', as libxl stores it */
	rc = libxl_userdata_store(ctx, domid, "libxl-json", (const uint8_t *)json, strlen(json) + 1);
out:
	free(json);
	libxl_domain_config_dispose(&cfg);
	return rc;
}

struct disk_params {
	uint32_t domid;
	int devid;
	const char *vdev, *params;
};

/* set_disk_params is vx_xs_disk_params' change. */
static int set_disk_params(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct disk_params *d = arg;
	char path[128], *dev, *be;
	unsigned int len;
	int err = 0;

	snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%d/dev", d->domid, d->devid);
	dev = xs_read(xs, t, path, &len);
	snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%d/backend", d->domid, d->devid);
	be = xs_read(xs, t, path, &len);
	if (!dev || !be || strcmp(dev, d->vdev)) {
		err = ENOENT;
	} else {
		snprintf(path, sizeof(path), "/libxl/%u/device/vbd/%d/params", d->domid, d->devid);
		err = vx_xs_set(xs, t, path, d->params);
		if (!err && strlen(be) + sizeof("/params") > sizeof(path))
			err = ENAMETOOLONG;
		if (!err) {
			snprintf(path, sizeof(path), "%s/params", be);
			err = vx_xs_set(xs, t, path, d->params);
		}
	}
	free(dev);
	free(be);
	return err;
}

/* vx_xs_disk_params: the params of domain domid's vbd devid (libxl's
 * "FORMAT:PATH" of a qdisk disk), in libxl's own record of the device
 * (/libxl/DOMID/device/vbd/DEVID, which libxl_device_disk_list reads) and
 * in its backend's directory, become params, in one transaction, provided
 * the device is still vdev. QEMU read the backend's params when it made
 * the disk and does not watch them. 0, or an errno. */
int vx_xs_disk_params(uint32_t domid, int devid, const char *vdev, const char *params)
{
	struct disk_params d = {domid, devid, vdev, params};

	return vx_xs_transact(set_disk_params, &d);
}
