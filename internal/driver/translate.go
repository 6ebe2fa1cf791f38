package driver

import (
	"context"
	"errors"
	"path/filepath"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/libxlconf"
	"virtxend/internal/libxltypes"
	"virtxend/internal/virerr"
)

// buildConfig translates d's live definition into the libxl configuration
// the backend receives (libxlBuildDomainConfig), once per start: what libxl
// cannot take is refused here with libvirt's error, before any backend
// call. vols are its volume disks' paths (prepareDevices). The graphics
// ports it chose become d's (recordPorts). It returns the host as read for
// the translation too. The caller holds d's job.
func (drv *Driver) buildConfig(ctx context.Context, d *domain, vols map[int]volumeSource) (*libxltypes.DomainConfig, backend.HostInfo, error) {
	s := d.snap()
	def := s.def.parsed()
	host, err := drv.be.HostInfo(ctx)
	if err != nil {
		drv.log.Error("cannot read the host for the domain configuration", "domain", def.Name, "err", err)
		return nil, host, errCreate(def.Name)
	}
	tdef, bridges, err := translationDef(def, s.netPorts, vols)
	if err != nil {
		return nil, host, err
	}
	var acquired []int
	th := drv.translationHost(host, &acquired)
	th.NetworkBridge = networkBridge(bridges)
	th.SecretValue = drv.secretValue(ctx)
	cfg, err := libxlconf.BuildDomainConfig(tdef, th)
	if err != nil {
		drv.ports.release(acquired)
		var e *virerr.Error
		if errors.As(err, &e) {
			return nil, host, e
		}
		drv.log.Error("cannot translate the domain definition", "domain", def.Name, "err", err)
		return nil, host, errCreate(def.Name)
	}
	if err := drv.recordPorts(d, acquired, cfg.GraphicsPorts); err != nil {
		return nil, host, err
	}
	for _, w := range cfg.Warnings {
		drv.log.Warn(w, "domain", def.Name)
	}
	if js, err := cfg.JSON(); err == nil {
		drv.log.Debug("libxl domain configuration", "domain", def.Name, "json", string(js))
	}
	return cfg, host, nil
}

// translationHost is what the translation needs to know of the host and
// of the driver: the backend's host, libxl.conf, the channel directory,
// the driver's one graphics port allocator (the ports it hands out are
// appended to acquired) and, where the backend has it, FLASK labels.
func (drv *Driver) translationHost(host backend.HostInfo, acquired *[]int) libxlconf.Host {
	h := libxlconf.Host{
		MaxCPUs: host.MaxCPUs, NUMANodes: host.Nodes, HWVirt: host.HWVirt,
		NestedHVM: drv.cfg.NestedHVM,
		// libvirt's libxl driver keeps channel sockets here.
		ChannelDir: filepath.Join(drv.paths.LibDir(), "channel", "target"),
		GraphicsPort: func() (int, error) {
			p, err := drv.ports.acquire()
			if err == nil {
				*acquired = append(*acquired, p)
			}
			return p, err
		},
	}
	if f, ok := drv.be.(backend.FlaskResolver); ok {
		h.FlaskSID = f.FlaskSID
	}
	if !drv.be.Capabilities().LocalDeviceModels {
		// No device model runs here, so no <emulator> path to check.
		h.CheckEmulator = func(string) error { return nil }
	}
	return h
}

// metadataXML is the inner XML of def's <metadata>, which the backend may
// read settings of its own from (backend.CreateOptions.Metadata).
func metadataXML(def *libvirtxml.Domain) string {
	if def.Metadata == nil {
		return ""
	}
	return def.Metadata.XML
}

// ensureMemory makes sure the guest of cfg fits, once, before the backend
// creates it: with autoballoon it balloons Domain-0 down as
// libxlDomainFreeMem does; a guest that still does not fit fails as a
// failed libxl_domain_create_new does, the reason going to the log. host
// is the host as the translation read it.
func (drv *Driver) ensureMemory(ctx context.Context, name string, cfg *libxltypes.DomainConfig, host backend.HostInfo) error {
	need, err := drv.be.NeedMemory(ctx, cfg)
	if drv.cfg.Autoballoon {
		if err != nil {
			drv.log.Error("libxl_domain_need_memory failed", "domain", name, "err", err)
			return errBalloon()
		}
		ballooned, berr := drv.freeMem(ctx, need, host)
		if berr != nil {
			return berr
		}
		if ballooned {
			host, err = drv.be.HostInfo(ctx)
		}
	}
	if err != nil {
		drv.log.Error("cannot tell whether the guest fits", "domain", name, "err", err)
		return errCreate(name)
	}
	if need > host.FreeMemKiB {
		host = drv.awaitDyingMemory(ctx, need, host)
	}
	if need > host.FreeMemKiB {
		drv.log.Error("not enough free memory for the guest", "domain", name,
			"need_kib", need, "free_kib", host.FreeMemKiB)
		return errCreate(name)
	}
	return nil
}

// dyingMemoryWait bounds how long a start waits for the memory of guests
// that are being destroyed (libxl's wait_for_free_memory in xl, 10 s).
const dyingMemoryWait = 10 * time.Second

// awaitDyingMemory waits, while some domain is dying, for need KiB to be
// free: Xen gives a destroyed guest's memory back a moment after the
// destroy returns, and a restore right after a save (or a start right
// after a destroy) must not fail for it, as xl's create waits for it.
func (drv *Driver) awaitDyingMemory(ctx context.Context, need uint64, host backend.HostInfo) backend.HostInfo {
	deadline := time.Now().Add(dyingMemoryWait)
	for time.Now().Before(deadline) && drv.someDying(ctx) {
		select {
		case <-ctx.Done():
			return host
		case <-time.After(100 * time.Millisecond):
		}
		if h, err := drv.be.HostInfo(ctx); err == nil {
			host = h
			if host.FreeMemKiB >= need {
				break
			}
		}
	}
	return host
}

func (drv *Driver) someDying(ctx context.Context) bool {
	guests, err := drv.be.Guests(ctx)
	if err != nil {
		return false
	}
	for _, g := range guests {
		if g.State == backend.StateDying {
			return true
		}
	}
	return false
}

// freeMem balloons Domain-0 down so that need KiB are free
// (libxlDomainFreeMem); it reports whether it did.
func (drv *Driver) freeMem(ctx context.Context, need uint64, host backend.HostInfo) (bool, error) {
	if host.FreeMemKiB >= need {
		return false, nil
	}
	dom0, err := drv.be.Guest(ctx, backend.Dom0)
	short := need - host.FreeMemKiB
	if err != nil || short >= dom0.CurrentMemKiB {
		return false, errBalloon()
	}
	if err := drv.be.SetMemoryTarget(ctx, backend.Dom0, dom0.CurrentMemKiB-short); err != nil {
		return false, errBalloon()
	}
	return true, nil
}

// errCreate is libxlDomainStartNew's error when libxl fails to create the
// guest, whatever the reason: libvirt words it generically.
func errCreate(name string) error {
	return libxlErr(libvirt.ErrInternalError, "libxenlight failed to create new domain '%s'", name)
}

func errBalloon() error {
	return libxlErr(libvirt.ErrOperationFailed, "Failed to balloon domain0 memory")
}
