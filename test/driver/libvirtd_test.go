package drivertests

import (
	"encoding/base64"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"

	"virtxend/test/daemontest"
)

// The Xen driver's own use of libvirt's secondary drivers, against
// Debian's libvirtd started beside the daemon: <interface type='network'>
// through the network driver's ports, <disk type='volume'> through the
// storage driver, an RBD disk's key through the secret driver.

const (
	isolatedNet = `<network><name>default</name><bridge name='virbr0'/></network>`
	// A network handing out a host bridge, as <forward mode='bridge'> over
	// xenbr0 does on Xen; the bridge need not exist for its ports.
	bridgedNet = `<network><name>lan</name><forward mode='bridge'/><bridge name='br-lan'/></network>`
	// A private secret: its value is for libvirt's daemons only.
	cephSecret = `<secret ephemeral='no' private='yes'><uuid>3b3c0f1e-8a44-4b57-9c3e-6f1f1f6f1f6f</uuid>
<usage type='ceph'><name>client.admin secret</name></usage></secret>`
)

// netvolGuest is a PV guest with one interface on each network, a disk
// that is a volume of the default pool and an authenticated RBD disk.
func netvolGuest(name string) string {
	return guestXML(name, `<devices>
  <disk type='volume' device='disk'><source pool='default' volume='a.img'/><target dev='xvda'/></disk>
  <disk type='network' device='disk'><driver name='qemu' type='raw'/>
    <source protocol='rbd' name='rbd/image'><host name='mon1' port='6789'/></source>
    <auth username='admin'><secret type='ceph' usage='client.admin secret'/></auth>
    <target dev='xvdb'/></disk>
  <interface type='network'><mac address='00:16:3e:4e:00:01'/><source network='default'/></interface>
  <interface type='network'><mac address='00:16:3e:4e:00:02'/><source network='lan'/></interface>
</devices>`)
}

// simConfig is the libxl configuration the simulated host keeps for the
// guest named name: its NICs' bridges and rates, and its disks' paths.
type simConfig struct {
	NICs []struct {
		Bridge       string `json:"bridge"`
		RateBytes    uint64 `json:"rate_bytes_per_interval"`
		RateInterval uint32 `json:"rate_interval_usecs"`
	} `json:"nics"`
	Disks []struct {
		PdevPath string `json:"pdev_path"`
	} `json:"disks"`
}

func guestConfig(t *testing.T, d *daemontest.Daemon, name string) simConfig {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(d.Paths.SimHostDir(), "host.json"))
	if err != nil {
		t.Fatal(err)
	}
	var host struct {
		Guests []struct {
			Name   string    `json:"name"`
			Config simConfig `json:"config"`
		} `json:"guests"`
	}
	if err := json.Unmarshal(b, &host); err != nil {
		t.Fatal(err)
	}
	for _, g := range host.Guests {
		if g.Name == name {
			return g.Config
		}
	}
	t.Fatalf("the simulated host runs no %s", name)
	return simConfig{}
}

var portIDs = regexp.MustCompile(`<source network='(\w+)' portid='([0-9a-f-]{36})' bridge='([\w-]+)'/>`)

// TestGuestOnLibvirtdObjects: a guest on two networks (the network's own
// bridge, a host bridge), with a volume disk and an RBD disk whose private
// secret only libvirt's daemons may read, starts; its live XML shows what
// libvirtd resolved (ports, bridges), libxl gets the bridges, the volume's
// path and the key; the ports survive a daemon restart and go with the
// guest.
func TestGuestOnLibvirtdObjects(t *testing.T) {
	root := daemontest.NewRoot(t)
	l := daemontest.StartLibvirtd(t, root)
	d := daemontest.Start(t, root)
	dir := t.TempDir()
	file := func(name, content string) string { return daemontest.WriteFile(t, dir, name, content) }
	d.MustVirsh("net-define", file("net.xml", isolatedNet))
	d.MustVirsh("net-start", "default")
	d.MustVirsh("net-define", file("lan.xml", bridgedNet))
	d.MustVirsh("net-start", "lan")
	d.MustVirsh("pool-define-as", "default", "dir", "--target", "/var/lib/libvirt/images")
	d.MustVirsh("pool-build", "default")
	d.MustVirsh("pool-start", "default")
	d.MustVirsh("vol-create-as", "default", "a.img", "1M")
	d.MustVirsh("secret-define", file("secret.xml", cephSecret))
	d.MustVirsh("secret-set-value", "3b3c0f1e-8a44-4b57-9c3e-6f1f1f6f1f6f", "--base64", base64.StdEncoding.EncodeToString([]byte("AQBcephkey")))
	// A client may not read the private value...
	if r := d.Virsh("secret-get-value", "3b3c0f1e-8a44-4b57-9c3e-6f1f1f6f1f6f"); r.Code == 0 || !strings.Contains(r.Stderr, "secret is private") {
		t.Fatalf("secret-get-value of a private secret: %+v", r)
	}

	define(t, d, "netvol", netvolGuest("netvol"))
	d.MustVirsh("start", "netvol")
	// The console's pty enters the live XML a moment after the start (as
	// in libvirt): wait for it, or the XML compared after the restart below
	// may have it where this one did not.
	ttyconsole(t, d, "netvol")
	live := d.MustVirsh("dumpxml", "netvol")
	m := portIDs.FindAllStringSubmatch(live, -1)
	if len(m) != 2 || m[0][1] != "default" || m[0][3] != "virbr0" || m[1][1] != "lan" || m[1][3] != "br-lan" ||
		!strings.Contains(live, "<interface type='network'>\n      <mac address='00:16:3e:4e:00:01'/>\n      <source network='default' portid=") ||
		!strings.Contains(live, "<interface type='bridge'>\n      <mac address='00:16:3e:4e:00:02'/>\n      <source network='lan' portid=") ||
		!strings.Contains(live, "<disk type='volume' device='disk'>\n      <driver name='phy' type='raw'/>\n      <source pool='default' volume='a.img'/>") {
		t.Fatalf("live XML:\n%s", live)
	}
	// ...libvirtd has exactly those ports, owned by the guest, plugged
	// where the live XML says...
	for _, p := range m {
		if got := strings.TrimSpace(d.MustVirsh("net-port-list", p[1], "--uuid")); got != p[2] {
			t.Fatalf("ports of %s: %q, the live XML says %s", p[1], got, p[2])
		}
		x := l.Virsh("network", "net-port-dumpxml", p[1], p[2])
		if x.Code != 0 || !strings.Contains(x.Stdout, "<name>netvol</name>") || !strings.Contains(x.Stdout, "bridge='"+p[3]+"'") {
			t.Fatalf("libvirtd's port %s: %+v", p[2], x)
		}
	}
	// ...and libxl was given the bridges, the volume's path and the key.
	path := strings.TrimSpace(d.MustVirsh("vol-path", "--pool", "default", "a.img"))
	cfg := guestConfig(t, d, "netvol")
	key := base64.StdEncoding.EncodeToString([]byte("AQBcephkey"))
	if len(cfg.NICs) != 2 || cfg.NICs[0].Bridge != "virbr0" || cfg.NICs[1].Bridge != "br-lan" ||
		len(cfg.Disks) != 2 || cfg.Disks[0].PdevPath != path ||
		cfg.Disks[1].PdevPath != `rbd:rbd/image:id=admin:key=`+key+`:auth_supported=cephx\;none:mon_host=mon1\:6789` {
		t.Fatalf("libxl config %+v (volume path %s)", cfg, path)
	}
	// libvirt-python sees the same ports.
	py := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
for n in ("default", "lan"):
    print(n, " ".join(p.UUIDString() for p in conn.networkLookupByName(n).listAllPorts()))
`, d.URI())
	if want := "default " + m[0][2] + "\nlan " + m[1][2] + "\n"; py.Code != 0 || py.Stdout != want {
		t.Fatalf("python: %+v, want %q", py, want)
	}

	// A restarted daemon finds the same ports and shows the same XML; a
	// port libvirtd lost meanwhile is reclaimed, with its id.
	d.Signal(syscall.SIGTERM)
	d.Wait(bound)
	if r := l.Virsh("network", "net-port-delete", "lan", m[1][2]); r.Code != 0 {
		t.Fatalf("net-port-delete: %+v", r)
	}
	d = daemontest.Start(t, root)
	if again := d.MustVirsh("dumpxml", "netvol"); again != live {
		t.Fatalf("live XML after a restart:\n%s\nbefore:\n%s", again, live)
	}
	if got := strings.TrimSpace(d.MustVirsh("net-port-list", "lan", "--uuid")); got != m[1][2] {
		t.Fatalf("port of lan after the restart: %q, want %s reclaimed", got, m[1][2])
	}
	d.MustVirsh("destroy", "netvol")
	for _, n := range []string{"default", "lan"} {
		if got := strings.TrimSpace(d.MustVirsh("net-port-list", n, "--uuid")); got != "" {
			t.Fatalf("ports of %s left after destroy: %q", n, got)
		}
	}
}

// TestLibvirtdObjectErrors: a missing or inactive network, an inactive
// pool and a missing volume fail the start with libvirt's errors, and
// leave no port behind.
func TestLibvirtdObjectErrors(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.StartLibvirtd(t, root)
	d := daemontest.Start(t, root)
	dir := t.TempDir()
	d.MustVirsh("net-define", daemontest.WriteFile(t, dir, "net.xml", isolatedNet))
	d.MustVirsh("net-start", "default")
	d.MustVirsh("net-define", daemontest.WriteFile(t, dir, "off.xml", `<network><name>off</name><bridge name='virbr9'/></network>`))
	d.MustVirsh("pool-define-as", "stopped", "dir", "--target", "/var/lib/libvirt/stopped")
	d.MustVirsh("pool-define-as", "default", "dir", "--target", "/var/lib/libvirt/images")
	d.MustVirsh("pool-build", "default")
	d.MustVirsh("pool-start", "default")
	nic := func(net string) string {
		return `<interface type='network'><source network='default'/></interface><interface type='network'><source network='` + net + `'/></interface>`
	}
	vol := func(pool, v string) string {
		return `<disk type='volume' device='disk'><source pool='` + pool + `' volume='` + v + `'/><target dev='xvda'/></disk>`
	}
	for _, c := range []struct{ name, devices, err string }{
		{"nonet", nic("nope"), "error: Network not found: no network with matching name 'nope'"},
		{"offnet", nic("off"), "error: Requested operation is not valid: network 'off' is not active"},
		{"offpool", vol("stopped", "a.img"), "error: unsupported configuration: storage pool 'stopped' containing volume 'a.img' is not active"},
		{"novol", vol("default", "nope.img"), "error: Storage volume not found: no storage vol with matching name 'nope.img'"},
		{"nopool", vol("nope", "a.img"), "error: Storage pool not found: no storage pool with matching name 'nope'"},
	} {
		define(t, d, c.name, guestXML(c.name, "<devices>"+c.devices+"</devices>"))
		r := d.Virsh("start", c.name)
		if r.Code == 0 || !strings.Contains(r.Stderr, c.err) {
			t.Errorf("start %s: %+v, want %q", c.name, r, c.err)
		}
	}
	if got := strings.TrimSpace(d.MustVirsh("net-port-list", "default", "--uuid")); got != "" {
		t.Fatalf("ports left after failed starts: %q", got)
	}
}

// TestLibvirtdObjectsWithoutLibvirtd: with no libvirtd, a guest on a
// network fails to start with the socket's error and others still start;
// the DHCP leases of a guest on no network are none, without libvirtd.
func TestLibvirtdObjectsWithoutLibvirtd(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	define(t, d, "onnet", guestXML("onnet", `<devices><interface type='network'><source network='default'/></interface></devices>`))
	r := d.Virsh("start", "onnet")
	sock := filepath.Join(d.Paths.SocketDir(), "libvirt-sock")
	if r.Code == 0 || !strings.Contains(r.Stderr, "error: Failed to connect socket to '"+sock+"': No such file or directory") {
		t.Fatalf("start onnet: %+v", r)
	}
	define(t, d, "plain", guestXML("plain", ""))
	d.MustVirsh("start", "plain")
	// A guest on no network has no leases to read: no libvirtd needed.
	if out := d.MustVirsh("domifaddr", "plain", "--source", "lease"); strings.Contains(out, "vif") {
		t.Errorf("domifaddr of a guest on no network:\n%s", out)
	}
	if r := d.Virsh("domhostname", "plain"); r.Code == 0 || !strings.Contains(r.Stderr, "error: no hostname found for domain plain") {
		t.Errorf("domhostname of a guest on no network: %+v", r)
	}
}
