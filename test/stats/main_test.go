// Package stats tests the daemon's statistics with stock clients: virsh's
// domblkstat, domifstat, dommemstat, cpu-stats, domjobinfo, domifaddr and
// domstats against the real daemon on the simulated Xen host (with
// libvirtd beside it for the lease source), and Debian's
// prometheus-libvirt-exporter, collectd's virt plugin and munin's libvirt
// plugins.
package stats

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

func TestMain(m *testing.M) { os.Exit(daemontest.Main(m)) }

// bound is how long a polled condition may take: CI runs with -race on
// two shared cores.
const bound = 30 * time.Second

// guest is a PV guest with two vCPUs (one online), a raw image on blkback,
// a qcow2 image (QEMU's qdisk) and an interface on a bridge with a fixed
// MAC; extra devices go inside <devices>.
func guest(t *testing.T, name, mac, extra string) string {
	dir := t.TempDir()
	raw := filepath.Join(dir, name+".img")
	if err := os.WriteFile(raw, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(raw, 64<<20); err != nil {
		t.Fatal(err)
	}
	qcow := filepath.Join(dir, name+".qcow2")
	hdr := []byte("QFI\xfb\x00\x00\x00\x03\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02\x00\x00\x00\x00")
	if err := os.WriteFile(qcow, hdr, 0o600); err != nil {
		t.Fatal(err)
	}
	return `<domain type='xen'>
  <name>` + name + `</name>
  <memory unit='MiB'>256</memory>
  <currentMemory unit='MiB'>192</currentMemory>
  <vcpu current='1'>2</vcpu>
  <os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
  <devices>
    <disk type='file' device='disk'><source file='` + raw + `'/><target dev='xvda'/></disk>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='` + qcow + `'/><target dev='xvdb'/></disk>
    <interface type='bridge'><mac address='` + mac + `'/><source bridge='xenbr0'/></interface>
    ` + extra + `
  </devices>
</domain>`
}

// define defines a guest from xml through a file, as users do.
func define(t *testing.T, d *daemontest.Daemon, name, xml string) {
	t.Helper()
	d.MustVirsh("define", daemontest.WriteFile(t, t.TempDir(), name+".xml", xml))
}

// domid is the running guest's id.
func domid(t *testing.T, d *daemontest.Daemon, name string) string {
	t.Helper()
	return strings.TrimSpace(d.MustVirsh("domid", name))
}

var field = regexp.MustCompile(`(?m)^\s*(\S+)[ =]+(\S+)`)

// fields parses virsh's "name value" or "name=value" lines (domblkstat,
// dommemstat, domstats) into a map; with prefix, only lines after it
// ("vif1.0 rx_bytes 10" has prefix "vif1.0 ").
func fields(out, prefix string) map[string]string {
	m := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		line = strings.TrimPrefix(strings.TrimSpace(line), prefix)
		if f := field.FindStringSubmatch(line); f != nil {
			m[f[1]] = f[2]
		}
	}
	return m
}

func num(t *testing.T, m map[string]string, k string) int64 {
	t.Helper()
	v, err := strconv.ParseInt(m[k], 10, 64)
	if err != nil {
		t.Fatalf("%s = %q in %v", k, m[k], m)
	}
	return v
}

// wantError runs virsh and checks that it fails printing want.
func wantError(t *testing.T, d *daemontest.Daemon, want string, args ...string) {
	t.Helper()
	r := d.Virsh(args...)
	if r.Code == 0 || !strings.Contains(r.Stderr, want) {
		t.Errorf("virsh %s: exit %d, stderr %q; want %q", strings.Join(args, " "), r.Code, r.Stderr, want)
	}
}

// waitUntil polls cond until it holds, failing the test after bound.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(bound); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", bound, what)
		}
	}
}
