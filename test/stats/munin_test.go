package stats

import (
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// muninPlugins is where Debian's munin-libvirt-plugins keeps its plugins.
const muninPlugins = "/usr/share/munin/plugins"

// TestMuninPlugins: Debian's munin-libvirt-plugins, written for Xen hosts
// (its plugins skip Domain-0 by name). Its detector, run as an admin runs
// it once with the daemon's sockets at their usual place, tries xen:///
// before qemu:///system, finds the daemon, writes munin's plugin
// configuration for that URI and enables the four plugins. Each plugin,
// with that configuration, says yes to autoconf, lists the running guest
// (not Domain-0, not the guest that is shut off) in its graph's
// configuration and prints its values: CPU time, the bytes read and
// written over all of its disks, the interface's bytes and its memory.
// The disks include a qdisk image, whose counters libvirt's Xen driver
// lacks: against libvirt the block plugin dies on the first guest that
// has one.
func TestMuninPlugins(t *testing.T) {
	detect := "/usr/sbin/munin-libvirt-plugins-detect"
	if _, err := os.Stat(detect); err != nil {
		t.Skip("munin-libvirt-plugins is not installed (scripts/install-deps installs it)")
	}
	if _, err := os.Stat("/etc/munin"); err != nil {
		t.Skipf("no /etc/munin to mount the test's configuration on: %v", err)
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "web", guest(t, "web", "00:16:3e:5e:00:01", ""))
	define(t, d, "idle", guest(t, "idle", "00:16:3e:5e:00:02", ""))
	d.MustVirsh("start", "web")
	vif := "vif" + domid(t, d, "web") + ".0"
	// the counters follow the guest's CPU time: wait for both disks' first
	// reads and the interface's first packet
	var read int64 // both disks' bytes read, before the plugins read them
	waitUntil(t, "the first reads and packet", func() bool {
		a := fields(d.MustVirsh("domblkstat", "web", "xvda"), "xvda ")
		b := fields(d.MustVirsh("domblkstat", "web", "xvdb"), "xvdb ")
		i := fields(d.MustVirsh("domifstat", "web", vif), vif+" ")
		read = num(t, a, "rd_bytes") + num(t, b, "rd_bytes")
		return num(t, a, "rd_bytes") > 0 && num(t, b, "rd_bytes") > 0 && num(t, i, "rx_bytes") > 0
	})

	munin := t.TempDir()
	for _, dir := range []string{"plugins", "plugin-conf.d"} {
		if err := os.Mkdir(filepath.Join(munin, dir), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	out := runMunin(t, d, munin)
	if !strings.Contains(out["detect"], "Hypervisor at xen:/// detected.") {
		t.Fatalf("the detector:\n%s", out["detect"])
	}
	conf, _ := os.ReadFile(filepath.Join(munin, "plugin-conf.d", "libvirt"))
	if string(conf) != "[libvirt-*]\nenv.uri xen:///\n" {
		t.Errorf("plugin configuration %q", conf)
	}
	for _, p := range []string{"cputime", "blkstat", "ifstat", "mem"} {
		if got := out[p+" autoconf"]; got != "yes\n" {
			t.Errorf("%s autoconf: %q", p, got)
		}
		cfg := out[p+" config"]
		if !strings.Contains(cfg, "\nweb_") || strings.Contains(cfg, "\nDomain_0") || strings.Contains(cfg, "\nidle_") {
			t.Errorf("%s config lists other than web:\n%s", p, cfg)
		}
	}
	values := func(p string) map[string]int64 {
		t.Helper()
		v := map[string]int64{}
		for _, line := range strings.Split(strings.TrimSpace(out[p]), "\n") {
			name, val, ok := strings.Cut(line, ".value ")
			n, err := strconv.ParseInt(val, 10, 64)
			if !ok || err != nil {
				t.Fatalf("%s: line %q of\n%s", p, line, out[p])
			}
			v[name] = n
		}
		return v
	}
	if v := values("cputime"); len(v) != 2 || v["web_cputime"] < 0 || v["total_pc"] != v["web_cputime"] {
		t.Errorf("cputime: %v", v)
	}
	// both disks' bytes (counters never fall)
	if v := values("blkstat"); len(v) != 2 || v["web_read"] < read || v["web_write"] < 0 {
		t.Errorf("blkstat: %v; both disks had read %d bytes before", v, read)
	}
	if v := values("ifstat"); len(v) != 2 || v["web_rx"] <= 0 {
		t.Errorf("ifstat: %v", v)
	}
	if v := values("mem"); v["web_mem"] != 192<<20 || v["total"] != 192<<20 || v["host_mem"] <= 0 {
		t.Errorf("mem: %v", v)
	}
}

// runMunin runs the detector, then each plugin's autoconf, config and
// fetch, as munin-node would with the configuration the detector wrote,
// with the daemon's sockets at their default place and the directory munin
// on /etc/munin. What each printed is keyed "detect", "PLUGIN autoconf",
// "PLUGIN config" and "PLUGIN".
func runMunin(t *testing.T, d *daemontest.Daemon, munin string) map[string]string {
	t.Helper()
	script := `mount --bind "$1" /etc/munin
echo "== detect"
/usr/sbin/munin-libvirt-plugins-detect 2>/dev/null
uri=$(sed -n 's/^env.uri //p' /etc/munin/plugin-conf.d/libvirt)
for p in cputime blkstat ifstat mem; do
	for a in autoconf config ""; do
		echo "== $p${a:+ $a}"
		uri="$uri" /etc/munin/plugins/libvirt-$p $a
	done
done`
	argv := d.AtDefaultSockets(script, munin)
	r := daemontest.Run(t, argv[0], argv[1:]...)
	if r.Code != 0 {
		t.Fatalf("munin's plugins: exit %d\n%s\n%s", r.Code, r.Stdout, r.Stderr)
	}
	out := map[string]string{}
	var key string
	for _, line := range strings.SplitAfter(r.Stdout, "\n") {
		if k, ok := strings.CutPrefix(line, "== "); ok {
			key = strings.TrimSpace(k)
			continue
		}
		out[key] += line
	}
	return out
}
