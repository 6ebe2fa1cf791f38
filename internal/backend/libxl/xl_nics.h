//go:build libxl

/* A running guest's NICs in xenstore (nics_libxl.go): the rate limit
 * netback applies to what a guest sends. */
#ifndef VIRTXEND_XL_NICS_H
#define VIRTXEND_XL_NICS_H

#include <stdint.h>

int vx_xs_nic_rate(uint32_t domid, const char *mac, const char *rate);

#endif
