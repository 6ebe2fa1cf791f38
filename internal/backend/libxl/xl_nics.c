//go:build libxl

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <xenstore.h>

#include "xl_nics.h"
#include "xl_xenstore.h"

struct nic_rate {
	uint32_t domid;
	const char *mac, *rate;
};

/* set_nic_rate is vx_xs_nic_rate's change: ENOENT without such a vif. */
static int set_nic_rate(struct xs_handle *xs, xs_transaction_t t, void *arg)
{
	const struct nic_rate *r = arg;
	char dir[64], path[160], *val, *be, **ids;
	unsigned int len, n, i;
	int err = ENOENT;

	snprintf(dir, sizeof(dir), "/libxl/%u/device/vif", r->domid);
	ids = xs_directory(xs, t, dir, &n);
	for (i = 0; ids && i < n && err == ENOENT; i++) {
		snprintf(path, sizeof(path), "%s/%s/mac", dir, ids[i]);
		val = xs_read(xs, t, path, &len);
		if (val && !strcasecmp(val, r->mac)) {
			snprintf(path, sizeof(path), "%s/%s/backend", dir, ids[i]);
			be = xs_read(xs, t, path, &len);
			err = be ? 0 : ENOENT;
			if (be && strlen(be) + sizeof("/rate") > sizeof(path))
				err = ENAMETOOLONG;
			if (!err) {
				snprintf(path, sizeof(path), "%s/%s/rate", dir, ids[i]);
				err = vx_xs_set(xs, t, path, r->rate);
			}
			if (!err) {
				snprintf(path, sizeof(path), "%s/rate", be);
				err = vx_xs_set(xs, t, path, r->rate);
			}
			free(be);
		}
		free(val);
	}
	free(ids);
	return err;
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
	struct nic_rate r = {domid, mac, rate};

	return vx_xs_transact(set_nic_rate, &r);
}
