package daemon

import (
	"fmt"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/backend/sim"
	"virtxend/internal/config"
	"virtxend/internal/driver"
	"virtxend/internal/peer"
)

// backendOpeners are the hypervisor backends compiled in; the libxl one
// registers itself from a file built only with -tags libxl.
var backendOpeners = map[string]func(d *daemon) (backend.Backend, error){
	config.BackendSimulated: openSimulated,
}

// chooseBackend applies libxl.conf's backend key: the default is libxl
// when it is compiled in, else the simulated host.
func chooseBackend(want string) (string, error) {
	if want == "" {
		if _, ok := backendOpeners[config.BackendLibxl]; ok {
			return config.BackendLibxl, nil
		}
		return config.BackendSimulated, nil
	}
	if _, ok := backendOpeners[want]; !ok {
		return "", fmt.Errorf("backend %q is not compiled into this virtxend (build with -tags %s)", want, want)
	}
	return want, nil
}

// openSimulated opens the simulated host shaped by libxl.conf's sim_*
// keys; config.SimHost and sim.Shape hold the same fields, so the
// conversion fails to compile if either changes alone.
func openSimulated(d *daemon) (backend.Backend, error) {
	return sim.Open(sim.Options{
		Dir: d.opts.Paths.SimHostDir(), Host: sim.Shape(d.libxl.Sim),
		Logger: d.logger.Slog().With("module", "backend.sim"),
		// The guests' console daemon is this binary, run as
		// sim.ConsoledName (see main).
		ConsoleCommand: "/proc/self/exe",
	})
}

// peerDialer opens a peer-to-peer migration's connection to the
// destination, with libxl.conf's keepalive settings, as libvirt's
// libxlDomainMigrationSrcPerformP2P sets them on it.
func (d *daemon) peerDialer() *peer.Dialer {
	return &peer.Dialer{
		SocketDir:         d.opts.Paths.SocketDir(),
		KeepaliveInterval: time.Duration(d.libxl.KeepaliveInterval) * time.Second,
		KeepaliveCount:    int(d.libxl.KeepaliveCount),
		Log:               d.logger.Slog().With("module", "peer"),
	}
}

// startDriver opens the hypervisor backend and the Xen driver, which
// recovers the guests a previous daemon left running. The daemon counts
// as busy meanwhile, and while any guest runs.
func (d *daemon) startDriver() error {
	d.idle.set("driver-init", 1)
	defer d.idle.set("driver-init", 0)
	name, err := chooseBackend(d.libxl.Backend)
	if err != nil {
		return err
	}
	be, err := backendOpeners[name](d)
	if err != nil {
		return fmt.Errorf("cannot open the %s backend: %w", name, err)
	}
	drv, err := driver.New(d.libxl, d.opts.Paths, be, d.logger.Slog().With("module", "driver"),
		driver.Options{
			OnActiveChange: func(n int) { d.idle.set("guests", n) },
			Networks:       d.libvirtd, Storage: d.libvirtd, Secrets: d.libvirtd, NodeDevices: d.libvirtd,
			DialPeer: d.peerDialer().Dial,
			Hooks:    d.hooks,
		})
	if err != nil {
		be.Close()
		return err
	}
	d.drv = drv
	d.log.Info("hypervisor backend ready", "backend", name)
	return nil
}
