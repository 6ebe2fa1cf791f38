package drivertests

import (
	"strconv"
	"strings"
	"testing"

	"virtxend/test/daemontest"
)

// TestVirshDomiftune: virsh domiftune, which libvirt's Xen driver does
// not serve, as libvirt's QEMU driver serves it: a running guest's
// outbound average becomes its vif's rate (netback's limit on what the
// guest sends), shown live; the persistent definition takes every
// parameter; what Xen cannot enforce live is refused; libvirt-python's
// two calls; the read-only socket reads but does not write.
func TestVirshDomiftune(t *testing.T) {
	t.Parallel()
	d := daemontest.Start(t, daemontest.NewRoot(t))
	const mac = "00:16:3e:00:00:0a"
	id := defineStart(t, d, "g", guestXML("g", `<devices>
  <interface type='bridge'><mac address='`+mac+`'/><source bridge='xenbr0'/></interface>
</devices>`))
	vif := "vif" + strconv.Itoa(id) + ".0"
	d.MustVirsh("domiftune", "g", vif, "--live", "--outbound", "64")
	out := d.MustVirsh("domiftune", "g", vif)
	for _, want := range []string{"inbound.average: 0", "outbound.average: 64", "outbound.burst : 0"} {
		if !strings.Contains(out, want) {
			t.Errorf("domiftune lacks %q:\n%s", want, out)
		}
	}
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<outbound average='64'/>") {
		t.Errorf("live XML:\n%s", live)
	}
	// 64 KiB/s over libxl's interval of 50 ms
	if nics := guestConfig(t, d, "g").NICs; len(nics) != 1 || nics[0].RateBytes != 3276 || nics[0].RateInterval != 50000 {
		t.Errorf("the vif's rate on the simulated host: %+v", nics)
	}
	if r := d.Virsh("domiftune", "g", vif, "--live", "--inbound", "100"); r.Code == 0 ||
		!strings.Contains(r.Stderr, "error: Operation not supported: Xen limits only what a running guest sends") {
		t.Errorf("live inbound: %d %q", r.Code, r.Stderr)
	}
	d.MustVirsh("domiftune", "g", mac, "--config", "--inbound", "100,200,300", "--outbound", "50")
	if inactive := d.MustVirsh("dumpxml", "--inactive", "g"); !strings.Contains(inactive, "<inbound average='100' peak='200' burst='300'/>") ||
		!strings.Contains(inactive, "<outbound average='50'/>") {
		t.Errorf("persistent XML:\n%s", inactive)
	}
	if r := d.Virsh("domiftune", "g", "vif9.9", "--outbound", "1"); r.Code == 0 || !strings.Contains(r.Stderr, "error: invalid argument: 'vif9.9' is not a known interface") {
		t.Errorf("unknown interface: %d %q", r.Code, r.Stderr)
	}
	r := d.Python(`
import sys, libvirt
conn = libvirt.open(sys.argv[1])
dom = conn.lookupByName("g")
dom.setInterfaceParameters(sys.argv[2], {"outbound.average": 128}, libvirt.VIR_DOMAIN_AFFECT_LIVE)
p = dom.interfaceParameters(sys.argv[2], 0)
print(p["outbound.average"], p["inbound.average"], len(p))
`, vif)
	if got := strings.TrimSpace(r.Stdout); got != "128 0 7" {
		t.Errorf("libvirt-python: %q %s", got, r.Stderr)
	}
	ro := daemontest.Run(t, "virsh", "-c", d.ROURI(), "domiftune", "g", vif)
	if ro.Code != 0 || !strings.Contains(ro.Stdout, "outbound.average: 128") {
		t.Errorf("read-only domiftune: %d %q %q", ro.Code, ro.Stdout, ro.Stderr)
	}
	ro = daemontest.Run(t, "virsh", "-c", d.ROURI(), "domiftune", "g", vif, "--outbound", "1")
	if ro.Code == 0 || !strings.Contains(ro.Stderr, "operation forbidden: read only access prevents virDomainSetInterfaceParameters") {
		t.Errorf("read-only set: %d %q", ro.Code, ro.Stderr)
	}
}

// TestDomiftuneOnNetwork: a live domiftune of an interface on a network
// reaches the network's port in libvirtd (virNetworkPortSetParameters, as
// libvirt's QEMU driver makes it), and the live XML, which shows the
// port's bandwidth, shows the new one.
func TestDomiftuneOnNetwork(t *testing.T) {
	root := daemontest.NewRoot(t)
	l := daemontest.StartLibvirtd(t, root)
	d := daemontest.Start(t, root)
	d.MustVirsh("net-define", daemontest.WriteFile(t, t.TempDir(), "lan.xml", bridgedNet))
	d.MustVirsh("net-start", "lan")
	const mac = "00:16:3e:4e:00:0b"
	defineStart(t, d, "g", guestXML("g", `<devices>
  <interface type='network'><mac address='`+mac+`'/><source network='lan'/>
    <bandwidth><inbound average='100'/></bandwidth></interface>
</devices>`))
	m := portIDs.FindStringSubmatch(d.MustVirsh("dumpxml", "g"))
	if m == nil {
		t.Fatalf("no port in the live XML:\n%s", d.MustVirsh("dumpxml", "g"))
	}
	port := func() string {
		r := l.Virsh("network", "net-port-dumpxml", "lan", m[2])
		if r.Code != 0 {
			t.Fatalf("net-port-dumpxml: %+v", r)
		}
		return r.Stdout
	}
	d.MustVirsh("domiftune", "g", mac, "--live", "--outbound", "64")
	if p := port(); !strings.Contains(p, "<inbound average='100'/>") || !strings.Contains(p, "<outbound average='64'/>") {
		t.Errorf("libvirtd's port after domiftune --outbound 64:\n%s", p)
	}
	if live := d.MustVirsh("dumpxml", "g"); !strings.Contains(live, "<outbound average='64'/>") {
		t.Errorf("live XML:\n%s", live)
	}
	if nics := guestConfig(t, d, "g").NICs; len(nics) != 1 || nics[0].RateBytes != 3276 {
		t.Errorf("the vif's rate on the simulated host: %+v", nics)
	}
	d.MustVirsh("domiftune", "g", mac, "--live", "--outbound", "0")
	if p := port(); !strings.Contains(p, "<inbound average='100'/>") || strings.Contains(p, "outbound") {
		t.Errorf("libvirtd's port after domiftune --outbound 0:\n%s", p)
	}
	if live := d.MustVirsh("dumpxml", "g"); strings.Contains(live, "outbound") {
		t.Errorf("live XML after --outbound 0:\n%s", live)
	}
}
