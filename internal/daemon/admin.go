package daemon

import (
	"virtxend/internal/admin"
	"virtxend/internal/rpc"
)

// registerAdmin serves the admin program on the admin server. It needs
// both servers, the logger and the idle timer, so it runs after they exist.
func (d *daemon) registerAdmin() {
	d.quit = make(chan bool, 1)
	d.admin.Register(admin.New(admin.Deps{
		Logger:         d.logger.Slog().With("module", "admin"),
		Servers:        []*rpc.Server{d.main, d.admin},
		Logging:        d.logger,
		SetIdleTimeout: d.idle.setTimeout,
		Shutdown:       d.requestShutdown,
	}))
}

// requestShutdown is admin's daemon-shutdown: waitForStop returns and the
// daemon stops as on SIGTERM, letting the reply go out first. Guests are
// left running with or without preserve.
func (d *daemon) requestShutdown(preserve bool) {
	select {
	case d.quit <- preserve:
	default: // a request is already pending
	}
}
