package daemon

import (
	"slices"
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
	d.main.Register(remote.New(remote.Deps{Driver: d.drv, Logger: log.With("module", "remote"),
		SocketDir: d.opts.Paths.SocketDir()}))
	d.admin = &rpc.Server{
		Name: "admin", Logger: log.With("module", "rpc.admin"),
		MaxClients:       int(c.AdminMaxClients),
		MaxQueuedClients: int(c.AdminMaxQueuedClients),
		MinWorkers:       int(c.AdminMinWorkers), MaxWorkers: max(int(c.AdminMaxWorkers), 1),
		MaxClientRequests: int(c.AdminMaxClientRequests),
		KeepaliveInterval: seconds(c.AdminKeepaliveInterval), KeepaliveCount: int(c.AdminKeepaliveCount),
	}
	// As libvirt's virNetServerNew("admin", ...): no limit (0) on
	// unauthenticated clients, where a zero field would mean rpc's default.
	d.admin.SetClientLimits(-1, 0)
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

// applyLiveLimits puts the reloaded limits named in changed into force on
// the running servers. Only those: a limit set through virt-admin stays
// unless its key changed in the file.
func (d *daemon) applyLiveLimits(c *config.Daemon, changed []string) {
	has := func(keys ...string) bool {
		return slices.ContainsFunc(keys, func(k string) bool { return slices.Contains(changed, k) })
	}
	pick := func(key string, v int) int {
		if has(key) {
			return v
		}
		return -1 // unchanged
	}
	d.main.SetClientLimits(pick("max_clients", int(c.MaxClients)), pick("max_anonymous_clients", int(c.MaxAnonymousClients)))
	d.main.SetThreadPool(pick("min_workers", int(c.MinWorkers)), pick("max_workers", int(c.MaxWorkers)),
		pick("prio_workers", int(c.PrioWorkers)))
	d.main.SetMaxClientRequests(pick("max_client_requests", int(c.MaxClientRequests)))
	if has("keepalive_interval", "keepalive_count") {
		d.main.SetKeepalive(seconds(c.KeepaliveInterval), int(c.KeepaliveCount))
	}
	d.admin.SetClientLimits(pick("admin_max_clients", int(c.AdminMaxClients)), -1)
	d.admin.SetThreadPool(pick("admin_min_workers", int(c.AdminMinWorkers)),
		pick("admin_max_workers", max(int(c.AdminMaxWorkers), 1)), -1)
	d.admin.SetMaxClientRequests(pick("admin_max_client_requests", int(c.AdminMaxClientRequests)))
	if has("admin_keepalive_interval", "admin_keepalive_count") {
		d.admin.SetKeepalive(seconds(c.AdminKeepaliveInterval), int(c.AdminKeepaliveCount))
	}
}
