// Package libxlconf translates a domain definition into libxl's domain
// configuration (libxltypes.DomainConfig), as libvirt's libxl driver does
// in src/libxl/libxl_conf.c (libxlBuildDomainConfig and its helpers): what
// libvirt asks libxl for, this package asks for too, and what libvirt
// refuses it refuses with libvirt's error. The driver runs it once per
// start, before any backend call; what it needs to know of the host and
// of the driver's configuration (graphics ports included) comes in a Host.
//
// It is pure Go and built everywhere, so it is tested on every machine.
// Tests: the conformance tests compare the translation of libvirt's
// libxlxml2domconfigdata fixtures with libvirt's expected JSON, knowing
// libxl's defaults (testdata/known-gaps.txt lists the cases that differ;
// its goal is empty); golden files cover what the fixtures do not. The
// libxl backend's tests (-tags libxl) also compare as libvirt does, after
// both documents went through libxl's own JSON reader.
package libxlconf
