package stats

import (
	"net"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestPrometheusExporter: Debian's prometheus-libvirt-exporter, pointed at
// the daemon's socket, serves on loopback the metrics of every running
// guest (its CPU time, memory, the counters of the blkback disk, the
// qdisk image (which libvirt's Xen driver lacks) and the interface,
// labelled with their devices) and of Domain-0, and nothing of
// a guest that is shut off. It makes per-guest calls (info, XML, block
// and interface statistics), the way tools without bulk statistics do.
func TestPrometheusExporter(t *testing.T) {
	exporter, err := exec.LookPath("prometheus-libvirt-exporter")
	if err != nil {
		t.Skip("prometheus-libvirt-exporter is not installed (scripts/install-deps installs it)")
	}
	if _, err := exec.LookPath("curl"); err != nil {
		t.Skip("curl is not installed")
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	for i, name := range []string{"web", "db", "idle"} {
		// a blkback disk, a qdisk image (which libvirt's Xen driver does
		// not count, and the exporter fails on a domain whose disk has
		// no counters) and a NIC each
		define(t, d, name, guest(t, name, "00:16:3e:5d:00:0"+strconv.Itoa(i+1), ""))
	}
	d.MustVirsh("start", "web")
	d.MustVirsh("start", "db")
	ids := map[string]string{"web": domid(t, d, "web"), "db": domid(t, d, "db")}

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	daemontest.Beside(t, "the exporter", exec.Command(exporter, "--libvirt.uri="+d.URI(), "--web.listen-address="+addr))
	scrape := func() string {
		t.Helper()
		for deadline := time.Now().Add(bound); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
			r := daemontest.Run(t, "curl", "-sf", "http://"+addr+"/metrics")
			if r.Code == 0 {
				return r.Stdout
			}
		}
		t.Fatalf("the exporter did not serve on %s", addr)
		return ""
	}
	m := scrape()
	value := func(metric, dom string, labels ...string) float64 {
		t.Helper()
		for _, line := range strings.Split(m, "\n") {
			if !strings.HasPrefix(line, metric+"{") || !strings.Contains(line, `domain="`+dom+`"`) {
				continue
			}
			ok := true
			for _, l := range labels {
				ok = ok && strings.Contains(line, l)
			}
			if !ok {
				continue
			}
			v, err := strconv.ParseFloat(line[strings.LastIndex(line, " ")+1:], 64)
			if err != nil {
				t.Fatalf("%s", line)
			}
			return v
		}
		t.Errorf("no %s for %s %v", metric, dom, labels)
		return -1
	}
	if !strings.Contains(m, "\nlibvirt_up 1\n") || !strings.Contains(m, "\nlibvirt_domains_number 3\n") {
		t.Errorf("libvirt_up and libvirt_domains_number (Domain-0, web, db):\n%s", m)
	}
	for _, dom := range []string{"web", "db"} {
		vif := `target_device="vif` + ids[dom] + `.0"`
		if v := value("libvirt_domain_info_cpu_time_seconds_total", dom); v <= 0 {
			t.Errorf("%s: CPU time %v", dom, v)
		}
		if v := value("libvirt_domain_info_memory_usage_bytes", dom); v != 192<<20 {
			t.Errorf("%s: memory %v", dom, v)
		}
		if v := value("libvirt_domain_info_virtual_cpus", dom); v != 1 {
			t.Errorf("%s: vCPUs %v", dom, v)
		}
		value("libvirt_domain_block_stats_read_requests_total", dom, `target_device="xvda"`, `source_file="/`)
		value("libvirt_domain_block_stats_write_bytes_total", dom, `target_device="xvda"`)
		value("libvirt_domain_block_stats_read_bytes_total", dom, `target_device="xvdb"`)
		value("libvirt_domain_interface_stats_receive_bytes_total", dom, vif, `source_bridge="xenbr0"`)
		value("libvirt_domain_interface_stats_transmit_packets_total", dom, vif)
	}
	value("libvirt_domain_info_cpu_time_seconds_total", "Domain-0")
	if strings.Contains(m, `domain="idle"`) {
		t.Errorf("the shut-off guest has metrics")
	}
	// The counters move between scrapes.
	before := value("libvirt_domain_interface_stats_receive_packets_total", "web")
	time.Sleep(1500 * time.Millisecond)
	m = scrape()
	if after := value("libvirt_domain_interface_stats_receive_packets_total", "web"); after <= before {
		t.Errorf("web's received packets: %v then %v", before, after)
	}
}
