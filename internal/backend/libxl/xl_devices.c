//go:build libxl

#include <stdlib.h>
#include <string.h>
#include <libxl.h>
#include <libxl_utils.h>

#include "xl_ao.h"
#include "xl_devices.h"

struct vx_dev {
	int kind;
	union {
		libxl_device_disk disk;
		libxl_device_nic nic;
		libxl_device_pci pci;
		libxl_device_usbctrl usbctrl;
		libxl_device_usbdev usbdev;
	} u;
};

static struct vx_dev *vx_dev_new(int kind)
{
	struct vx_dev *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->kind = kind;
	switch (kind) {
	case VX_DISK: libxl_device_disk_init(&d->u.disk); break;
	case VX_NIC: libxl_device_nic_init(&d->u.nic); break;
	case VX_PCI: libxl_device_pci_init(&d->u.pci); break;
	case VX_USBCTRL: libxl_device_usbctrl_init(&d->u.usbctrl); break;
	case VX_USBDEV: libxl_device_usbdev_init(&d->u.usbdev); break;
	}
	return d;
}

void vx_dev_free(struct vx_dev *d)
{
	if (!d)
		return;
	switch (d->kind) {
	case VX_DISK: libxl_device_disk_dispose(&d->u.disk); break;
	case VX_NIC: libxl_device_nic_dispose(&d->u.nic); break;
	case VX_PCI: libxl_device_pci_dispose(&d->u.pci); break;
	case VX_USBCTRL: libxl_device_usbctrl_dispose(&d->u.usbctrl); break;
	case VX_USBDEV: libxl_device_usbdev_dispose(&d->u.usbdev); break;
	}
	free(d);
}

struct vx_dev *vx_dev_from_json(libxl_ctx *ctx, int kind, const char *json, int *rc)
{
	struct vx_dev *d = vx_dev_new(kind);

	if (!d) {
		*rc = ERROR_NOMEM;
		return NULL;
	}
	switch (kind) {
	case VX_DISK: *rc = libxl_device_disk_from_json(ctx, &d->u.disk, json); break;
	case VX_NIC: *rc = libxl_device_nic_from_json(ctx, &d->u.nic, json); break;
	case VX_PCI: *rc = libxl_device_pci_from_json(ctx, &d->u.pci, json); break;
	case VX_USBCTRL: *rc = libxl_device_usbctrl_from_json(ctx, &d->u.usbctrl, json); break;
	case VX_USBDEV: *rc = libxl_device_usbdev_from_json(ctx, &d->u.usbdev, json); break;
	default: *rc = ERROR_INVAL;
	}
	if (*rc) {
		vx_dev_free(d);
		return NULL;
	}
	return d;
}

/* The guest's device that key names, copied from libxl's list of the
 * guest's devices of its kind into d: a disk by its vdev, a NIC by its MAC,
 * a USB controller by its devid, a USB device by its host bus and address,
 * a PCI device by its address. ERROR_NOTFOUND if none (libxl's own lookups,
 * libxl_vdev_to_device_disk and libxl_mac_to_device_nic, fail with
 * ERROR_FAIL then). */
static int vx_find_listed(libxl_ctx *ctx, uint32_t domid, const struct vx_dev *key, struct vx_dev *d)
{
	int i, n = 0, rc = ERROR_NOTFOUND;

	if (key->kind == VX_DISK) {
		libxl_device_disk *l = libxl_device_disk_list(ctx, domid, &n);
		for (i = 0; i < n && rc; i++)
			if (l[i].vdev && key->u.disk.vdev && !strcmp(l[i].vdev, key->u.disk.vdev)) {
				libxl_device_disk_copy(ctx, &d->u.disk, &l[i]);
				rc = 0;
			}
		libxl_device_disk_list_free(l, n);
	} else if (key->kind == VX_NIC) {
		libxl_device_nic *l = libxl_device_nic_list(ctx, domid, &n);
		for (i = 0; i < n && rc; i++)
			if (!memcmp(l[i].mac, key->u.nic.mac, sizeof(l[i].mac))) {
				libxl_device_nic_copy(ctx, &d->u.nic, &l[i]);
				rc = 0;
			}
		libxl_device_nic_list_free(l, n);
	} else if (key->kind == VX_USBCTRL) {
		libxl_device_usbctrl *l = libxl_device_usbctrl_list(ctx, domid, &n);
		for (i = 0; i < n && rc; i++)
			if (l[i].devid == key->u.usbctrl.devid) {
				libxl_device_usbctrl_copy(ctx, &d->u.usbctrl, &l[i]);
				rc = 0;
			}
		libxl_device_usbctrl_list_free(l, n);
	} else if (key->kind == VX_USBDEV) {
		libxl_device_usbdev *l = libxl_device_usbdev_list(ctx, domid, &n);
		for (i = 0; i < n && rc; i++)
			if (l[i].type == LIBXL_USBDEV_TYPE_HOSTDEV &&
			    l[i].u.hostdev.hostbus == key->u.usbdev.u.hostdev.hostbus &&
			    l[i].u.hostdev.hostaddr == key->u.usbdev.u.hostdev.hostaddr) {
				libxl_device_usbdev_copy(ctx, &d->u.usbdev, &l[i]);
				rc = 0;
			}
		libxl_device_usbdev_list_free(l, n);
	} else if (key->kind == VX_PCI) {
		libxl_device_pci *l = libxl_device_pci_list(ctx, domid, &n);
		for (i = 0; i < n && rc; i++)
			if (l[i].domain == key->u.pci.domain && l[i].bus == key->u.pci.bus &&
			    l[i].dev == key->u.pci.dev && l[i].func == key->u.pci.func) {
				libxl_device_pci_copy(ctx, &d->u.pci, &l[i]);
				rc = 0;
			}
		libxl_device_pci_list_free(l, n);
	}
	return rc;
}

/* The guest's device that key names, as libxl knows it. */
struct vx_dev *vx_dev_lookup(libxl_ctx *ctx, uint32_t domid, const struct vx_dev *key, int *rc)
{
	struct vx_dev *d = vx_dev_new(key->kind);

	if (!d) {
		*rc = ERROR_NOMEM;
		return NULL;
	}
	*rc = vx_find_listed(ctx, domid, key, d);
	if (*rc) {
		vx_dev_free(d);
		return NULL;
	}
	return d;
}

int vx_dev_op(libxl_ctx *ctx, uint32_t domid, struct vx_dev *d, int op, uintptr_t handle)
{
	libxl_asyncop_how how = vx_ao_how(handle);

	switch (d->kind * 4 + op) {
	case VX_DISK * 4 + VX_ADD: return libxl_device_disk_add(ctx, domid, &d->u.disk, &how);
	case VX_DISK * 4 + VX_REMOVE: return libxl_device_disk_safe_remove(ctx, domid, &d->u.disk, &how);
	case VX_DISK * 4 + VX_INSERT: return libxl_cdrom_insert(ctx, domid, &d->u.disk, &how);
	case VX_NIC * 4 + VX_ADD: return libxl_device_nic_add(ctx, domid, &d->u.nic, &how);
	case VX_NIC * 4 + VX_REMOVE: return libxl_device_nic_remove(ctx, domid, &d->u.nic, &how);
	case VX_PCI * 4 + VX_ADD: return libxl_device_pci_add(ctx, domid, &d->u.pci, &how);
	case VX_PCI * 4 + VX_REMOVE: return libxl_device_pci_remove(ctx, domid, &d->u.pci, &how);
	case VX_USBCTRL * 4 + VX_ADD: return libxl_device_usbctrl_add(ctx, domid, &d->u.usbctrl, &how);
	case VX_USBCTRL * 4 + VX_REMOVE: return libxl_device_usbctrl_remove(ctx, domid, &d->u.usbctrl, &how);
	case VX_USBDEV * 4 + VX_ADD: return libxl_device_usbdev_add(ctx, domid, &d->u.usbdev, &how);
	case VX_USBDEV * 4 + VX_REMOVE: return libxl_device_usbdev_remove(ctx, domid, &d->u.usbdev, &how);
	}
	return ERROR_INVAL;
}

char *vx_dev_to_json(libxl_ctx *ctx, struct vx_dev *d)
{
	switch (d->kind) {
	case VX_DISK: return libxl_device_disk_to_json(ctx, &d->u.disk);
	case VX_NIC: return libxl_device_nic_to_json(ctx, &d->u.nic);
	case VX_PCI: return libxl_device_pci_to_json(ctx, &d->u.pci);
	case VX_USBCTRL: return libxl_device_usbctrl_to_json(ctx, &d->u.usbctrl);
	case VX_USBDEV: return libxl_device_usbdev_to_json(ctx, &d->u.usbdev);
	}
	return NULL;
}
