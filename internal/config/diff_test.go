package config

import (
	"reflect"
	"testing"
)

func TestDiffDaemon(t *testing.T) {
	same := DefaultDaemon()
	same.AccessDrivers = []string{} // nil and empty are the same setting
	if live, restart := DiffDaemon(DefaultDaemon(), same); live != nil || restart != nil {
		t.Errorf("no change gave live %v restart %v", live, restart)
	}
	d := DefaultDaemon()
	d.LogLevel = 1
	d.LogOutputs = "1:stderr"
	d.MaxWorkers = 40
	d.AdminMaxClients = 3
	d.KeepaliveInterval = -1
	d.UnixSockDir = "/tmp/s"
	d.UnixSockRWPerms = 0o770
	d.AccessDrivers = []string{"none"}
	d.HostUUID = "00112233445566778899aabbccddeeff"
	d.MaxQueuedClients = 10
	live, restart := DiffDaemon(DefaultDaemon(), d)
	wantLive := []string{"max_workers", "admin_max_clients", "log_level", "log_outputs", "keepalive_interval"}
	wantRestart := []string{"unix_sock_rw_perms", "unix_sock_dir", "access_drivers", "max_queued_clients", "host_uuid"}
	if !reflect.DeepEqual(live, wantLive) || !reflect.DeepEqual(restart, wantRestart) {
		t.Errorf("live %v restart %v\nwant live %v restart %v", live, restart, wantLive, wantRestart)
	}
}

// Every key falls on the side documented for it.
func TestDiffDaemonEveryKey(t *testing.T) {
	old := DefaultDaemon()
	changed, err := ParseDaemon("v.conf", []byte(allDaemonKeys))
	if err != nil {
		t.Fatal(err)
	}
	live, restart := DiffDaemon(old, changed)
	wantLive := []string{
		"max_clients", "max_anonymous_clients", "min_workers", "max_workers", "prio_workers",
		"max_client_requests", "admin_min_workers", "admin_max_workers", "admin_max_clients",
		"admin_max_client_requests", "log_level", "log_filters", "log_outputs",
		"keepalive_interval", "keepalive_count", "admin_keepalive_interval", "admin_keepalive_count",
	}
	// auth_unix_* stay "none", so they do not change.
	wantRestart := []string{
		"unix_sock_group", "unix_sock_ro_perms", "unix_sock_rw_perms", "unix_sock_admin_perms",
		"unix_sock_dir", "access_drivers", "sasl_allowed_username_list", "max_queued_clients",
		"admin_max_queued_clients", "audit_level", "audit_logging", "host_uuid", "host_uuid_source",
		"ovs_timeout",
	}
	if !reflect.DeepEqual(live, wantLive) {
		t.Errorf("live %v\nwant %v", live, wantLive)
	}
	if !reflect.DeepEqual(restart, wantRestart) {
		t.Errorf("restart %v\nwant %v", restart, wantRestart)
	}
}

func TestDiffLibxl(t *testing.T) {
	if live, restart := DiffLibxl(DefaultLibxl(), DefaultLibxl()); live != nil || restart != nil {
		t.Errorf("no change gave live %v restart %v", live, restart)
	}
	changed, err := ParseLibxl("l.conf", []byte(allLibxlKeys))
	if err != nil {
		t.Fatal(err)
	}
	live, restart := DiffLibxl(DefaultLibxl(), changed)
	// autoballoon = 0 equals the default value, but it entered the file.
	want := []string{"autoballoon", "lock_manager", "keepalive_interval", "keepalive_count", "nested_hvm", "migration_port_min", "migration_port_max",
		"backend", "sim_cpus", "sim_memory_mib", "sim_dom0_memory_mib", "sim_xen_version", "sim_cpu_mhz", "sim_scheduler", "sim_pci_sysfs"}
	if live != nil || !reflect.DeepEqual(restart, want) {
		t.Errorf("live %v restart %v\nwant restart %v", live, restart, want)
	}
	a, b := DefaultLibxl(), DefaultLibxl()
	b.Autoballoon, b.AutoballoonSet = true, true
	if _, restart := DiffLibxl(a, b); !reflect.DeepEqual(restart, []string{"autoballoon"}) {
		t.Errorf("autoballoon change gave %v", restart)
	}
}
