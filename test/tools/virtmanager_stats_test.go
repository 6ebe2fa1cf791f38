package tools

import (
	"image"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/test/daemontest"
)

// TestVirtManagerPerformanceGraphs: virt-manager's performance page of a
// running guest, with its preferences polling CPU, memory, disk and
// network every second (set with gsettings, in a settings file of the
// test's own), draws graphs that move: two screenshots some seconds apart
// differ in the page's graphs. Its libvirt trace shows it read them with
// getAllDomainStats, and never fell back to the per-guest calls. The
// screenshots are kept if the test fails (VIRTXEND_KEEP_SCREENSHOTS=1
// keeps them anyway).
func TestVirtManagerPerformanceGraphs(t *testing.T) {
	for _, tool := range []string{"virt-manager", "gsettings"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed", tool)
		}
	}
	d := daemontest.Start(t, daemontest.NewRoot(t))
	img := filepath.Join(t.TempDir(), "disk.img")
	if err := os.WriteFile(img, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	os.Truncate(img, 256<<20)
	xml := filepath.Join(t.TempDir(), "graphs.xml")
	os.WriteFile(xml, []byte(`<domain type='xen'><name>graphs</name><memory unit='MiB'>512</memory><vcpu>2</vcpu>
<os><type arch='x86_64' machine='xenpv'>linux</type><kernel>/boot/vmlinuz</kernel></os>
<devices><disk type='file' device='disk'><source file='`+img+`'/><target dev='xvda'/></disk>
<interface type='bridge'><mac address='00:16:3e:6a:00:01'/><source bridge='xenbr0'/></interface></devices></domain>`), 0o644)
	d.MustVirsh("define", xml)
	d.MustVirsh("start", "graphs")

	x := daemontest.StartXvfb(t)
	config := t.TempDir()
	env := append(x.Env(), "GSETTINGS_BACKEND=keyfile", "XDG_CONFIG_HOME="+config, "HOME="+t.TempDir())
	for _, kv := range [][2]string{
		{"enable-cpu-poll", "true"}, {"enable-memory-poll", "true"}, {"enable-disk-poll", "true"},
		{"enable-net-poll", "true"}, {"update-interval", "1"},
	} {
		cmd := exec.Command("gsettings", "set", "org.virt-manager.virt-manager.stats", kv[0], kv[1])
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("gsettings set %s: %v\n%s", kv[0], err, out)
		}
	}
	shots := t.TempDir()
	daemontest.KeepOnFailure(t, shots)
	cmd := exec.Command("virt-manager", "--no-fork", "--debug", "--trace-libvirt=all", "--connect", d.URI(),
		"--show-domain-performance", "graphs")
	cmd.Env = env
	log := daemontest.Beside(t, "virt-manager", cmd)
	win := firstLine(x.Xdotool("search", "--sync", "--name", "^graphs on Xen$"))
	x.Xdotool("windowsize", "--sync", win, "900", "700")
	x.Xdotool("windowmove", "--sync", win, "0", "0")
	// The trace logs each call as "TRACE ...: virConnect.getAllDomainStats (<conn>, groups, flags)".
	const bulk = ": virConnect.getAllDomainStats ("
	if !poll(60*time.Second, func() bool { return strings.Count(log.String(), bulk) >= 5 }) {
		t.Fatalf("virt-manager did not poll with getAllDomainStats")
	}
	time.Sleep(10 * time.Second) // more samples on the graphs
	first := filepath.Join(shots, "1-graphs.png")
	if err := x.Screenshot(first); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * time.Second)
	second := filepath.Join(shots, "2-graphs-5s-later.png")
	if err := x.Screenshot(second); err != nil {
		t.Fatal(err)
	}
	area := geometry(t, x, win)
	changed := differing(t, first, second, area)
	t.Logf("%d pixels of the window changed in 5 s; screenshots in %s", changed, shots)
	if changed < 400 {
		t.Errorf("the graphs did not move: %d pixels changed", changed)
	}
	l := log.String()
	t.Logf("virt-manager called getAllDomainStats %d times", strings.Count(l, bulk))
	for _, bad := range []string{"conn does not support getAllDomainStats", "Error call getAllDomainStats",
		": virDomain.blockStats (", ": virDomain.interfaceStats (", ": virDomain.memoryStats ("} {
		if strings.Contains(l, bad) {
			t.Errorf("virt-manager's log has %q", bad)
		}
	}
}

// differing counts the pixels inside area that differ between two
// screenshots.
func differing(t *testing.T, a, b string, area image.Rectangle) int {
	t.Helper()
	load := func(p string) image.Image {
		f, err := os.Open(p)
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		img, err := png.Decode(f)
		if err != nil {
			t.Fatal(err)
		}
		return img
	}
	ia, ib := load(a), load(b)
	r := area.Intersect(ia.Bounds()).Intersect(ib.Bounds())
	n := 0
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			if ia.At(x, y) != ib.At(x, y) {
				n++
			}
		}
	}
	return n
}
