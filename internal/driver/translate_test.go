package driver

import (
	"context"
	"regexp"
	"strconv"
	"sync/atomic"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// watchedHost is the simulated host counting the calls that take a
// translated configuration.
type watchedHost struct {
	*sim.Host
	calls atomic.Int32
}

func (w *watchedHost) NeedMemory(ctx context.Context, cfg *libxltypes.DomainConfig) (uint64, error) {
	w.calls.Add(1)
	return w.Host.NeedMemory(ctx, cfg)
}

func (w *watchedHost) Create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions) (backend.DomID, error) {
	w.calls.Add(1)
	return w.Host.Create(ctx, cfg, opts)
}

// TestUntranslatableRefusedBeforeBackend: a definition libxl cannot take
// (a PV guest with an emulated NIC) fails at start with the translation's
// own error, libvirt's, before the backend sees it: no guest exists and
// no graphics port stays taken.
func TestUntranslatableRefusedBeforeBackend(t *testing.T) {
	e := newEnv(t)
	h := &watchedHost{Host: e.sim()}
	drv, err := New(e.cfg, e.root, h, nil, Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { drv.Close() })
	d := define(t, drv, "e1000", 1, `<devices><graphics type='vnc' autoport='yes'/>`+
		`<interface type='bridge'><source bridge='xenbr0'/><model type='e1000'/></interface></devices>`)
	_, err = drv.Create(ctx, d, 0)
	wantErr(t, err, libvirt.ErrConfigUnsupported, virerr.FromLibxl,
		"unsupported configuration: only model 'netfront' is supported for Xen PV(H) domains")
	if n := h.calls.Load(); n != 0 {
		t.Errorf("the backend was handed the refused guest %d times", n)
	}
	guests, err := h.Guests(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(guests) != 1 {
		t.Errorf("guests %+v, want Domain-0 alone", guests)
	}
	if st, _ := stateOf(t, drv, d); st != libvirt.DomainShutoff {
		t.Errorf("state %v", st)
	}
	if p, err := drv.ports.acquire(); err != nil || p != graphicsPortMin {
		t.Errorf("next port %d (%v): the refused guest's port was kept", p, err)
	}
}

var (
	vncPortRE   = regexp.MustCompile(`<graphics type='vnc' port='(\d+)'`)
	spicePortRE = regexp.MustCompile(`<graphics type='spice' port='(\d+)'`)
)

// TestGraphicsPortIsTheGuests: the graphics ports dumpxml shows for a
// running HVM guest are those of the configuration the backend received
// and the simulated host keeps (VNC display + 5900, the SPICE port), also
// when lower ports are held by another guest.
func TestGraphicsPortIsTheGuests(t *testing.T) {
	e := newEnv(t)
	drv, h := e.start()
	vnc := `<graphics type='vnc' autoport='yes'/>`
	for n, g := range []string{vnc, vnc + `<graphics type='spice' autoport='yes'/>`} {
		name := "hvm" + strconv.Itoa(n)
		if _, err := drv.Define(ctx, hvmGraphicsXML(name, byte(n+1), g), 0); err != nil {
			t.Fatal(err)
		}
		started, err := drv.Create(ctx, domOf(byte(n+1)), 0)
		if err != nil {
			t.Fatal(err)
		}
		x, err := drv.GetXMLDesc(ctx, started, 0)
		if err != nil {
			t.Fatal(err)
		}
		cfg, err := h.GuestConfig(ctx, backend.DomID(started.ID))
		if err != nil || cfg == nil {
			t.Fatalf("the host keeps no configuration for %s: %v", name, err)
		}
		m := vncPortRE.FindStringSubmatch(x)
		if m == nil || len(cfg.VFBs) != 1 || m[1] != strconv.Itoa(5900+cfg.VFBs[0].VNC.Display) {
			t.Errorf("%s: dumpxml %q, the guest's VNC display %+v", name, m, cfg.VFBs)
		}
		if n == 0 {
			continue
		}
		m = spicePortRE.FindStringSubmatch(x)
		if m == nil || cfg.BInfo.HVM == nil || m[1] != strconv.Itoa(cfg.BInfo.HVM.Spice.Port) {
			t.Errorf("%s: dumpxml %q, the guest's SPICE port %+v", name, m, cfg.BInfo.HVM)
		}
	}
}
