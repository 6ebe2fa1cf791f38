// Package libxl is the real Xen backend: it drives Xen through libxl
// (libxenlight), built only with the build tag libxl against Debian's
// libxen-dev.
//
// It receives a guest as libxl's domain configuration
// (libxltypes.DomainConfig), which the driver translated once from the
// domain XML (internal/libxlconf), and hands its JSON to libxl as given:
// graphics ports included, so the ports the live XML shows are the ones
// the guest has. It tells libxl that the Go runtime owns SIGCHLD, and runs
// libxl's application poll loop for domain events.
//
// Tests: with -tags libxl the translation is compared as libvirt's
// libxlxml2domconfigtest does, byte for byte after both documents went
// through libxl's own JSON reader and writer, which works on any host with
// libxen-dev: libxl's JSON functions run on a stand-in context. The
// backend conformance suite runs with -tags libxl as root in a Xen dom0
// (test/xen).
package libxl
