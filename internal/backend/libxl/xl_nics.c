//go:build libxl

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xenstore.h>

#include "xl_nics.h"

/* vx_xs_set writes val at path, or removes path (NULL; already gone is
 * fine). 0, or an errno. */
static int vx_xs_set(struct xs_handle *xs, xs_transaction_t t, const char *path, const char *val)
{
	if (val ? xs_write(xs, t, path, val, strlen(val)) : xs_rm(xs, t, path))
		return 0;
	if (!val && errno == ENOENT)
		return 0;
	return errno ? errno : EIO;
}

/* vx_xs_nic_rate: the rate limit of domain domid's vif of MAC address mac
 * ("aa:bb:cc:dd:ee:ff", any case): rate, netback's credit as libxl writes
 * it ("BYTES,USECS"), in the vif's backend directory, which netback
 * watches and applies at once (xen_net_rate_changed), and in libxl's
 * record of the device (/libxl/DOMID/device/vif/DEVID, which
 * libxl_device_nic_list reads); NULL removes both: no limit. One
 * transaction. 0, or an errno (ENOENT: no such vif). */
int vx_xs_nic_rate(uint32_t domid, const char *mac, const char *rate)
{
	struct xs_handle *xs;
	xs_transaction_t t;
	char dir[64], path[160], *val, *be, **ids;
	unsigned int len, n, i;
	int err = 0, tries;

	xs = xs_open(0);
	if (!xs)
		return errno ? errno : EIO;
	snprintf(dir, sizeof(dir), "/libxl/%u/device/vif", domid);
	for (tries = 0; tries < 5; tries++) {
		err = ENOENT;
		t = xs_transaction_start(xs);
		if (t == XBT_NULL) {
			err = errno ? errno : EIO;
			break;
		}
		ids = xs_directory(xs, t, dir, &n);
		for (i = 0; ids && i < n && err == ENOENT; i++) {
			snprintf(path, sizeof(path), "%s/%s/mac", dir, ids[i]);
			val = xs_read(xs, t, path, &len);
			if (val && !strcasecmp(val, mac)) {
				snprintf(path, sizeof(path), "%s/%s/backend", dir, ids[i]);
				be = xs_read(xs, t, path, &len);
				err = be ? 0 : ENOENT;
				if (be && strlen(be) + sizeof("/rate") > sizeof(path))
					err = ENAMETOOLONG;
				if (!err) {
					snprintf(path, sizeof(path), "%s/%s/rate", dir, ids[i]);
					err = vx_xs_set(xs, t, path, rate);
				}
				if (!err) {
					snprintf(path, sizeof(path), "%s/rate", be);
					err = vx_xs_set(xs, t, path, rate);
				}
				free(be);
			}
			free(val);
		}
		free(ids);
		if (!xs_transaction_end(xs, t, err != 0)) {
			if (!err && errno == EAGAIN)
				continue;
			if (!err)
				err = errno ? errno : EIO;
		}
		break;
	}
	xs_close(xs);
	return err;
}
