// Package buildinfo names the daemon and the libvirt release whose protocol
// and behaviour it reproduces.
package buildinfo

const (
	// Program is the daemon's name, used in messages and socket names.
	Program = "virtxend"
	// Package is the package name printed by --version, as libvirt's daemons do.
	Package = "libvirt"
	// Version is the libvirt release this daemon answers as (virConnectGetLibVersion).
	Version = "11.3.0"
	// LibVersion is Version encoded as libvirt does: major*1e6 + minor*1e3 + micro.
	LibVersion uint64 = 11003000
)
