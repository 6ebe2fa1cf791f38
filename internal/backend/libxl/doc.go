// Package libxl is the real Xen backend: it drives Xen through libxl
// (libxenlight). The translation of a domain definition into libxl's
// libxl_domain_config JSON is pure Go and built everywhere, so it is
// tested on every machine; the cgo layer that hands that JSON to libxl is
// built only with the build tag libxl.
//
// The translation follows libvirt's libxl driver (src/libxl/libxl_conf.c,
// libxlBuildDomainConfig and its helpers): what libvirt would ask libxl
// for, this package asks for too.
package libxl
