//go:build libxl

package daemon

import (
	"virtxend/internal/backend"
	"virtxend/internal/backend/libxl"
	"virtxend/internal/config"
)

// Built with -tags libxl, the daemon can drive real Xen, and does by
// default (chooseBackend).
func init() {
	backendOpeners[config.BackendLibxl] = openLibxl
}

func openLibxl(d *daemon) (backend.Backend, error) {
	log := d.logger.Slog()
	return libxl.New(libxl.Options{Log: log.With("module", "backend.libxl"), LibxlLog: log.With("module", "libxl")})
}
