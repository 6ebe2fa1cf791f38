package daemon

import (
	"time"

	"virtxend/internal/config"
	"virtxend/internal/remote"
	"virtxend/internal/rpc"
)

// newServers builds libvirt's two servers: "virtxend" with the remote
// program on the rw and ro sockets, and "admin" on the admin socket.
func (d *daemon) newServers() {
	c := d.cfg
	log := d.logger.Slog()
	d.main = &rpc.Server{
		Name: "virtxend", Logger: log.With("module", "rpc"),
		MaxClients: int(c.MaxClients), MaxAnonymousClients: int(c.MaxAnonymousClients),
		MaxQueuedClients: int(c.MaxQueuedClients),
		MinWorkers:       int(c.MinWorkers), MaxWorkers: int(c.MaxWorkers), PrioWorkers: int(c.PrioWorkers),
		MaxClientRequests: int(c.MaxClientRequests),
		KeepaliveInterval: seconds(c.KeepaliveInterval), KeepaliveCount: int(c.KeepaliveCount),
	}
	d.main.Register(remote.New(remote.Deps{Driver: d.drv, Logger: log.With("module", "remote")}))
	d.admin = &rpc.Server{
		Name: "admin", Logger: log.With("module", "rpc.admin"),
		MaxClients: int(c.AdminMaxClients), MaxAnonymousClients: int(c.AdminMaxClients),
		MaxQueuedClients: int(c.AdminMaxQueuedClients),
		MinWorkers:       int(c.AdminMinWorkers), MaxWorkers: max(int(c.AdminMaxWorkers), 1),
		MaxClientRequests: int(c.AdminMaxClientRequests),
		KeepaliveInterval: seconds(c.AdminKeepaliveInterval), KeepaliveCount: int(c.AdminKeepaliveCount),
	}
	d.registerAdmin()
	for _, srv := range []*rpc.Server{d.main, d.admin} {
		go d.watchClients(srv)
	}
}

// seconds converts a keepalive interval; -1 (never) stays negative.
func seconds(n int) time.Duration {
	if n <= 0 {
		return -1
	}
	return time.Duration(n) * time.Second
}

// watchClients feeds the idle timer the total number of clients on both
// servers whenever one server's count changes.
func (d *daemon) watchClients(srv *rpc.Server) {
	for range srv.ClientsChanged() {
		d.idle.set("clients/"+srv.Name, srv.NumClients())
	}
}

// applyLiveLimits puts reloaded limits into force on the running servers.
func (d *daemon) applyLiveLimits(c *config.Daemon) {
	d.main.SetClientLimits(int(c.MaxClients), int(c.MaxAnonymousClients))
	d.main.SetThreadPool(int(c.MinWorkers), int(c.MaxWorkers), int(c.PrioWorkers))
	d.main.SetMaxClientRequests(int(c.MaxClientRequests))
	d.main.SetKeepalive(seconds(c.KeepaliveInterval), int(c.KeepaliveCount))
	d.admin.SetClientLimits(int(c.AdminMaxClients), int(c.AdminMaxClients))
	d.admin.SetThreadPool(int(c.AdminMinWorkers), max(int(c.AdminMaxWorkers), 1), 0)
	d.admin.SetMaxClientRequests(int(c.AdminMaxClientRequests))
	d.admin.SetKeepalive(seconds(c.AdminKeepaliveInterval), int(c.AdminKeepaliveCount))
}
