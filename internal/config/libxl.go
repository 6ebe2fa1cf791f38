package config

import (
	"fmt"

	"virtxend/internal/virconf"
)

// Bounds of the simulated host's shape.
const (
	MaxSimCPUs      = 4096
	MaxSimMemoryMiB = 64 << 20 // 64 TiB
	MaxSimCPUMHz    = 100000
)

// libxlKeys lists every key of libxl.conf: libvirt's five, then ours.
// None is live: libvirt reads libxl.conf once when the driver starts, and
// the backend and the simulated host's shape cannot change under running
// domains, so every change waits for a restart.
func libxlKeys() []key[Libxl] {
	type k = key[Libxl]
	return []k{
		{name: "autoballoon", field: func(l *Libxl) any { return &l.Autoballoon }},
		{name: "lock_manager", field: func(l *Libxl) any { return &l.LockManager }, check: checkLockManager},
		{name: "keepalive_interval", field: func(l *Libxl) any { return &l.KeepaliveInterval }},
		{name: "keepalive_count", field: func(l *Libxl) any { return &l.KeepaliveCount }},
		{name: "nested_hvm", field: func(l *Libxl) any { return &l.NestedHVM }},

		{name: "migration_port_min", field: func(l *Libxl) any { return &l.MigrationPortMin },
			check: func(l *Libxl) string { return between(l.MigrationPortMin, 1, 65535) }},
		{name: "migration_port_max", field: func(l *Libxl) any { return &l.MigrationPortMax }, check: checkMigrationPorts},
		{name: "backend", field: func(l *Libxl) any { return &l.Backend }, check: checkBackend},
		{name: "sim_cpus", field: func(l *Libxl) any { return &l.Sim.CPUs },
			check: func(l *Libxl) string { return between(l.Sim.CPUs, 1, MaxSimCPUs) }},
		{name: "sim_memory_mib", field: func(l *Libxl) any { return &l.Sim.MemoryMiB }, check: checkSimMemory},
		{name: "sim_dom0_memory_mib", field: func(l *Libxl) any { return &l.Sim.Dom0MemoryMiB }, check: checkSimDom0Memory},
		{name: "sim_xen_version", field: func(l *Libxl) any { return &l.Sim.XenVersion }, check: checkSimXenVersion},
		{name: "sim_cpu_mhz", field: func(l *Libxl) any { return &l.Sim.CPUMHz },
			check: func(l *Libxl) string { return between(l.Sim.CPUMHz, 1, MaxSimCPUMHz) }},
		{name: "sim_scheduler", field: func(l *Libxl) any { return &l.Sim.Scheduler }, check: checkSimScheduler},
		{name: "sim_pci_sysfs", field: func(l *Libxl) any { return &l.Sim.PCISysfs }},
	}
}

// LoadLibxl reads libxl.conf at its fixed path; a missing file yields the
// defaults with FileExists false. Unlike libvirt, which quietly skips a
// file it cannot read, an unreadable file is an error: silently running
// with another backend or host shape than configured would be worse.
func LoadLibxl(path string) (*Libxl, error) {
	data, exists, err := readFile(path, true)
	if err != nil {
		return nil, err
	}
	if !exists {
		return DefaultLibxl(), nil
	}
	return ParseLibxl(path, data)
}

// ParseLibxl is LoadLibxl on the contents of an existing file.
func ParseLibxl(path string, data []byte) (*Libxl, error) {
	f, err := virconf.Parse(path, data)
	if err != nil {
		return nil, err
	}
	l := DefaultLibxl()
	l.FileExists = true
	l.AutoballoonSet = f.Line("autoballoon") != 0
	if err := loadKeys(f, l, libxlKeys()); err != nil {
		return nil, err
	}
	return l, nil
}

// checkMigrationPorts: a range of at least one port.
func checkMigrationPorts(l *Libxl) string {
	if msg := between(l.MigrationPortMax, 1, 65535); msg != "" {
		return msg
	}
	if l.MigrationPortMax < l.MigrationPortMin {
		return fmt.Sprintf("must not be below migration_port_min (%d)", l.MigrationPortMin)
	}
	return ""
}

func between(n, lo, hi int) string {
	if n < lo || n > hi {
		return fmt.Sprintf("must be between %d and %d", lo, hi)
	}
	return ""
}

// SimSchedulers are the values of sim_scheduler: the schedulers xl names.
var SimSchedulers = []string{"credit2", "credit", "rtds", "null", "arinc653", "sedf"}

func checkSimScheduler(l *Libxl) string {
	for _, s := range SimSchedulers {
		if l.Sim.Scheduler == s {
			return ""
		}
	}
	return `must be one of "credit2", "credit", "rtds", "null", "arinc653" or "sedf"`
}

func checkBackend(l *Libxl) string {
	switch l.Backend {
	case BackendLibxl, BackendSimulated:
		return ""
	}
	return fmt.Sprintf("unknown backend %q: use %q or %q", l.Backend, BackendLibxl, BackendSimulated)
}

// checkLockManager: libvirt knows "nop" (its default) and loads "lockd"
// or "sanlock" as plugins; this daemon has no plugins yet, and ignoring
// a requested lock manager would drop the protection it was asked for.
func checkLockManager(l *Libxl) string {
	switch l.LockManager {
	case "nop":
		return ""
	case "lockd", "sanlock":
		return fmt.Sprintf("lock manager %q is not offered by this daemon yet; leave the key out or use \"nop\"", l.LockManager)
	}
	return fmt.Sprintf("unknown lock manager %q (libvirt has \"lockd\" and \"sanlock\")", l.LockManager)
}

func checkSimMemory(l *Libxl) string {
	if l.Sim.MemoryMiB < 1 || l.Sim.MemoryMiB > MaxSimMemoryMiB {
		return fmt.Sprintf("must be between 1 and %d", MaxSimMemoryMiB)
	}
	if l.Sim.MemoryMiB <= l.Sim.Dom0MemoryMiB {
		return fmt.Sprintf("must be more than sim_dom0_memory_mib (%d)", l.Sim.Dom0MemoryMiB)
	}
	return ""
}

func checkSimDom0Memory(l *Libxl) string {
	if l.Sim.Dom0MemoryMiB < 1 {
		return "must be at least 1"
	}
	if l.Sim.Dom0MemoryMiB >= l.Sim.MemoryMiB {
		return fmt.Sprintf("must be less than sim_memory_mib (%d)", l.Sim.MemoryMiB)
	}
	return ""
}

func checkSimXenVersion(l *Libxl) string {
	if err := parseXenVersion(l.Sim.XenVersion); err != nil {
		return err.Error()
	}
	return ""
}
