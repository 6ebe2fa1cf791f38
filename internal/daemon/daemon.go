// Package daemon is the virtxend process: it loads the configuration, holds
// the pid file, opens or adopts the three sockets, serves them, and handles
// signals, reload, the idle timeout and systemd notification.
package daemon

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"virtxend/internal/config"
	"virtxend/internal/driver"
	"virtxend/internal/hook"
	"virtxend/internal/libvirtd"
	"virtxend/internal/logging"
	"virtxend/internal/paths"
	"virtxend/internal/rpc"
)

// Options are what the command line decides.
type Options struct {
	Paths      paths.Paths
	ConfigFile string // "" means the default path, which may be absent
	PidFile    string // "" means the default path
	NoPidFile  bool   // -p "": run without a pid file
	Timeout    time.Duration
	Verbose    bool
	Daemonized bool
	// Ready is called once the pid file is held and the sockets listen;
	// -d uses it to release the foreground process.
	Ready func()
}

// shutdownGrace bounds how long calls in flight may take to finish on exit.
const shutdownGrace = 30 * time.Second

// daemon is one run of the process.
type daemon struct {
	opts    Options
	cfg     *config.Daemon // as loaded at start: what the sockets were made with
	fileCfg *config.Daemon // as last loaded: reload applies what changed since
	libxl   *config.Libxl  // as loaded at start: libxl.conf changes need a restart
	logger  *logging.Logger
	log     *slog.Logger
	notify  notifier
	sigs    chan os.Signal
	idle    *idleTimer
	sockets []*socket
	drv     *driver.Driver
	main    *rpc.Server // the virtxend server: rw and ro sockets
	admin   *rpc.Server // the admin server
	quit    chan bool   // admin's daemon-shutdown; true means --preserve
	serving sync.WaitGroup

	// libvirtd is the driver's connection to libvirt's network, storage
	// and secret daemons.
	libvirtd *libvirtd.Client
	// hooks are libvirt's hook scripts: the daemon runs the daemon hook,
	// the driver the libxl hook.
	hooks *hook.Hooks
}

// Run runs the daemon until a signal or the idle timeout stops it.
func Run(opts Options) error {
	activated, actErr := takeActivation() // first: nothing may open fds before
	// Catch signals from the start: one arriving during start-up would
	// otherwise kill the process with Go's default action. They are acted
	// on once the daemon serves.
	sigs := make(chan os.Signal, 8)
	signal.Notify(sigs, syscall.SIGHUP, syscall.SIGTERM, syscall.SIGINT, syscall.SIGQUIT)
	defer signal.Stop(sigs)
	d := &daemon{opts: opts, sigs: sigs}
	if err := d.loadConfig(); err != nil {
		return err
	}
	if actErr != nil {
		return actErr
	}
	if err := d.setupLogging(); err != nil {
		return err
	}
	defer d.logger.Close()
	pid, err := d.acquirePidFile()
	if err != nil {
		return err
	}
	defer pid.Release()
	if err := mkdirRunDir(d.socketDir()); err != nil {
		return fmt.Errorf("cannot create run directory %s: %w", d.socketDir(), err)
	}
	if err := d.openSockets(activated); err != nil {
		return err
	}
	defer d.closeSockets()
	return d.serve()
}

func (d *daemon) loadConfig() error {
	cfg, libxl, err := d.readConfigs()
	if err != nil {
		return err
	}
	d.cfg, d.fileCfg, d.libxl = cfg, cfg, libxl
	return nil
}

func (d *daemon) configPath() (string, bool) {
	if d.opts.ConfigFile != "" {
		return d.opts.ConfigFile, true
	}
	return d.opts.Paths.DaemonConfig(), false
}

func (d *daemon) setupLogging() error {
	l, err := logging.New(d.logSettings(d.cfg))
	if err != nil {
		return err
	}
	d.logger, d.log = l, l.Slog().With("module", "daemon")
	return nil
}

func (d *daemon) logSettings(cfg *config.Daemon) logging.Settings {
	return logging.Settings{
		Level: cfg.LogLevel, Filters: cfg.LogFilters, Outputs: cfg.LogOutputs,
		Daemonized: d.opts.Daemonized, LogDir: d.opts.Paths.LogDir(), Verbose: d.opts.Verbose,
	}
}

func (d *daemon) acquirePidFile() (*PidFile, error) {
	if d.opts.NoPidFile {
		return nil, nil
	}
	path := d.opts.PidFile
	if path == "" {
		path = d.opts.Paths.PidFile()
	}
	return AcquirePidFile(path)
}

func (d *daemon) socketDir() string {
	if d.cfg.UnixSockDir != "" {
		return d.cfg.UnixSockDir
	}
	return d.opts.Paths.SocketDir()
}

func (d *daemon) socketSpecs() []socketSpec {
	dir, c := d.socketDir(), d.cfg
	return []socketSpec{
		{role: roleRW, path: dir + "/" + paths.RWSocketName, mode: c.UnixSockRWPerms, group: c.UnixSockGroup,
			backlog: int(c.MaxQueuedClients), unitName: "virtxend.socket"},
		{role: roleRO, path: dir + "/" + paths.ROSocketName, mode: c.UnixSockROPerms, group: c.UnixSockGroup,
			backlog: int(c.MaxQueuedClients), unitName: "virtxend-ro.socket"},
		{role: roleAdmin, path: dir + "/" + paths.AdminSocketName, mode: c.UnixSockAdminPerms, group: c.UnixSockGroup,
			backlog: int(c.AdminMaxQueuedClients), unitName: "virtxend-admin.socket"},
	}
}

func (d *daemon) openSockets(activated map[string]*os.File) error {
	specs := d.socketSpecs()
	if err := claimActivation(specs, activated); err != nil {
		return err
	}
	for _, spec := range specs {
		s, err := openSocket(spec)
		if err != nil {
			d.closeSockets()
			return err
		}
		if s.adopted {
			d.log.Info("using socket passed by systemd", "unit", s.unitName)
		}
		d.sockets = append(d.sockets, s)
	}
	return nil
}

func (d *daemon) closeSockets() {
	for _, s := range d.sockets {
		s.close()
	}
	d.sockets = nil
}

// serve starts the servers, reports readiness and runs until told to stop.
func (d *daemon) serve() error {
	d.idle = newIdleTimer(d.opts.Timeout)
	// As libvirt's daemons: the hooks are looked up, and the daemon hook
	// told of the start, before the driver starts.
	d.hooks = hook.New(d.opts.Paths.HookDir())
	d.hooks.Lookup()
	d.daemonHook("start", hook.NoSubop, "start")
	d.libvirtd = libvirtd.New(libvirtd.Options{SocketDir: d.opts.Paths.SocketDir(),
		Log: d.logger.Slog().With("module", "libvirtd")})
	defer d.libvirtd.Close()
	if err := d.startDriver(); err != nil {
		return err
	}
	defer d.drv.Close()
	d.newServers()
	for _, s := range d.sockets {
		d.startServing(s)
	}
	if d.opts.Ready != nil {
		d.opts.Ready()
	}
	d.notify.ready()
	d.log.Info("virtxend is ready", "pid", os.Getpid())
	d.waitForStop(d.sigs)
	err := d.stop()
	d.hooks.Lookup()
	d.daemonHook("shutdown", hook.NoSubop, "shutdown")
	return err
}

// daemonHook runs the daemon hook (virHookCall for VIR_HOOK_DRIVER_DAEMON):
// its failure is logged, as libvirt ignores it.
func (d *daemon) daemonHook(op, subop, extra string) {
	if _, err := d.hooks.Call(hook.Daemon, "-", op, subop, extra, "", false); err != nil {
		d.log.Warn("daemon hook script failed", "op", op, "err", err)
	}
}

func (d *daemon) startServing(s *socket) {
	srv, ln := d.main, s.ln
	if s.role == roleAdmin {
		srv, ln = d.admin, sameUIDListener{Listener: s.ln, uid: os.Geteuid(), log: d.log}
	}
	opts := rpc.ListenerOptions{ReadOnly: s.role == roleRO}
	d.serving.Add(1)
	go func() {
		defer d.serving.Done()
		err := srv.ServeListener(ln, opts)
		if err != nil && !errors.Is(err, net.ErrClosed) && !errors.Is(err, rpc.ErrServerClosed) {
			d.log.Error("socket stopped serving", "path", s.path, "err", err)
		}
	}()
}

func (d *daemon) waitForStop(sigs <-chan os.Signal) {
	for {
		select {
		case sig := <-sigs:
			if sig == syscall.SIGHUP {
				d.reload()
				continue
			}
			d.log.Info("stopping on signal", "signal", sig.String())
			return
		case <-d.idle.C():
			d.log.Info("stopping after the idle timeout", "timeout", d.idle.Timeout())
			return
		case preserve := <-d.quit:
			d.log.Info("stopping at an admin client's request", "preserve", preserve)
			return
		}
	}
}

// stop closes the sockets first so no new client arrives, then lets the
// calls in flight finish within the grace period. Guests are not touched.
func (d *daemon) stop() error {
	d.notify.stopping()
	d.closeSockets()
	ctx, cancel := context.WithTimeout(context.Background(), shutdownGrace)
	defer cancel()
	for _, srv := range []*rpc.Server{d.main, d.admin} {
		if err := srv.Shutdown(ctx); err != nil {
			d.log.Warn("calls still in flight at shutdown", "err", err)
		}
	}
	d.serving.Wait()
	return nil
}
