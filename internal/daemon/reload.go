package daemon

import (
	"context"

	"virtxend/internal/config"
)

// reload re-reads virtxend.conf and libxl.conf on SIGHUP. libvirt reloads
// only domain configs; we also apply what can change live and name what
// needs a restart. A config with errors is rejected whole: the old stays.
func (d *daemon) reload() {
	d.notify.reloading()
	defer d.notify.ready()
	// As libvirt: persistent domain configs and autostart links.
	if err := d.drv.Reload(context.Background()); err != nil {
		d.log.Error("reloading domain configs failed", "err", err)
	}
	cfg, libxl, err := d.readConfigs()
	if err == nil {
		err = d.logger.Reconfigure(d.logSettings(cfg))
	}
	if err != nil {
		d.log.Error("reload rejected, keeping the running configuration", "err", err)
		return
	}
	// Diff against the start-up config: a setting that needs a restart
	// stays pending, and is named, until the daemon restarts.
	live, restart := config.DiffDaemon(d.cfg, cfg)
	_, libxlRestart := config.DiffLibxl(d.libxl, libxl)
	restart = append(restart, libxlRestart...)
	d.applyLiveLimits(cfg)
	if len(restart) > 0 {
		d.log.Warn("changed settings take effect only after a restart", "keys", restart)
	}
	d.log.Info("configuration reloaded", "applied", live)
}

func (d *daemon) readConfigs() (*config.Daemon, *config.Libxl, error) {
	path, explicit := d.configPath()
	cfg, err := config.LoadDaemon(path, explicit)
	if err != nil {
		return nil, nil, err
	}
	libxl, err := config.LoadLibxl(d.opts.Paths.LibxlConfig())
	if err != nil {
		return nil, nil, err
	}
	return cfg, libxl, nil
}
