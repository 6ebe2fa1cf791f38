package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestLibxlDefaults(t *testing.T) {
	missing := filepath.Join(t.TempDir(), "libxl.conf")
	l, err := LoadLibxl(missing)
	if err != nil {
		t.Fatal(err)
	}
	want := Libxl{
		KeepaliveInterval: 5, KeepaliveCount: 5, MigrationPortMin: 49152, MigrationPortMax: 49216,
		Sim: SimHost{CPUs: 4, MemoryMiB: 16384, Dom0MemoryMiB: 4096, XenVersion: "4.17.0", CPUMHz: 2400, Scheduler: "credit2", PCISysfs: "/sys/bus/pci"},
	}
	if !reflect.DeepEqual(*l, want) {
		t.Errorf("missing file gave %+v", *l)
	}
	// An existing file, even empty, records that it exists: libvirt only
	// auto-detects autoballoon then.
	l, err = ParseLibxl("l.conf", nil)
	want.FileExists = true
	if err != nil || !reflect.DeepEqual(*l, want) {
		t.Errorf("empty file gave %+v, %v", *l, err)
	}
}

const allLibxlKeys = `
autoballoon = 0
lock_manager = "nop"
keepalive_interval = -1
keepalive_count = 9
nested_hvm = 1
migration_port_min = 50000
migration_port_max = 50001
backend = "simulated"
sim_cpus = 64
sim_memory_mib = 1048576
sim_dom0_memory_mib = 2048
sim_xen_version = "4.19.1"
sim_cpu_mhz = 3000
sim_scheduler = "credit"
sim_pci_sysfs = "/tmp/fixture"
`

func TestLibxlEveryKey(t *testing.T) {
	l, err := ParseLibxl("l.conf", []byte(allLibxlKeys))
	if err != nil {
		t.Fatal(err)
	}
	want := Libxl{
		Backend: "simulated", Autoballoon: false, AutoballoonSet: true, LockManager: "nop",
		KeepaliveInterval: -1, KeepaliveCount: 9, NestedHVM: true, FileExists: true,
		MigrationPortMin: 50000, MigrationPortMax: 50001,
		Sim: SimHost{CPUs: 64, MemoryMiB: 1 << 20, Dom0MemoryMiB: 2048, XenVersion: "4.19.1", CPUMHz: 3000, Scheduler: "credit", PCISysfs: "/tmp/fixture"},
	}
	if !reflect.DeepEqual(*l, want) {
		t.Errorf("got  %+v\nwant %+v", *l, want)
	}
	for _, k := range libxlKeys() {
		if !strings.Contains(allLibxlKeys, "\n"+k.name+" = ") {
			t.Errorf("allLibxlKeys does not set %s", k.name)
		}
	}
}

func TestLibxlAccepts(t *testing.T) {
	tests := []struct {
		src   string
		check func(l *Libxl) bool
	}{
		{"autoballoon = 1", func(l *Libxl) bool { return l.Autoballoon && l.AutoballoonSet }},
		{"nested_hvm = 0", func(l *Libxl) bool { return !l.AutoballoonSet && !l.NestedHVM }},
		{"backend = 'libxl'", func(l *Libxl) bool { return l.Backend == BackendLibxl }},
		{"sim_cpus = 1", func(l *Libxl) bool { return l.Sim.CPUs == 1 }},
		{"sim_cpus = 4096", func(l *Libxl) bool { return l.Sim.CPUs == 4096 }},
		{"sim_memory_mib = 4097", func(l *Libxl) bool { return l.Sim.MemoryMiB == 4097 }},
		{"sim_memory_mib = 2\nsim_dom0_memory_mib = 1", func(l *Libxl) bool { return l.Sim.Dom0MemoryMiB == 1 }},
		{"sim_memory_mib = 67108864", func(l *Libxl) bool { return l.Sim.MemoryMiB == MaxSimMemoryMiB }},
		{"sim_xen_version = '999.0.0'", func(l *Libxl) bool { return l.Sim.XenVersion == "999.0.0" }},
		{"sim_xen_version = '04.017.000'", func(l *Libxl) bool { return l.Sim.XenVersion == "04.017.000" }},
		{"sim_cpu_mhz = 100000", func(l *Libxl) bool { return l.Sim.CPUMHz == 100000 }},
		{"sim_scheduler = 'rtds'", func(l *Libxl) bool { return l.Sim.Scheduler == "rtds" }},
		{"", func(l *Libxl) bool { return l.Sim.Scheduler == "credit2" }},
	}
	for _, tt := range tests {
		l, err := ParseLibxl("l.conf", []byte(tt.src))
		if err != nil {
			t.Errorf("ParseLibxl(%q): %v", tt.src, err)
			continue
		}
		if !tt.check(l) {
			t.Errorf("ParseLibxl(%q) = %+v", tt.src, l)
		}
	}
}

func TestLibxlRejects(t *testing.T) {
	tests := []struct{ src, want string }{
		{"autoballoon = 'yes'", "l.conf:1: autoballoon: expected a bool"},
		{"autoballoon = 2", "l.conf:1: autoballoon: value must be 0 or 1"},
		{"nested_hvm = -1", "l.conf:1: nested_hvm: expected a bool"},
		{"lock_manager = 1", "l.conf:1: lock_manager: expected a string"},
		{"lock_manager = 'lockd'", `l.conf:1: lock_manager: lock manager "lockd" is not offered by this daemon yet; leave the key out or use "nop"`},
		{"lock_manager = 'sanlock'", `l.conf:1: lock_manager: lock manager "sanlock" is not offered by this daemon yet; leave the key out or use "nop"`},
		{"lock_manager = ''", `l.conf:1: lock_manager: unknown lock manager "" (libvirt has "lockd" and "sanlock")`},
		{"keepalive_interval = 'x'", "l.conf:1: keepalive_interval: expected a signed integer"},
		{"keepalive_count = -1", "l.conf:1: keepalive_count: expected an unsigned integer"},
		{"migration_port_min = 0", "l.conf:1: migration_port_min: must be between 1 and 65535"},
		{"migration_port_max = 65536", "l.conf:1: migration_port_max: must be between 1 and 65535"},
		{"migration_port_min = 50000\nmigration_port_max = 49999", "l.conf:2: migration_port_max: must not be below migration_port_min (50000)"},
		{"backend = 'xen'", `l.conf:1: backend: unknown backend "xen": use "libxl" or "simulated"`},
		{"backend = 'x'\nbackend = 'libxl'", `l.conf:1: backend: unknown backend "x": use "libxl" or "simulated"`},
		{"backend = ['libxl']", "l.conf:1: backend: expected a string"},
		{"sim_cpus = 0", "l.conf:1: sim_cpus: must be between 1 and 4096"},
		{"sim_scheduler = 'bvt'", `l.conf:1: sim_scheduler: must be one of "credit2", "credit", "rtds", "null", "arinc653" or "sedf"`},
		{"sim_cpus = -4", "l.conf:1: sim_cpus: must be between 1 and 4096"},
		{"sim_cpus = 4097", "l.conf:1: sim_cpus: must be between 1 and 4096"},
		{"sim_memory_mib = 0", "l.conf:1: sim_memory_mib: must be between 1 and 67108864"},
		{"sim_memory_mib = 67108865", "l.conf:1: sim_memory_mib: must be between 1 and 67108864"},
		{"sim_memory_mib = -1", "l.conf:1: sim_memory_mib: expected an unsigned integer"},
		{"sim_memory_mib = 4096", "l.conf:1: sim_memory_mib: must be more than sim_dom0_memory_mib (4096)"},
		{"sim_dom0_memory_mib = 16384", "l.conf:1: sim_dom0_memory_mib: must be less than sim_memory_mib (16384)"},
		{"sim_dom0_memory_mib = 0", "l.conf:1: sim_dom0_memory_mib: must be at least 1"},
		{"sim_dom0_memory_mib = 8192\nsim_memory_mib = 8192", "l.conf:2: sim_memory_mib: must be more than sim_dom0_memory_mib (8192)"},
		{"sim_xen_version = '4.17'", `l.conf:1: sim_xen_version: invalid version "4.17": expected "major.minor.micro", e.g. "4.17.0"`},
		{"sim_xen_version = '4.17.0-rc1'", `l.conf:1: sim_xen_version: invalid version "4.17.0-rc1": expected "major.minor.micro", e.g. "4.17.0"`},
		{"sim_xen_version = '4..0'", `l.conf:1: sim_xen_version: invalid version "4..0": expected "major.minor.micro", e.g. "4.17.0"`},
		{"sim_xen_version = '4.1000.0'", `l.conf:1: sim_xen_version: invalid version "4.1000.0": expected "major.minor.micro", e.g. "4.17.0"`},
		{"sim_xen_version = '0.17.0'", `l.conf:1: sim_xen_version: invalid version "0.17.0": the major version must be at least 1`},
		{"sim_xen_version = 4", "l.conf:1: sim_xen_version: expected a string"},
		{"sim_cpu_mhz = 0", "l.conf:1: sim_cpu_mhz: must be between 1 and 100000"},
		{"sim_cpu_mhz = 100001", "l.conf:1: sim_cpu_mhz: must be between 1 and 100000"},
		{"sim_cpus = ", "l.conf:1: sim_cpus: expecting a value"},
	}
	for _, tt := range tests {
		_, err := ParseLibxl("l.conf", []byte(tt.src))
		if err == nil {
			t.Errorf("ParseLibxl(%q) succeeded, want %q", tt.src, tt.want)
		} else if err.Error() != tt.want {
			t.Errorf("ParseLibxl(%q)\n got %q\nwant %q", tt.src, err, tt.want)
		}
	}
}

func TestLoadLibxlFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "libxl.conf")
	if err := os.WriteFile(path, []byte("backend = \"simulated\"\nsim_cpus = 8\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	l, err := LoadLibxl(path)
	if err != nil || !l.FileExists || l.Backend != BackendSimulated || l.Sim.CPUs != 8 {
		t.Errorf("LoadLibxl = %+v, %v", l, err)
	}
	if err := os.WriteFile(path, []byte("\nsim_cpus = 0\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadLibxl(path); err == nil || err.Error() != path+":2: sim_cpus: must be between 1 and 4096" {
		t.Errorf("LoadLibxl: %v", err)
	}
	_, err = LoadLibxl(dir)
	if want := dir + ": cannot read configuration file: is a directory"; err == nil || err.Error() != want {
		t.Errorf("LoadLibxl(dir): %v, want %q", err, want)
	}
}
