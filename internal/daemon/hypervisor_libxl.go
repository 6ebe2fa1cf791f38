//go:build libxl

package daemon

import (
	"cmp"
	"fmt"
	"log/slog"

	"virtxend/internal/backend"
	"virtxend/internal/backend/libxl"
	"virtxend/internal/config"
	"virtxend/internal/libxllog"
	"virtxend/internal/logging"
)

// Built with -tags libxl, the daemon can drive real Xen, and does by
// default (chooseBackend).
func init() {
	backendOpeners[config.BackendLibxl] = openLibxl
}

// openLibxl opens real Xen. libxl's own messages go to the daemon's log and,
// as libvirt's libxl driver writes them, to libxl-driver.log and each
// guest's log in /var/log/libvirt/libxl, at the daemon's log_level.
func openLibxl(d *daemon) (backend.Backend, error) {
	log := d.logger.Slog()
	files, err := libxllog.Open(d.opts.Paths.LibxlLogDir(), logging.Priority(cmp.Or(d.cfg.LogLevel, uint(logging.DefaultPriority))).SlogLevel())
	if err != nil {
		return nil, fmt.Errorf("cannot open libxl's logs: %w", err)
	}
	libxlLog := slog.New(slog.NewMultiHandler(log.With("module", "libxl").Handler(), files.Handler()))
	be, err := libxl.New(libxl.Options{Log: log.With("module", "backend.libxl"), LibxlLog: libxlLog, DomainLogs: files})
	if err != nil {
		files.Close()
		return nil, err
	}
	return be, nil
}
