// Package paths derives every file location of the daemon from three roots:
// sysconf (/etc), localstate (/var) and runstate (/run). VIRTXEND_ROOT=DIR
// prefixes all three so that tests and trial runs never touch the host.
package paths

import (
	"os"
	"path/filepath"
)

// RootEnv is the environment variable that relocates all three roots.
const RootEnv = "VIRTXEND_ROOT"

// Paths holds the three roots; every location is computed from them.
type Paths struct {
	SysConfDir    string // /etc
	LocalStateDir string // /var
	RunStateDir   string // /run
}

// Default returns the roots of a real host.
func Default() Paths {
	return Paths{SysConfDir: "/etc", LocalStateDir: "/var", RunStateDir: "/run"}
}

// Under returns the roots relocated below dir.
func Under(dir string) Paths {
	return Paths{
		SysConfDir:    filepath.Join(dir, "etc"),
		LocalStateDir: filepath.Join(dir, "var"),
		RunStateDir:   filepath.Join(dir, "run"),
	}
}

// FromEnv honours VIRTXEND_ROOT, else returns Default.
func FromEnv() Paths {
	if dir := os.Getenv(RootEnv); dir != "" {
		return Under(dir)
	}
	return Default()
}

// DaemonConfig is the default virtxend.conf.
func (p Paths) DaemonConfig() string {
	return filepath.Join(p.SysConfDir, "libvirt", "virtxend.conf")
}

// HookDir holds libvirt's hook scripts (/etc/libvirt/hooks).
func (p Paths) HookDir() string { return filepath.Join(p.SysConfDir, "libvirt", "hooks") }

// LibxlConfig is libxl.conf; its location cannot be changed by an option.
func (p Paths) LibxlConfig() string {
	return filepath.Join(p.SysConfDir, "libvirt", "libxl.conf")
}

// SocketDir is the default directory of the three sockets (unix_sock_dir).
func (p Paths) SocketDir() string { return filepath.Join(p.RunStateDir, "libvirt") }

// PidFile is the default pid file; it is not under /run/libvirt, as in libvirt.
func (p Paths) PidFile() string { return filepath.Join(p.RunStateDir, "virtxend.pid") }

// Socket names inside the socket directory.
const (
	RWSocketName    = "virtxend-sock"
	ROSocketName    = "virtxend-sock-ro"
	AdminSocketName = "virtxend-admin-sock"
)

// DomainConfigDir holds persistent domain XML (NAME.xml).
func (p Paths) DomainConfigDir() string { return filepath.Join(p.SysConfDir, "libvirt", "libxl") }

// AutostartDir holds the autostart links of persistent domains.
func (p Paths) AutostartDir() string { return filepath.Join(p.DomainConfigDir(), "autostart") }

// StateDir holds the live status XML of running domains and the driver lock.
func (p Paths) StateDir() string { return filepath.Join(p.RunStateDir, "libvirt", "libxl") }

// DriverLock is the pid file that keeps two daemons from driving one host.
func (p Paths) DriverLock() string { return filepath.Join(p.StateDir(), "driver.pid") }

// HostdevState is where the driver keeps which host PCI devices guests
// use (internal/hostdev).
func (p Paths) HostdevState() string { return filepath.Join(p.StateDir(), "hostdevs.json") }

// AutostartMarker exists once autostart has run since the host booted.
func (p Paths) AutostartMarker() string { return filepath.Join(p.StateDir(), "autostarted") }

// LibDir is the driver's variable data directory.
func (p Paths) LibDir() string { return filepath.Join(p.LocalStateDir, "lib", "libvirt", "libxl") }

// SaveDir holds managed save images.
func (p Paths) SaveDir() string { return filepath.Join(p.LibDir(), "save") }

// DumpDir holds core dumps.
func (p Paths) DumpDir() string { return filepath.Join(p.LibDir(), "dump") }

// SnapshotDir holds each domain's snapshot metadata, one directory per
// domain and a file per snapshot, where libvirt's QEMU driver keeps its
// own (cfg->snapshotDir: /var/lib/libvirt/qemu/snapshot).
func (p Paths) SnapshotDir() string { return filepath.Join(p.LibDir(), "snapshot") }

// LogDir is the daemon's log directory.
func (p Paths) LogDir() string { return filepath.Join(p.LocalStateDir, "log", "libvirt") }

// DaemonLog is the file output used by default when daemonized without journald.
func (p Paths) DaemonLog() string { return filepath.Join(p.LogDir(), "virtxend.log") }

// LibxlLogDir holds per-domain hypervisor logs.
func (p Paths) LibxlLogDir() string { return filepath.Join(p.LogDir(), "libxl") }

// SimHostDir holds the simulated Xen host's state. It lives under the
// runstate root so that, like a real hypervisor, it outlives the daemon but
// not a reboot of the host.
func (p Paths) SimHostDir() string { return filepath.Join(p.RunStateDir, "virtxend-simhost") }
