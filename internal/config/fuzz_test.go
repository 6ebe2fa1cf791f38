package config

import (
	"strings"
	"testing"
)

// The loaders must never panic; every error must name the file, and a
// successful load must satisfy the checks that guard the daemon.
func FuzzParseDaemon(f *testing.F) {
	for _, s := range []string{"", allDaemonKeys, "max_workers = 0", "auth_unix_rw = 'polkit'",
		"access_drivers = [ 'none', ]", "host_uuid = ''", "log_level = 9", "unix_sock_rw_perms = '0777'"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := ParseDaemon("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		if d.MaxWorkers < 1 || d.MaxClients < 1 || d.MaxClientRequests < 1 || d.LogLevel > 4 ||
			d.AuthUnixRO != "none" || d.AuthUnixRW != "none" || d.UnixSockRWPerms&^0o777 != 0 {
			t.Fatalf("accepted an invalid config: %+v", d)
		}
	})
}

func FuzzParseLibxl(f *testing.F) {
	for _, s := range []string{"", allLibxlKeys, "sim_cpus = 0", "backend = 'libxl'",
		"sim_memory_mib = 100\nsim_dom0_memory_mib = 100", "sim_xen_version = '4.17.0'"} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		l, err := ParseLibxl("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error without the file: %v", err)
			}
			return
		}
		s := l.Sim
		if s.CPUs < 1 || s.CPUs > MaxSimCPUs || s.Dom0MemoryMiB < 1 || s.MemoryMiB <= s.Dom0MemoryMiB ||
			s.MemoryMiB > MaxSimMemoryMiB || parseXenVersion(s.XenVersion) != nil ||
			(l.Backend != "" && l.Backend != BackendLibxl && l.Backend != BackendSimulated) {
			t.Fatalf("accepted an invalid config: %+v", l)
		}
	})
}
