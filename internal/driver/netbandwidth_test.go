package driver

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

const bandwidthNIC = `<devices>
  <interface type='bridge'><mac address='00:16:3e:00:00:0a'/><source bridge='xenbr0'/></interface>
</devices>`

// TestInterfaceParameters: domiftune's two calls as libvirt's QEMU driver
// answers them; a live outbound average becomes the running vif's rate
// (as libxl's at creation: KiB/s over 50 ms), what Xen cannot enforce is
// refused live and kept in the persistent definition.
func TestInterfaceParameters(t *testing.T) {
	drv, h := newEnv(t).start()
	d := define(t, drv, "g", 1, bandwidthNIC)
	live := uint32(libvirt.DomainAffectLive)
	config := uint32(libvirt.DomainAffectConfig)
	if _, n, err := drv.GetInterfaceParameters(ctx, d, "", 0, 0); n != 7 || err != nil {
		t.Fatalf("nparams 0: %d, %v", n, err)
	}
	_, _, err := drv.GetInterfaceParameters(ctx, d, "vif1.0", 7, live)
	wantErr(t, err, libvirt.ErrOperationInvalid, virerr.FromDomain, "Requested operation is not valid: domain is not running")
	started, err := drv.Create(ctx, d, 0)
	if err != nil {
		t.Fatal(err)
	}
	vif := "vif" + itoa(started.ID) + ".0"
	params, n, err := drv.GetInterfaceParameters(ctx, started, vif, 16, 0)
	if err != nil || n != 7 || params[0].Field != "inbound.average" || params[6].Field != "outbound.burst" {
		t.Fatalf("get: %v %d %v", params, n, err)
	}
	// by device name, which only the live definition has; by MAC
	// address in the persistent one, as with libvirt
	set := func(flags uint32, kv ...any) error {
		var ps []libvirt.TypedParam
		for i := 0; i < len(kv); i += 2 {
			ps = append(ps, typedparam.NewUInt(kv[i].(string), uint32(kv[i+1].(int))))
		}
		device := vif
		if flags&config != 0 {
			device = "00:16:3e:00:00:0a"
		}
		return drv.SetInterfaceParameters(ctx, started, device, ps, flags)
	}
	if err := set(live, "outbound.average", 64); err != nil {
		t.Fatal(err)
	}
	cfg, err := h.GuestConfig(ctx, 1)
	if err != nil || len(cfg.NICs) != 1 || cfg.NICs[0].RateBytes != 64*1024*50000/1000000 || cfg.NICs[0].RateInterval != 50000 {
		t.Fatalf("the vif's rate: %+v, %v", cfg, err)
	}
	xml, _ := drv.GetXMLDesc(ctx, started, 0)
	if !strings.Contains(xml, "<bandwidth>\n        <outbound average=\"64\"></outbound>") && !strings.Contains(xml, `<outbound average='64'/>`) {
		t.Errorf("live XML lacks the outbound average:\n%s", xml)
	}
	if inactive, _ := drv.GetXMLDesc(ctx, started, uint32(libvirt.DomainXMLInactive)); strings.Contains(inactive, "bandwidth") {
		t.Errorf("a live change reached the persistent definition:\n%s", inactive)
	}
	params, _, _ = drv.GetInterfaceParameters(ctx, started, "00:16:3E:00:00:0A", 7, live)
	if v, _ := params[4].Value.I.(uint32); v != 64 {
		t.Errorf("outbound.average by MAC: %v", params)
	}
	// What netback cannot enforce, live; then all of it, persistent.
	wantErr(t, set(live, "inbound.average", 100), libvirt.ErrOperationUnsupported, virerr.FromDomain,
		"Operation not supported: Xen limits only what a running guest sends: its vif's rate, outbound.average; inbound bandwidth and outbound peak and burst can be set with --config only")
	wantErr(t, set(live, "outbound.average", 64, "outbound.burst", 32), libvirt.ErrOperationUnsupported, virerr.FromDomain,
		"Operation not supported: Xen limits only what a running guest sends: its vif's rate, outbound.average; inbound bandwidth and outbound peak and burst can be set with --config only")
	if err := set(config, "inbound.average", 100, "inbound.peak", 200, "inbound.burst", 300, "outbound.average", 50); err != nil {
		t.Fatal(err)
	}
	_, _, err = drv.GetInterfaceParameters(ctx, started, vif, 7, config)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: '"+vif+"' is not a known interface")
	params, _, _ = drv.GetInterfaceParameters(ctx, started, "00:16:3e:00:00:0a", 7, config)
	want := []uint32{100, 200, 300, 0, 50, 0, 0}
	for i, p := range params {
		if v, _ := p.Value.I.(uint32); v != want[i] {
			t.Errorf("config %s = %d, want %d", p.Field, v, want[i])
		}
	}
	// inbound named without an average clears it; outbound, not named, stays
	if err := set(config, "inbound.average", 0); err != nil {
		t.Fatal(err)
	}
	params, _, _ = drv.GetInterfaceParameters(ctx, started, "00:16:3e:00:00:0a", 7, config)
	if v, _ := params[0].Value.I.(uint32); v != 0 {
		t.Errorf("inbound after clearing: %v", params)
	}
	if v, _ := params[4].Value.I.(uint32); v != 50 {
		t.Errorf("outbound after clearing inbound: %v", params)
	}
	// the live limit lifted: no rate
	if err := set(live, "outbound.average", 0); err != nil {
		t.Fatal(err)
	}
	if cfg, _ := h.GuestConfig(ctx, 1); cfg.NICs[0].RateBytes != 0 {
		t.Errorf("rate after outbound.average 0: %+v", cfg.NICs[0])
	}
	wantErr(t, set(live, "inbound.floor", 10), libvirt.ErrOperationUnsupported, virerr.FromDomain,
		"Operation not supported: Invalid use of 'floor' on interface with MAC address 00:16:3e:00:00:0a - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none")
	err = drv.SetInterfaceParameters(ctx, started, "vif9.9", []libvirt.TypedParam{typedparam.NewUInt("outbound.average", 1)}, 0)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: 'vif9.9' is not a known interface")
	err = drv.SetInterfaceParameters(ctx, started, vif, []libvirt.TypedParam{typedparam.NewInt("outbound.average", 1)}, 0)
	if err == nil {
		t.Error("an int parameter was taken")
	}
	_, _, err = drv.GetInterfaceParameters(ctx, started, vif, 7, live|config)
	wantErr(t, err, libvirt.ErrInvalidArg, virerr.FromDomain, "invalid argument: Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
}
