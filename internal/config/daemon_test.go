package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestDaemonDefaults(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "virtxend.conf")
	d, err := LoadDaemon(missing, false)
	if err != nil {
		t.Fatalf("missing default file: %v", err)
	}
	if !reflect.DeepEqual(d, DefaultDaemon()) {
		t.Errorf("missing default file gave %+v", d)
	}
	_, err = LoadDaemon(missing, true)
	want := missing + ": cannot read configuration file: no such file or directory"
	if err == nil || err.Error() != want {
		t.Errorf("missing explicit file: %v, want %q", err, want)
	}
	// An empty or comment-only file is the defaults too.
	for _, src := range []string{"", "# nothing\n\n", "listen_tcp = 1\nunknown_key = [ 'x' ]\n"} {
		d, err := ParseDaemon("v.conf", []byte(src))
		if err != nil || !reflect.DeepEqual(d, DefaultDaemon()) {
			t.Errorf("ParseDaemon(%q) = %+v, %v; want the defaults", src, d, err)
		}
	}
}

// The defaults are libvirt's for a privileged daemon without polkit
// (daemonConfigNew in remote_daemon_config.c).
func TestDaemonDefaultValues(t *testing.T) {
	d := DefaultDaemon()
	want := Daemon{
		UnixSockRWPerms: 0o700, UnixSockROPerms: 0o777, UnixSockAdminPerms: 0o700,
		AuthUnixRO: "none", AuthUnixRW: "none",
		MaxClients: 5000, MaxQueuedClients: 1000, MaxAnonymousClients: 20,
		MinWorkers: 5, MaxWorkers: 20, PrioWorkers: 5, MaxClientRequests: 5,
		AdminMinWorkers: 5, AdminMaxWorkers: 20, AdminMaxClients: 5000,
		AdminMaxQueuedClients: 20, AdminMaxClientRequests: 5,
		AuditLevel: 1, HostUUIDSource: "smbios",
		KeepaliveInterval: 5, KeepaliveCount: 5,
		AdminKeepaliveInterval: 5, AdminKeepaliveCount: 5, OvsTimeout: 5,
	}
	if !reflect.DeepEqual(*d, want) {
		t.Errorf("DefaultDaemon() = %+v", *d)
	}
}

const allDaemonKeys = `
unix_sock_group = "libvirt"
unix_sock_ro_perms = "0775"
unix_sock_rw_perms = "770"
unix_sock_admin_perms = "0600"
unix_sock_dir = "/tmp/socks"
auth_unix_ro = "none"
auth_unix_rw = 'none'
access_drivers = [ "none" ]
sasl_allowed_username_list = [ "joe@EXAMPLE.COM", "fred" ]
max_clients = 10
max_queued_clients = 11
max_anonymous_clients = 12
min_workers = 13
max_workers = 14
prio_workers = 15
max_client_requests = 16
admin_min_workers = 0
admin_max_workers = 0
admin_max_clients = 19
admin_max_queued_clients = 25
admin_max_client_requests = 21
log_level = 1
log_filters = "1:rpc 3:util"
log_outputs = "1:file:/tmp/x.log"
audit_level = 2
audit_logging = 1
host_uuid = "00000000-0000-0000-0000-000000000001"
host_uuid_source = "machine-id"
keepalive_interval = -1
keepalive_count = 0
admin_keepalive_interval = 30
admin_keepalive_count = 7
ovs_timeout = 22
keepalive_required = 1
admin_keepalive_required = "anything: obsolete keys are not read"
`

func TestDaemonEveryKey(t *testing.T) {
	d, err := ParseDaemon("v.conf", []byte(allDaemonKeys))
	if err != nil {
		t.Fatal(err)
	}
	want := Daemon{
		UnixSockGroup: "libvirt", UnixSockROPerms: 0o775, UnixSockRWPerms: 0o770,
		UnixSockAdminPerms: 0o600, UnixSockDir: "/tmp/socks",
		AuthUnixRO: "none", AuthUnixRW: "none", AccessDrivers: []string{"none"},
		SASLAllowedUsers: []string{"joe@EXAMPLE.COM", "fred"},
		MaxClients:       10, MaxQueuedClients: 11, MaxAnonymousClients: 12,
		MinWorkers: 13, MaxWorkers: 14, PrioWorkers: 15, MaxClientRequests: 16,
		AdminMinWorkers: 0, AdminMaxWorkers: 0, AdminMaxClients: 19,
		AdminMaxQueuedClients: 25, AdminMaxClientRequests: 21,
		LogLevel: 1, LogFilters: "1:rpc 3:util", LogOutputs: "1:file:/tmp/x.log",
		AuditLevel: 2, AuditLogging: true,
		HostUUID: "00000000-0000-0000-0000-000000000001", HostUUIDSource: "machine-id",
		KeepaliveInterval: -1, KeepaliveCount: 0,
		AdminKeepaliveInterval: 30, AdminKeepaliveCount: 7, OvsTimeout: 22,
	}
	if !reflect.DeepEqual(*d, want) {
		t.Errorf("got  %+v\nwant %+v", *d, want)
	}
	// The test text must set every key the loader knows.
	for _, k := range daemonKeys() {
		if !strings.Contains(allDaemonKeys, "\n"+k.name+" = ") {
			t.Errorf("allDaemonKeys does not set %s", k.name)
		}
	}
}

func TestDaemonAccepts(t *testing.T) {
	tests := []struct {
		src   string
		check func(d *Daemon) bool
	}{
		{"access_drivers = []", func(d *Daemon) bool { return len(d.AccessDrivers) == 0 }},
		{"access_drivers = [ 'none', 'none' ]", func(d *Daemon) bool { return len(d.AccessDrivers) == 2 }},
		{"unix_sock_rw_perms = '04770'", func(d *Daemon) bool { return d.UnixSockRWPerms == 0o770 }},
		{"unix_sock_rw_perms = '0'", func(d *Daemon) bool { return d.UnixSockRWPerms == 0 }},
		{"min_workers = 50\nmax_workers = 2", func(d *Daemon) bool { return d.MinWorkers == 50 }},
		{"max_anonymous_clients = 0", func(d *Daemon) bool { return d.MaxAnonymousClients == 0 }},
		{"log_level = 0", func(d *Daemon) bool { return d.LogLevel == 0 }},
		{"log_level = 4", func(d *Daemon) bool { return d.LogLevel == 4 }},
		{"keepalive_interval = -2147483648", func(d *Daemon) bool { return d.KeepaliveInterval == -2147483648 }},
		{"max_clients = 4294967295", func(d *Daemon) bool { return d.MaxClients == 4294967295 }},
		{"audit_level = 9", func(d *Daemon) bool { return d.AuditLevel == 9 }},
		{"host_uuid = \"\"\" 0011 2233-4455667788 99aabbccddeeff \n\"\"\"", func(d *Daemon) bool { return d.HostUUID != "" }},
		// libvirt ignores host_uuid_source when host_uuid is set.
		{"host_uuid = '00112233445566778899aabbccddeeff'\nhost_uuid_source = 'bogus'",
			func(d *Daemon) bool { return d.HostUUIDSource == "bogus" }},
		// The first of two settings wins, as in libvirt.
		{"max_workers = 3\nmax_workers = 0", func(d *Daemon) bool { return d.MaxWorkers == 3 }},
	}
	for _, tt := range tests {
		d, err := ParseDaemon("v.conf", []byte(tt.src))
		if err != nil {
			t.Errorf("ParseDaemon(%q): %v", tt.src, err)
			continue
		}
		if !tt.check(d) {
			t.Errorf("ParseDaemon(%q) = %+v", tt.src, d)
		}
	}
}

func TestDaemonRejects(t *testing.T) {
	tests := []struct{ src, want string }{
		// Syntax.
		{"max_workers = ", "v.conf:1: max_workers: expecting a value"},
		{"\n\nmax_workers = 1 2", "v.conf:3: max_workers: expecting a separator"},
		// Types.
		{"max_workers = -1", "v.conf:1: max_workers: expected an unsigned integer"},
		{"max_workers = \"1\"", "v.conf:1: max_workers: expected an unsigned integer"},
		{"max_clients = 4294967296", "v.conf:1: max_clients: value must be in range 0:4294967295"},
		{"keepalive_interval = 2147483648", "v.conf:1: keepalive_interval: value must be in range -2147483648:2147483647"},
		{"keepalive_interval = 'x'", "v.conf:1: keepalive_interval: expected a signed integer"},
		{"audit_logging = 2", "v.conf:1: audit_logging: value must be 0 or 1"},
		{"audit_logging = 'yes'", "v.conf:1: audit_logging: expected a bool"},
		{"unix_sock_group = 0", "v.conf:1: unix_sock_group: expected a string"},
		{"access_drivers = 'none'", "v.conf:1: access_drivers: expected a string list"},
		{"sasl_allowed_username_list = [ 1 ]", "v.conf:1: sasl_allowed_username_list: expected a string list"},
		{"unix_sock_ro_perms = 0777", "v.conf:1: unix_sock_ro_perms: expected a string"},
		// Ranges.
		{"# c\nmax_workers = 0", "v.conf:2: max_workers: must be at least 1"},
		{"max_clients = 0", "v.conf:1: max_clients: must be at least 1"},
		{"max_client_requests = 0", "v.conf:1: max_client_requests: must be at least 1"},
		{"admin_max_clients = 0", "v.conf:1: admin_max_clients: must be at least 1"},
		{"admin_max_client_requests = 0", "v.conf:1: admin_max_client_requests: must be at least 1"},
		{"log_level = 5", "v.conf:1: log_level: invalid logging priority 5: use 1 (debug), 2 (info), 3 (warning), 4 (error), or 0 for the default"},
		{"unix_sock_rw_perms = '0999'", `v.conf:1: unix_sock_rw_perms: invalid mode "0999": expected octal digits such as "0700"`},
		{"unix_sock_rw_perms = 'rwx'", `v.conf:1: unix_sock_rw_perms: invalid mode "rwx": expected octal digits such as "0700"`},
		{"unix_sock_admin_perms = ''", `v.conf:1: unix_sock_admin_perms: invalid mode "": expected octal digits such as "0700"`},
		{"unix_sock_ro_perms = '-0777'", `v.conf:1: unix_sock_ro_perms: invalid mode "-0777": expected octal digits such as "0700"`},
		{"unix_sock_ro_perms = '017777'", `v.conf:1: unix_sock_ro_perms: invalid mode "017777": must be at most "0777"`},
		// Unsupported values.
		{"auth_unix_rw = \"polkit\"", `v.conf:1: auth_unix_rw: "polkit" authentication is not offered by this daemon yet; use "none"`},
		{"auth_unix_ro = \"sasl\"", `v.conf:1: auth_unix_ro: "sasl" authentication is not offered by this daemon yet; use "none"`},
		{"auth_unix_rw = \"foo\"", "v.conf:1: auth_unix_rw: unsupported auth foo"},
		{"auth_unix_ro = \"\"", "v.conf:1: auth_unix_ro: unsupported auth "},
		{"access_drivers = [ \"polkit\" ]", `v.conf:1: access_drivers: the "polkit" access driver is not offered by this daemon yet; use [ "none" ] or leave the key out`},
		{"access_drivers = [ \"none\", \"selinux\" ]", `v.conf:1: access_drivers: unknown access driver "selinux" (libvirt has "none" and "polkit")`},
		{"host_uuid = \"00000000-0000-0000-0000-000000000000\"", "v.conf:1: host_uuid: invalid host UUID: 00000000-0000-0000-0000-000000000000"},
		{"host_uuid = \"0011223344556677889900aabbccddeef\"", "v.conf:1: host_uuid: invalid host UUID: 0011223344556677889900aabbccddeef"},
		{"host_uuid = \"\"", "v.conf:1: host_uuid: invalid host UUID: "},
		{"host_uuid_source = \"dmi\"", `v.conf:1: host_uuid_source: invalid UUID source: dmi (use "smbios" or "machine-id")`},
	}
	for _, tt := range tests {
		_, err := ParseDaemon("v.conf", []byte(tt.src))
		if err == nil {
			t.Errorf("ParseDaemon(%q) succeeded, want %q", tt.src, tt.want)
		} else if err.Error() != tt.want {
			t.Errorf("ParseDaemon(%q)\n got %q\nwant %q", tt.src, err, tt.want)
		}
	}
}

func TestLoadDaemonFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "virtxend.conf")
	if err := os.WriteFile(path, []byte("max_workers = 7\n\nmax_clients = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := LoadDaemon(path, false)
	if want := path + ":3: max_clients: must be at least 1"; err == nil || err.Error() != want {
		t.Errorf("LoadDaemon: %v, want %q", err, want)
	}
	if err := os.WriteFile(path, []byte("max_workers = 7\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	d, err := LoadDaemon(path, true)
	if err != nil || d.MaxWorkers != 7 {
		t.Errorf("LoadDaemon = %+v, %v", d, err)
	}
	// A file that exists but cannot be read is an error even when implicit.
	// (A directory stands in for an unreadable file: tests may run as root.)
	_, err = LoadDaemon(dir, false)
	if want := dir + ": cannot read configuration file: is a directory"; err == nil || err.Error() != want {
		t.Errorf("LoadDaemon(dir): %v, want %q", err, want)
	}
	big := filepath.Join(dir, "big.conf")
	if err := os.WriteFile(big, make([]byte, maxFileSize+1), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadDaemon(big, true); err == nil || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("LoadDaemon(big): %v", err)
	}
}

func TestParseHostUUID(t *testing.T) {
	u, err := ParseHostUUID("01234567-89ab-cdef-0123-456789ABCDEF")
	want := [16]byte{0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef, 0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef}
	if err != nil || u != want {
		t.Errorf("ParseHostUUID = %x, %v", u, err)
	}
	for _, bad := range []string{"", "0123", "01234567-89ab-cdef-0123-456789abcdeg",
		"01234567-89ab-cdef-0123-456789abcdef0", "0-123456789abcdef0123456789abcdef",
		"ffffffffffffffffffffffffffffffff", "01234567-89ab-cdef-0123-456789abcdef x"} {
		if _, err := ParseHostUUID(bad); err == nil {
			t.Errorf("ParseHostUUID(%q) succeeded", bad)
		}
	}
}
