// Package libxl is the real Xen backend: it drives Xen through libxl
// (libxenlight), built only with the build tag libxl against Debian's
// libxen-dev.
//
// It translates a domain definition with internal/libxlconf (the pure-Go
// translation into libxl's libxl_domain_config) and hands the JSON to
// libxl. It tells libxl that the Go runtime owns SIGCHLD, and runs libxl's
// application poll loop for domain events.
//
// Tests: with -tags libxl the translation is compared as libvirt's
// libxlxml2domconfigtest does, byte for byte after both documents went
// through libxl's own JSON reader and writer, which works on any host with
// libxen-dev: libxl's JSON functions run on a stand-in context. The
// backend conformance suite runs with -tags libxl as root in a Xen dom0
// (test/xen).
package libxl
