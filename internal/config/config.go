// Package config holds the typed contents of virtxend.conf and libxl.conf,
// their defaults (libvirt's), validation, and the difference between two
// loads for SIGHUP. internal/virconf parses the syntax.
//
// Every key libvirt's virtxend reads is accepted with libvirt's default and
// type rules; unknown keys are ignored, as in libvirt. Values libvirt
// refuses at start-up, values that would leave the daemon unable to serve
// anyone (max_clients = 0, ...) and features this daemon does not have yet
// (polkit, SASL, lock managers) are errors of the form
// "PATH:LINE: KEY: message". conf/virtxend.conf and conf/libxl.conf
// document every key.
package config

import "io/fs"

// Daemon is virtxend.conf. Field comments name the key.
type Daemon struct {
	UnixSockGroup      string      // unix_sock_group; "" = leave the group alone
	UnixSockRWPerms    fs.FileMode // unix_sock_rw_perms (written in octal; only the 0777 bits)
	UnixSockROPerms    fs.FileMode // unix_sock_ro_perms
	UnixSockAdminPerms fs.FileMode // unix_sock_admin_perms
	UnixSockDir        string      // unix_sock_dir; "" = the runstate default
	AuthUnixRO         string      // auth_unix_ro: only "none" is offered
	AuthUnixRW         string      // auth_unix_rw: only "none" is offered
	AccessDrivers      []string    // access_drivers: empty or "none" only
	SASLAllowedUsers   []string    // sasl_allowed_username_list (kept; unused without SASL)

	MaxClients          uint // max_clients, at least 1
	MaxQueuedClients    uint // max_queued_clients
	MaxAnonymousClients uint // max_anonymous_clients
	MinWorkers          uint // min_workers; above max_workers it is clamped by the pool, as in libvirt
	MaxWorkers          uint // max_workers, at least 1
	PrioWorkers         uint // prio_workers
	MaxClientRequests   uint // max_client_requests, at least 1

	AdminMinWorkers        uint // admin_min_workers
	AdminMaxWorkers        uint // admin_max_workers; 0 = no pool, calls run one at a time (libvirt)
	AdminMaxClients        uint // admin_max_clients, at least 1
	AdminMaxQueuedClients  uint // admin_max_queued_clients
	AdminMaxClientRequests uint // admin_max_client_requests, at least 1

	LogLevel   uint   // log_level 0..4; 0 = the default (3, warning)
	LogFilters string // log_filters
	LogOutputs string // log_outputs

	AuditLevel     uint   // audit_level: 0 off, 1 if available, 2+ required
	AuditLogging   bool   // audit_logging
	HostUUID       string // host_uuid; "" = unset; valid per ParseHostUUID
	HostUUIDSource string // host_uuid_source: "smbios" or "machine-id"

	KeepaliveInterval      int  // keepalive_interval; -1 = never send PINGs
	KeepaliveCount         uint // keepalive_count
	AdminKeepaliveInterval int  // admin_keepalive_interval
	AdminKeepaliveCount    uint // admin_keepalive_count
	OvsTimeout             uint // ovs_timeout (kept; this daemon drives no Open vSwitch)
}

// DefaultDaemon returns libvirt's defaults for a privileged virtxend built
// without polkit.
func DefaultDaemon() *Daemon {
	return &Daemon{
		UnixSockRWPerms: 0o700, UnixSockROPerms: 0o777, UnixSockAdminPerms: 0o700,
		AuthUnixRO: "none", AuthUnixRW: "none",
		MaxClients: 5000, MaxQueuedClients: 1000, MaxAnonymousClients: 20,
		MinWorkers: 5, MaxWorkers: 20, PrioWorkers: 5, MaxClientRequests: 5,
		AdminMinWorkers: 5, AdminMaxWorkers: 20, AdminMaxClients: 5000,
		AdminMaxQueuedClients: 20, AdminMaxClientRequests: 5,
		AuditLevel: 1, HostUUIDSource: "smbios",
		KeepaliveInterval: 5, KeepaliveCount: 5,
		AdminKeepaliveInterval: 5, AdminKeepaliveCount: 5,
		OvsTimeout: 5,
	}
}

// Backends selectable with libxl.conf's backend key.
const (
	BackendLibxl     = "libxl"
	BackendSimulated = "simulated"
)

// Libxl is libxl.conf: libvirt's keys plus the backend choice and the shape
// of the simulated host.
type Libxl struct {
	Backend           string // backend: "libxl" | "simulated" | "" (choose)
	Autoballoon       bool   // autoballoon
	AutoballoonSet    bool   // autoballoon appeared in the file
	LockManager       string // lock_manager: "" (unset) or "nop"
	KeepaliveInterval int    // keepalive_interval (migration connections)
	KeepaliveCount    uint   // keepalive_count
	NestedHVM         bool   // nested_hvm
	// MigrationPortMin and MigrationPortMax (migration_port_min/_max, ours)
	// bound the ports an incoming migration listens on; libvirt fixes
	// them at 49152-49216.
	MigrationPortMin int
	MigrationPortMax int
	FileExists       bool // libxl.conf was present (libvirt skips autoballoon detection otherwise)
	Sim              SimHost
}

// SimHost is the shape of the simulated Xen host (sim_* keys).
type SimHost struct {
	CPUs          int    // sim_cpus
	MemoryMiB     uint64 // sim_memory_mib: host RAM
	Dom0MemoryMiB uint64 // sim_dom0_memory_mib: Domain-0's initial allocation
	XenVersion    string // sim_xen_version, "major.minor.micro"
	CPUMHz        int    // sim_cpu_mhz
	Scheduler     string // sim_scheduler: credit2 (Xen's default), credit, ...
	// PCISysfs is sim_pci_sysfs: the sysfs PCI tree (/sys/bus/pci) whose
	// devices the simulated host has, read and never written.
	PCISysfs string
}

// DefaultLibxl returns libvirt's libxl.conf defaults and a modest simulated host.
func DefaultLibxl() *Libxl {
	return &Libxl{
		KeepaliveInterval: 5, KeepaliveCount: 5,
		MigrationPortMin: 49152, MigrationPortMax: 49216,
		Sim: SimHost{CPUs: 4, MemoryMiB: 16384, Dom0MemoryMiB: 4096, XenVersion: "4.17.0", CPUMHz: 2400, Scheduler: "credit2", PCISysfs: "/sys/bus/pci"},
	}
}
