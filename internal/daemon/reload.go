package daemon

import (
	"virtxend/internal/config"
)

// reload re-reads virtxend.conf and libxl.conf on SIGHUP. libvirt reloads
// only domain configs; we also apply what can change live and name what
// needs a restart. A config with errors is rejected whole: the old stays.
func (d *daemon) reload() {
	d.notify.reloading()
	defer d.notify.ready()
	path, explicit := d.configPath()
	cfg, err := config.LoadDaemon(path, explicit)
	if err != nil {
		d.log.Error("reload rejected, keeping the running configuration", "err", err)
		return
	}
	libxl, err := config.LoadLibxl(d.opts.Paths.LibxlConfig())
	if err != nil {
		d.log.Error("reload rejected, keeping the running configuration", "err", err)
		return
	}
	if err := d.applyLogging(cfg); err != nil {
		d.log.Error("reload rejected, keeping the running configuration", "err", err)
		return
	}
	d.cfg, d.libxl = cfg, libxl
	d.log.Info("configuration reloaded")
}

func (d *daemon) applyLogging(cfg *config.Daemon) error {
	if err := d.logger.SetFilters(cfg.LogFilters); err != nil {
		return err
	}
	return d.logger.SetOutputs(cfg.LogOutputs)
}
