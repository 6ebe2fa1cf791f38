//go:build libxl

/* Changes to xenstore in one transaction, retried when another changed
 * the same nodes meanwhile (xl_disks.c, xl_nics.c). */
#ifndef VIRTXEND_XL_XENSTORE_H
#define VIRTXEND_XL_XENSTORE_H

#include <xenstore.h>

/* vx_xs_change is one attempt at a change: 0, or an errno. */
typedef int (*vx_xs_change)(struct xs_handle *xs, xs_transaction_t t, void *arg);

int vx_xs_transact(vx_xs_change change, void *arg);
int vx_xs_set(struct xs_handle *xs, xs_transaction_t t, const char *path, const char *val);

#endif
