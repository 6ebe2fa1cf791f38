package driver

import (
	"context"
	"strings"
	"sync"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/virerr"
)

// fakeLibvirtd is libvirt's network, storage and secret drivers in
// memory, answering and failing as libvirtd does.
type fakeLibvirtd struct {
	mu       sync.Mutex
	nets     map[string]fakeNet
	ports    map[libvirt.UUID]fakePort
	reclaims int
	pools    map[string]fakePool
	secrets  map[string][]byte                     // by usage
	leases   map[string][]libvirt.NetworkDhcpLease // by network, then MAC (stats_test.go)
}

type fakeNet struct {
	active bool
	plug   string // the <plug> of its ports
}

type fakePort struct {
	net string
	xml string
}

type fakePool struct {
	active bool
	typ    string
	vols   map[string]string // name -> path
}

func newFakeLibvirtd() *fakeLibvirtd {
	return &fakeLibvirtd{
		nets: map[string]fakeNet{
			"default": {true, `<plug type='network' bridge='virbr0'/>`},
			"lan":     {true, `<plug type='bridge' bridge='xenbr0'/>`},
			"macvtap": {true, `<plug type='direct' dev='eth0' mode='bridge'/>`},
			"off":     {false, ""},
		},
		ports: map[libvirt.UUID]fakePort{},
		pools: map[string]fakePool{
			"default": {true, "dir", map[string]string{"a.img": "/var/lib/libvirt/images/a.img"}},
			"lvm":     {true, "logical", map[string]string{"lv0": "/dev/vg/lv0"}},
			"stopped": {false, "dir", nil},
		},
		secrets: map[string][]byte{"client.admin secret": []byte("AQBkey")},
	}
}

func relayed(code libvirt.ErrorNumber, dom virerr.Domain, prefix, msg string) error {
	return virerr.Relayed(virerr.Wire{Code: code, Domain: dom, Message: prefix + ": " + msg, Str1: prefix + ": %s", Str2: msg, Int1: -1, Int2: -1})
}

func (f *fakeLibvirtd) NetworkLookupByName(_ context.Context, name string) (libvirt.Network, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.nets[name]; !ok {
		return libvirt.Network{}, relayed(libvirt.ErrNoNetwork, 19, "Network not found", "no network with matching name '"+name+"'")
	}
	return libvirt.Network{Name: name}, nil
}

func (f *fakeLibvirtd) NetworkPortCreateXML(_ context.Context, net libvirt.Network, xml string, flags uint32) (libvirt.NetworkPort, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	n := f.nets[net.Name]
	if !n.active {
		return libvirt.NetworkPort{}, relayed(libvirt.ErrOperationInvalid, 19, "Requested operation is not valid", "network '"+net.Name+"' is not active")
	}
	var p libvirtxml.NetworkPort
	if err := p.Unmarshal(xml); err != nil {
		return libvirt.NetworkPort{}, err
	}
	if (p.Plug != nil) != (flags&portCreateReclaim != 0) {
		return libvirt.NetworkPort{}, relayed(libvirt.ErrInvalidArg, 19, "invalid argument", "plug type and reclaim disagree")
	}
	if flags&portCreateReclaim != 0 {
		f.reclaims++
	}
	u, _ := backend.ParseUUID(p.UUID)
	full := strings.Replace(xml, "</networkport>", n.plug+"</networkport>", 1)
	if p.Plug != nil {
		full = xml
	}
	f.ports[libvirt.UUID(u)] = fakePort{net.Name, full}
	return libvirt.NetworkPort{Net: net, UUID: libvirt.UUID(u)}, nil
}

func (f *fakeLibvirtd) NetworkPortGetXMLDesc(_ context.Context, port libvirt.NetworkPort, _ uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.ports[port.UUID].xml, nil
}

func (f *fakeLibvirtd) NetworkPortLookupByUUID(_ context.Context, net libvirt.Network, uuid libvirt.UUID) (libvirt.NetworkPort, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if p, ok := f.ports[uuid]; !ok || p.net != net.Name {
		return libvirt.NetworkPort{}, relayed(libvirt.ErrNoNetworkPort, 19, "network port not found", "no network port with matching uuid")
	}
	return libvirt.NetworkPort{Net: net, UUID: uuid}, nil
}

// NetworkPortSetParameters keeps the port as it is: the driver's tests of
// bandwidth run against libvirtd's own network driver (test/driver).
func (f *fakeLibvirtd) NetworkPortSetParameters(context.Context, libvirt.NetworkPort, []libvirt.TypedParam, uint32) error {
	return nil
}

func (f *fakeLibvirtd) NetworkPortDelete(_ context.Context, port libvirt.NetworkPort, _ uint32) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.ports, port.UUID)
	return nil
}

func (f *fakeLibvirtd) numPorts() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.ports)
}

func (f *fakeLibvirtd) StoragePoolLookupByName(_ context.Context, name string) (libvirt.StoragePool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[name]; !ok {
		return libvirt.StoragePool{}, relayed(libvirt.ErrNoStoragePool, 18, "Storage pool not found", "no storage pool with matching name '"+name+"'")
	}
	return libvirt.StoragePool{Name: name}, nil
}

func (f *fakeLibvirtd) StoragePoolIsActive(_ context.Context, pool libvirt.StoragePool) (bool, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pools[pool.Name].active, nil
}

func (f *fakeLibvirtd) StoragePoolGetXMLDesc(_ context.Context, pool libvirt.StoragePool, _ uint32) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return "<pool type='" + f.pools[pool.Name].typ + "'><name>" + pool.Name + "</name></pool>", nil
}

func (f *fakeLibvirtd) StorageVolLookupByName(_ context.Context, pool libvirt.StoragePool, name string) (libvirt.StorageVol, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.pools[pool.Name].vols[name]; !ok {
		return libvirt.StorageVol{}, relayed(libvirt.ErrNoStorageVol, 18, "Storage volume not found", "no storage vol with matching name '"+name+"'")
	}
	return libvirt.StorageVol{Pool: pool.Name, Name: name}, nil
}

func (f *fakeLibvirtd) StorageVolGetInfo(_ context.Context, vol libvirt.StorageVol) (int8, uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if strings.HasPrefix(f.pools[vol.Pool].vols[vol.Name], "/dev/") {
		return 1, 0, 0, nil
	}
	return 0, 0, 0, nil
}

func (f *fakeLibvirtd) StorageVolGetPath(_ context.Context, vol libvirt.StorageVol) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.pools[vol.Pool].vols[vol.Name], nil
}

func (f *fakeLibvirtd) SecretLookupByUUID(_ context.Context, uuid libvirt.UUID) (libvirt.Secret, error) {
	return libvirt.Secret{}, relayed(libvirt.ErrNoSecret, 30, "Secret not found", "no secret with matching uuid")
}

func (f *fakeLibvirtd) SecretLookupByUsage(_ context.Context, usageType int32, usage string) (libvirt.Secret, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, ok := f.secrets[usage]; !ok || usageType != int32(libvirt.SecretUsageTypeCeph) {
		return libvirt.Secret{}, relayed(libvirt.ErrNoSecret, 30, "Secret not found", "no secret with matching usage '"+usage+"'")
	}
	return libvirt.Secret{UsageType: usageType, UsageID: usage}, nil
}

func (f *fakeLibvirtd) SecretGetValue(_ context.Context, s libvirt.Secret, _ uint32) ([]byte, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.secrets[s.UsageID], nil
}

// startWith opens a driver on e with f as libvirt's daemons.
func (e *env) startWith(f *fakeLibvirtd) (*Driver, *sim.Host) {
	e.t.Helper()
	h := e.sim()
	drv, err := New(e.cfg, e.root, h, nil, Options{Networks: f, Storage: f, Secrets: f})
	if err != nil {
		h.Close()
		e.t.Fatal(err)
	}
	e.t.Cleanup(func() { drv.Close() })
	return drv, h
}

func nicXML(network string, mac byte) string {
	return "<interface type='network'><mac address='00:16:3e:00:00:0" + string('0'+mac) + "'/><source network='" + network + "'/></interface>"
}

func startedConfig(t *testing.T, drv *Driver, h *sim.Host, d Domain) (*Domain, string) {
	t.Helper()
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatalf("start: %v", err)
	}
	x, err := drv.GetXMLDesc(ctx, started, 0)
	if err != nil {
		t.Fatal(err)
	}
	return &started, x
}

// TestNetworkInterfaceGetsAPort: start creates a port on the network,
// whose bridge libxl gets; dumpxml shows the actual device as libvirt
// does; destroy deletes the port.
func TestNetworkInterfaceGetsAPort(t *testing.T) {
	f := newFakeLibvirtd()
	drv, h := newEnv(t).startWith(f)
	d := define(t, drv, "g", 1, "<devices>"+nicXML("default", 1)+nicXML("lan", 2)+"</devices>")
	started, x := startedConfig(t, drv, h, d)
	if f.numPorts() != 2 {
		t.Fatalf("%d ports", f.numPorts())
	}
	for _, want := range []string{
		"<interface type='network'>\n      <mac address='00:16:3e:00:00:01'/>\n      <source network='default' portid='",
		"' bridge='virbr0'/>",
		"<interface type='bridge'>\n      <mac address='00:16:3e:00:00:02'/>\n      <source network='lan' portid='",
		"' bridge='xenbr0'/>",
	} {
		if !strings.Contains(x, want) {
			t.Fatalf("live XML lacks %q:\n%s", want, x)
		}
	}
	cfg, err := h.GuestConfig(ctx, backend.DomID(started.ID))
	if err != nil {
		t.Fatal(err)
	}
	if len(cfg.NICs) != 2 || cfg.NICs[0].Bridge != "virbr0" || cfg.NICs[1].Bridge != "xenbr0" {
		t.Fatalf("libxl NICs %+v", cfg.NICs)
	}
	inactive, _ := drv.GetXMLDesc(ctx, *started, uint32(libvirt.DomainXMLInactive))
	if strings.Contains(inactive, "portid") || !strings.Contains(inactive, "<source network='lan'/>") {
		t.Fatalf("inactive XML:\n%s", inactive)
	}
	if err := drv.Destroy(ctx, *started, 0); err != nil {
		t.Fatal(err)
	}
	if f.numPorts() != 0 {
		t.Fatalf("%d ports left after destroy", f.numPorts())
	}
}

// TestNetworkErrors: a missing network, an inactive one, and a macvtap
// one libxl cannot plug fail the start with libvirt's errors and leave no
// port behind.
func TestNetworkErrors(t *testing.T) {
	f := newFakeLibvirtd()
	drv, _ := newEnv(t).startWith(f)
	cases := []struct {
		net  string
		code libvirt.ErrorNumber
		dom  virerr.Domain
		msg  string
	}{
		{"nope", libvirt.ErrNoNetwork, 19, "Network not found: no network with matching name 'nope'"},
		{"off", libvirt.ErrOperationInvalid, 19, "Requested operation is not valid: network 'off' is not active"},
		{"macvtap", libvirt.ErrConfigUnsupported, virerr.FromLibxl, "unsupported configuration: unsupported interface type network"},
	}
	for i, c := range cases {
		d := define(t, drv, "g"+c.net, byte(10+i), "<devices>"+nicXML("default", 1)+nicXML(c.net, 2)+"</devices>")
		_, err := drv.Create(ctx, d, 0)
		wantErr(t, err, c.code, c.dom, c.msg)
		if f.numPorts() != 0 {
			t.Fatalf("%s: %d ports left", c.net, f.numPorts())
		}
	}
}

// TestNoNetworkDriver: without libvirt's daemons wired in, a network
// interface fails as with no driver for network:///system.
func TestNoNetworkDriver(t *testing.T) {
	drv, _ := newEnv(t).start()
	d := define(t, drv, "g", 1, "<devices>"+nicXML("default", 1)+"</devices>")
	_, err := drv.Create(ctx, d, 0)
	wantErr(t, err, libvirt.ErrNoConnect, virerr.FromNone, "no connection driver available for network:///system")
}

// TestPortsAcrossRestart: a restarted driver finds the guest's ports in
// its status file; one the network driver lost is reclaimed, and the live
// XML stays the same.
func TestPortsAcrossRestart(t *testing.T) {
	f := newFakeLibvirtd()
	e := newEnv(t)
	drv, h := e.startWith(f)
	d := define(t, drv, "g", 1, "<devices>"+nicXML("lan", 1)+nicXML("default", 2)+"</devices>")
	started, before := startedConfig(t, drv, h, d)
	drv.Close()
	f.mu.Lock()
	for u, p := range f.ports {
		if p.net == "lan" {
			delete(f.ports, u) // libvirtd lost it
		}
	}
	f.mu.Unlock()
	drv2, _ := e.startWith(f)
	after, err := drv2.GetXMLDesc(ctx, *started, 0)
	if err != nil || after != before {
		t.Fatalf("live XML changed across the restart (%v):\n%s\n---\n%s", err, before, after)
	}
	if f.numPorts() != 2 || f.reclaims != 1 {
		t.Fatalf("%d ports, %d reclaimed", f.numPorts(), f.reclaims)
	}
	if err := drv2.Destroy(ctx, *started, 0); err != nil {
		t.Fatal(err)
	}
	if f.numPorts() != 0 {
		t.Fatalf("%d ports left", f.numPorts())
	}
}

// TestVolumeDisk: a volume disk starts on the volume's path, block or
// file as the pool says; dumpxml keeps the pool and volume; an inactive
// pool and missing pool or volume are libvirt's errors.
func TestVolumeDisk(t *testing.T) {
	f := newFakeLibvirtd()
	drv, h := newEnv(t).startWith(f)
	vol := func(pool, v, dev string) string {
		return "<disk type='volume' device='disk'><source pool='" + pool + "' volume='" + v + "'/><target dev='" + dev + "'/></disk>"
	}
	d := define(t, drv, "g", 1, "<devices>"+vol("default", "a.img", "xvda")+vol("lvm", "lv0", "xvdb")+"</devices>")
	started, x := startedConfig(t, drv, h, d)
	if !strings.Contains(x, "<disk type='volume' device='disk'>") || !strings.Contains(x, "<source pool='default' volume='a.img'/>") {
		t.Fatalf("live XML:\n%s", x)
	}
	cfg, _ := h.GuestConfig(ctx, backend.DomID(started.ID))
	if len(cfg.Disks) != 2 || cfg.Disks[0].PdevPath != "/var/lib/libvirt/images/a.img" || cfg.Disks[1].PdevPath != "/dev/vg/lv0" {
		t.Fatalf("libxl disks %+v", cfg.Disks)
	}
	cases := []struct {
		pool, vol string
		code      libvirt.ErrorNumber
		dom       virerr.Domain
		msg       string
	}{
		{"stopped", "x", libvirt.ErrConfigUnsupported, virerr.FromDomain, "unsupported configuration: storage pool 'stopped' containing volume 'x' is not active"},
		{"nope", "x", libvirt.ErrNoStoragePool, 18, "Storage pool not found: no storage pool with matching name 'nope'"},
		{"default", "b.img", libvirt.ErrNoStorageVol, 18, "Storage volume not found: no storage vol with matching name 'b.img'"},
	}
	for i, c := range cases {
		d := define(t, drv, "v"+c.pool, byte(10+i), "<devices>"+vol(c.pool, c.vol, "xvda")+"</devices>")
		_, err := drv.Create(ctx, d, 0)
		wantErr(t, err, c.code, c.dom, c.msg)
	}
}

// TestRBDSecret: an RBD disk's key comes from the secret driver.
func TestRBDSecret(t *testing.T) {
	f := newFakeLibvirtd()
	drv, h := newEnv(t).startWith(f)
	disk := func(usage string) string {
		return `<devices><disk type='network' device='disk'><driver name='qemu' type='raw'/>
<source protocol='rbd' name='pool/image'><host name='mon1'/></source>
<auth username='admin'><secret type='ceph' usage='` + usage + `'/></auth><target dev='xvda'/></disk></devices>`
	}
	d := define(t, drv, "g", 1, disk("client.admin secret"))
	started, _ := startedConfig(t, drv, h, d)
	cfg, _ := h.GuestConfig(ctx, backend.DomID(started.ID))
	if want := `rbd:pool/image:id=admin:key=QVFCa2V5:auth_supported=cephx\;none:mon_host=mon1`; cfg.Disks[0].PdevPath != want {
		t.Fatalf("pdev_path %q", cfg.Disks[0].PdevPath)
	}
	d2 := define(t, drv, "g2", 2, disk("other"))
	_, err := drv.Create(ctx, d2, 0)
	wantErr(t, err, libvirt.ErrNoSecret, 30, "Secret not found: no secret with matching usage 'other'")
}
