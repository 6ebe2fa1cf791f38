package daemon

import (
	"context"
	"slices"
	"strings"

	"virtxend/internal/config"
	"virtxend/internal/hook"
	"virtxend/internal/logging"
)

// reload re-reads virtxend.conf and libxl.conf on SIGHUP. libvirt reloads
// only domain configs; we also apply what can change live and name what
// needs a restart. A config with errors is rejected whole: the old stays.
// Only keys whose value in the file changed since the last load are
// applied, so a SIGHUP does not undo changes made through virt-admin.
func (d *daemon) reload() {
	d.notify.reloading()
	defer d.notify.ready()
	// As libvirt: the hooks are looked up again (a hook added since runs
	// from now on) and the daemon hook told, before the reload.
	d.hooks.Lookup()
	d.daemonHook("reload", hook.Begin, "SIGHUP")
	// As libvirt: persistent domain configs and autostart links.
	if err := d.drv.Reload(context.Background()); err != nil {
		d.log.Error("reloading domain configs failed", "err", err)
	}
	cfg, libxl, err := d.readConfigs()
	if err != nil {
		d.log.Error("reload rejected, keeping the running configuration", "err", err)
		return
	}
	changed, _ := config.DiffDaemon(d.fileCfg, cfg)
	if slices.ContainsFunc(changed, func(k string) bool { return strings.HasPrefix(k, "log_") }) {
		edited := logging.Edited{Filters: slices.Contains(changed, "log_filters"), Outputs: slices.Contains(changed, "log_outputs")}
		if err := d.logger.Reconfigure(d.logSettings(cfg), edited); err != nil {
			d.log.Error("reload rejected, keeping the running configuration", "err", err)
			return
		}
	}
	if slices.ContainsFunc(changed, func(k string) bool { return !strings.HasPrefix(k, "log_") }) {
		d.applyLiveLimits(cfg, changed)
	}
	d.fileCfg = cfg
	// Diff against the start-up config: a setting that needs a restart
	// stays pending, and is named, until the daemon restarts.
	_, restart := config.DiffDaemon(d.cfg, cfg)
	_, libxlRestart := config.DiffLibxl(d.libxl, libxl)
	restart = append(restart, libxlRestart...)
	if len(restart) > 0 {
		d.log.Warn("changed settings take effect only after a restart", "keys", restart)
	}
	d.log.Info("configuration reloaded", "applied", changed)
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
