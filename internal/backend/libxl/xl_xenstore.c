//go:build libxl

#include <errno.h>
#include <string.h>
#include <xenstore.h>

#include "xl_xenstore.h"

/* vx_xs_transact makes change in a transaction of its own connection to
 * xenstored, committed when change returns 0 and dropped otherwise; a
 * commit refused because another transaction changed the same nodes
 * (EAGAIN) is tried again, 5 times in all. 0, or an errno. */
int vx_xs_transact(vx_xs_change change, void *arg)
{
	struct xs_handle *xs;
	xs_transaction_t t;
	int err = 0, tries;

	xs = xs_open(0);
	if (!xs)
		return errno ? errno : EIO;
	for (tries = 0; tries < 5; tries++) {
		t = xs_transaction_start(xs);
		if (t == XBT_NULL) {
			err = errno ? errno : EIO;
			break;
		}
		err = change(xs, t, arg);
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

/* vx_xs_set writes val at path, or removes path (NULL; already gone is
 * fine). 0, or an errno. */
int vx_xs_set(struct xs_handle *xs, xs_transaction_t t, const char *path, const char *val)
{
	if (val ? xs_write(xs, t, path, val, strlen(val)) : xs_rm(xs, t, path))
		return 0;
	if (!val && errno == ENOENT)
		return 0;
	return errno ? errno : EIO;
}
