package config

import (
	"fmt"
	"io/fs"
	"slices"

	"virtxend/internal/virconf"
)

// key describes one key of a configuration file of type T.
type key[T any] struct {
	name string
	// field returns a pointer to the field the key fills; its type decides
	// how the value is read (see loadField).
	field func(c *T) any
	// check validates the loaded config when the key is in the file; it
	// returns "" or a message to put after "PATH:LINE: KEY: ".
	check func(c *T) string
	// live is true when a running daemon can apply a change of the key
	// without a restart.
	live bool
}

// obsoleteDaemonKeys are listed in libvirt's sample file but read by
// nothing; they are accepted and ignored.
var obsoleteDaemonKeys = []string{"keepalive_required", "admin_keepalive_required"}

// daemonKeys lists every key of virtxend.conf in the order of libvirt's
// sample file. The IP-only keys of libvirtd.conf (listen_tls, ...) are
// not here: virtxend has no TCP, and like libvirt it ignores them.
func daemonKeys() []key[Daemon] {
	type k = key[Daemon]
	return []k{
		{name: "unix_sock_group", field: func(d *Daemon) any { return &d.UnixSockGroup }},
		{name: "unix_sock_ro_perms", field: func(d *Daemon) any { return &d.UnixSockROPerms }},
		{name: "unix_sock_rw_perms", field: func(d *Daemon) any { return &d.UnixSockRWPerms }},
		{name: "unix_sock_admin_perms", field: func(d *Daemon) any { return &d.UnixSockAdminPerms }},
		{name: "unix_sock_dir", field: func(d *Daemon) any { return &d.UnixSockDir }},
		{name: "auth_unix_ro", field: func(d *Daemon) any { return &d.AuthUnixRO },
			check: func(d *Daemon) string { return checkAuth(d.AuthUnixRO) }},
		{name: "auth_unix_rw", field: func(d *Daemon) any { return &d.AuthUnixRW },
			check: func(d *Daemon) string { return checkAuth(d.AuthUnixRW) }},
		{name: "access_drivers", field: func(d *Daemon) any { return &d.AccessDrivers },
			check: checkAccessDrivers},
		{name: "sasl_allowed_username_list", field: func(d *Daemon) any { return &d.SASLAllowedUsers }},

		{name: "max_clients", live: true, field: func(d *Daemon) any { return &d.MaxClients },
			check: func(d *Daemon) string { return atLeast1(d.MaxClients) }},
		{name: "max_queued_clients", field: func(d *Daemon) any { return &d.MaxQueuedClients }},
		{name: "max_anonymous_clients", live: true, field: func(d *Daemon) any { return &d.MaxAnonymousClients }},
		{name: "min_workers", live: true, field: func(d *Daemon) any { return &d.MinWorkers }},
		{name: "max_workers", live: true, field: func(d *Daemon) any { return &d.MaxWorkers },
			check: func(d *Daemon) string { return atLeast1(d.MaxWorkers) }},
		{name: "prio_workers", live: true, field: func(d *Daemon) any { return &d.PrioWorkers }},
		{name: "max_client_requests", live: true, field: func(d *Daemon) any { return &d.MaxClientRequests },
			check: func(d *Daemon) string { return atLeast1(d.MaxClientRequests) }},

		{name: "admin_min_workers", live: true, field: func(d *Daemon) any { return &d.AdminMinWorkers }},
		{name: "admin_max_workers", live: true, field: func(d *Daemon) any { return &d.AdminMaxWorkers }},
		{name: "admin_max_clients", live: true, field: func(d *Daemon) any { return &d.AdminMaxClients },
			check: func(d *Daemon) string { return atLeast1(d.AdminMaxClients) }},
		{name: "admin_max_queued_clients", field: func(d *Daemon) any { return &d.AdminMaxQueuedClients }},
		{name: "admin_max_client_requests", live: true, field: func(d *Daemon) any { return &d.AdminMaxClientRequests },
			check: func(d *Daemon) string { return atLeast1(d.AdminMaxClientRequests) }},

		{name: "log_level", live: true, field: func(d *Daemon) any { return &d.LogLevel }, check: checkLogLevel},
		{name: "log_filters", live: true, field: func(d *Daemon) any { return &d.LogFilters }},
		{name: "log_outputs", live: true, field: func(d *Daemon) any { return &d.LogOutputs }},

		{name: "audit_level", field: func(d *Daemon) any { return &d.AuditLevel }},
		{name: "audit_logging", field: func(d *Daemon) any { return &d.AuditLogging }},
		{name: "host_uuid", field: func(d *Daemon) any { return &d.HostUUID }, check: checkHostUUID},
		{name: "host_uuid_source", field: func(d *Daemon) any { return &d.HostUUIDSource }, check: checkUUIDSource},

		{name: "keepalive_interval", live: true, field: func(d *Daemon) any { return &d.KeepaliveInterval }},
		{name: "keepalive_count", live: true, field: func(d *Daemon) any { return &d.KeepaliveCount }},
		{name: "admin_keepalive_interval", live: true, field: func(d *Daemon) any { return &d.AdminKeepaliveInterval }},
		{name: "admin_keepalive_count", live: true, field: func(d *Daemon) any { return &d.AdminKeepaliveCount }},
		{name: "ovs_timeout", field: func(d *Daemon) any { return &d.OvsTimeout }},
	}
}

// LoadDaemon reads virtxend.conf at path. When explicit is false (the
// default path) a missing file yields the defaults; when true (-f) it is an
// error. Errors name the file, the line and the key.
func LoadDaemon(path string, explicit bool) (*Daemon, error) {
	data, exists, err := readFile(path, !explicit)
	if err != nil {
		return nil, err
	}
	if !exists {
		return DefaultDaemon(), nil
	}
	return ParseDaemon(path, data)
}

// ParseDaemon is LoadDaemon on the file's contents; path names it in errors.
func ParseDaemon(path string, data []byte) (*Daemon, error) {
	f, err := virconf.Parse(path, data)
	if err != nil {
		return nil, err
	}
	d := DefaultDaemon()
	if err := loadKeys(f, d, daemonKeys()); err != nil {
		return nil, err
	}
	return d, nil
}

// loadKeys fills c from f, then runs the checks of the keys f holds, so
// that a check may look at any other field.
func loadKeys[T any](f *virconf.File, c *T, keys []key[T]) error {
	for _, k := range keys {
		if err := loadField(f, k.name, k.field(c)); err != nil {
			return err
		}
	}
	for _, k := range keys {
		if k.check == nil || f.Line(k.name) == 0 {
			continue
		}
		if msg := k.check(c); msg != "" {
			return f.Errorf(k.name, "%s", msg)
		}
	}
	return nil
}

// loadField reads key into the field p points to, by the field's type.
// An absent key leaves the field (its default) alone.
func loadField(f *virconf.File, key string, p any) error {
	var err error
	switch p := p.(type) {
	case *string:
		if v, ok, e := f.GetString(key); ok {
			*p, err = v, e
		}
	case *[]string:
		if v, ok, e := f.GetStringList(key); ok {
			*p, err = v, e
		}
	case *uint:
		if v, ok, e := f.GetUint(key); ok {
			*p, err = v, e
		}
	case *uint64:
		if v, ok, e := f.GetUint64(key); ok {
			*p, err = v, e
		}
	case *int:
		if v, ok, e := f.GetInt(key); ok {
			*p, err = v, e
		}
	case *bool:
		if v, ok, e := f.GetBool(key); ok {
			*p, err = v, e
		}
	case *fs.FileMode:
		err = loadMode(f, key, p)
	default:
		panic(fmt.Sprintf("config: key %s has a field of unhandled type %T", key, p))
	}
	return err
}

func loadMode(f *virconf.File, key string, p *fs.FileMode) error {
	s, ok, err := f.GetString(key)
	if !ok || err != nil {
		return err
	}
	m, err := parseMode(s)
	if err != nil {
		return f.Errorf(key, "%v", err)
	}
	*p = m
	return nil
}

func atLeast1(n uint) string {
	if n < 1 {
		return "must be at least 1"
	}
	return ""
}

// checkAuth allows "none" only: this daemon has neither polkit nor SASL.
func checkAuth(auth string) string {
	switch auth {
	case "none":
		return ""
	case "polkit", "sasl":
		return fmt.Sprintf("%q authentication is not offered by this daemon yet; use \"none\"", auth)
	}
	return "unsupported auth " + auth // libvirt's words
}

func checkAccessDrivers(d *Daemon) string {
	for _, drv := range d.AccessDrivers {
		switch drv {
		case "none":
		case "polkit":
			return "the \"polkit\" access driver is not offered by this daemon yet; use [ \"none\" ] or leave the key out"
		default:
			return fmt.Sprintf("unknown access driver %q (libvirt has \"none\" and \"polkit\")", drv)
		}
	}
	return ""
}

func checkLogLevel(d *Daemon) string {
	if d.LogLevel > 4 {
		return fmt.Sprintf("invalid logging priority %d: use 1 (debug), 2 (info), 3 (warning), 4 (error), or 0 for the default", d.LogLevel)
	}
	return ""
}

func checkHostUUID(d *Daemon) string {
	if _, err := ParseHostUUID(d.HostUUID); err != nil {
		return err.Error()
	}
	return ""
}

// checkUUIDSource follows libvirt, which only looks at host_uuid_source
// when host_uuid is not set.
func checkUUIDSource(d *Daemon) string {
	if d.HostUUID != "" || slices.Contains([]string{"smbios", "machine-id"}, d.HostUUIDSource) {
		return ""
	}
	return fmt.Sprintf("invalid UUID source: %s (use \"smbios\" or \"machine-id\")", d.HostUUIDSource)
}
