// Package libxl is the real Xen backend: it drives Xen through libxl
// (libxenlight).
//
// The translation of a domain definition into libxl's libxl_domain_config
// JSON (BuildDomainConfig) is pure Go and built everywhere, so it is tested
// on every machine. It follows libvirt's libxl driver (src/libxl/
// libxl_conf.c, libxlBuildDomainConfig and its helpers): what libvirt asks
// libxl for, this package asks for too. What it needs to know of the host
// and the driver's configuration comes in a Host.
//
// The cgo layer, built only with the build tag libxl against Debian's
// libxen-dev, hands that JSON to libxl (Context, Backend). It tells libxl
// that the Go runtime owns SIGCHLD, and runs libxl's application poll loop
// for domain events.
//
// Tests: the conformance tests compare the translation of libvirt's
// libxlxml2domconfigdata fixtures with libvirt's expected JSON, knowing
// libxl's defaults (testdata/known-gaps.txt lists the cases that differ;
// its goal is empty). With -tags libxl they also compare as libvirt does,
// byte for byte after both documents went through libxl's own JSON reader
// and writer, which works on any host with libxen-dev: libxl's JSON
// functions run on a stand-in context. The backend conformance suite runs
// with -tags libxl as root in a Xen dom0.
package libxl
