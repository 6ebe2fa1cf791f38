package stats

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestCollectdVirt: Debian's collectd with its virt plugin, pointed at the
// daemon, writes every running guest's metrics (CPU time and vCPUs, the
// balloon, the counters of the blkback disk, the qdisk image (which
// libvirt's Xen driver lacks) and the interface, every disk's
// sizes, the state, the vCPUs' pinning) and Domain-0's, round after round,
// and disables none of the statistics it asks for. It reads them the
// way tools without bulk statistics do, a call per guest and device; the
// disk sizes are virDomainGetBlockInfo and disk_err virDomainGetDiskErrors,
// which libvirt's Xen driver lacks. (fs_info, which needs a guest agent,
// is not asked.)
func TestCollectdVirt(t *testing.T) {
	collectd, err := exec.LookPath("collectd")
	if err != nil {
		t.Skip("collectd is not installed (scripts/install-deps installs collectd-core)")
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	// web's qdisk image has QEMU's counters, which libvirt's Xen driver
	// lacks: collectd would read nothing of it, its sizes included, and
	// log it every round.
	define(t, d, "web", guest(t, "web", "00:16:3e:5c:00:01", ""))
	define(t, d, "idle", guest(t, "idle", "00:16:3e:5c:00:02", ""))
	d.MustVirsh("start", "web")
	vif := "vif" + domid(t, d, "web") + ".0"

	dir := t.TempDir()
	csv := filepath.Join(dir, "csv")
	conf := daemontest.WriteFile(t, dir, "collectd.conf", `Interval 1
BaseDir "`+dir+`"
PIDFile "`+dir+`/collectd.pid"
PluginDir "/usr/lib/collectd"
TypesDB "/usr/share/collectd/types.db"
Hostname "host"
LoadPlugin logfile
<Plugin logfile>
  LogLevel "info"
  File "`+dir+`/collectd.log"
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "`+csv+`"
</Plugin>
LoadPlugin virt
<Plugin virt>
  Connection "`+d.URI()+`"
  RefreshInterval 60
  HostnameFormat name
  ExtraStats "cpu_util disk disk_err domain_state job_stats_background pcpu perf vcpupin disk_allocation disk_capacity disk_physical memory vcpu"
</Plugin>
`)
	t.Cleanup(func() {
		if t.Failed() {
			log, _ := os.ReadFile(filepath.Join(dir, "collectd.log"))
			t.Logf("collectd's log:\n%s", log)
		}
	})
	daemontest.Beside(t, "collectd", exec.Command(collectd, "-f", "-C", conf))

	// last is the newest row of a metric's file (the day's), once it has
	// rounds rows.
	last := func(host, metric string, rounds int) []string {
		t.Helper()
		files, _ := filepath.Glob(filepath.Join(csv, host, "virt", metric+"-*"))
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			if len(files) == 1 {
				data, _ := os.ReadFile(files[0])
				lines := strings.Split(strings.TrimSpace(string(data)), "\n")
				if len(lines) > rounds { // and the header
					return strings.Split(lines[len(lines)-1], ",")[1:]
				}
			}
			files, _ = filepath.Glob(filepath.Join(csv, host, "virt", metric+"-*"))
		}
		t.Fatalf("no %d rounds of %s of %s (files %v)", rounds, metric, host, files)
		return nil
	}
	value := func(host, metric string) float64 {
		t.Helper()
		row := last(host, metric, 1)
		v, err := strconv.ParseFloat(row[0], 64)
		if err != nil {
			t.Fatalf("%s %s: %v", host, metric, row)
		}
		return v
	}
	rx := last("web", "if_octets-"+vif, 3)
	if v, _ := strconv.ParseFloat(rx[0], 64); v <= 0 {
		t.Errorf("if_octets-%s, the third round: %v (a rate: the counter must move)", vif, rx)
	}
	for metric, want := range map[string]float64{
		"memory-actual_balloon": 192 << 20,
		"memory-total":          192 << 20,
		"disk_capacity-xvda":    64 << 20,
		"disk_physical-xvda":    64 << 20,
		"domain_state":          1, // running
	} {
		if v := value("web", metric); v != want {
			t.Errorf("web %s: %v, want %v", metric, v, want)
		}
	}
	for _, metric := range []string{"virt_cpu_total", "virt_vcpu-0", "percent-virt_cpu_total", "disk_octets-xvda",
		"disk_ops-xvda", "disk_octets-xvdb", "disk_ops-xvdb", "disk_capacity-xvdb", "disk_allocation-xvda", "if_packets-" + vif, "cpu_affinity-vcpu_0-cpu_0"} {
		last("web", metric, 1)
	}
	last("Domain-0", "virt_cpu_total", 1)
	if v := value("idle", "domain_state"); v != 5 { // shut off
		t.Errorf("idle domain_state: %v", v)
	}
	if files, _ := filepath.Glob(filepath.Join(csv, "idle", "virt", "virt_cpu_total-*")); len(files) != 0 {
		t.Errorf("the shut-off guest has a CPU time: %v", files)
	}
	log, _ := os.ReadFile(filepath.Join(dir, "collectd.log"))
	for _, bad := range []string{"Disabled unsupported ExtraStats selector", "failed"} {
		if strings.Contains(string(log), bad) {
			t.Errorf("collectd's log has %q:\n%s", bad, log)
		}
	}
}
