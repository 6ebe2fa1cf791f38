// Package admin is libvirt's admin program (0x06900690), which Debian's
// unmodified virt-admin uses to manage the running daemon: its servers and
// their worker pools and client limits, the clients themselves, logging,
// the idle timeout and shutdown.
//
// Errors are libvirt's, including the quirk that the same unknown server
// reads "No server named 'x'" (VIR_FROM_RPC) from most procedures but "no
// server with matching name 'x' found" (VIR_FROM_ADMIN) from the three
// hand-written setters and CLIENT_GET_INFO, which overwrite the first error.
//
// Going beyond libvirt, every change made through this program is logged
// at info level with the uid and pid of the client that made it.
package admin

import (
	"context"
	"log/slog"
	"slices"
	"time"

	"virtxend/internal/rpc"
)

// Program and version of libvirt's admin protocol.
const (
	ProgramNumber  = 0x06900690
	ProgramVersion = 1
)

// Procedure numbers (admin_procedure).
const (
	ProcConnectOpen               = 1
	ProcConnectClose              = 2
	ProcConnectGetLibVersion      = 3
	ProcConnectListServers        = 4
	ProcConnectLookupServer       = 5
	ProcServerGetThreadPoolParams = 6
	ProcServerSetThreadPoolParams = 7
	ProcServerListClients         = 8
	ProcServerLookupClient        = 9
	ProcClientGetInfo             = 10
	ProcClientClose               = 11
	ProcServerGetClientLimits     = 12
	ProcServerSetClientLimits     = 13
	ProcConnectGetLoggingOutputs  = 14
	ProcConnectGetLoggingFilters  = 15
	ProcConnectSetLoggingOutputs  = 16
	ProcConnectSetLoggingFilters  = 17
	ProcServerUpdateTLSFiles      = 18
	ProcConnectSetDaemonTimeout   = 19
	ProcConnectDaemonShutdown     = 20
)

// DaemonShutdownPreserve is VIR_DAEMON_SHUTDOWN_PRESERVE, the one flag of
// CONNECT_DAEMON_SHUTDOWN.
const DaemonShutdownPreserve uint32 = 1

// LogControl is the daemon's logger as the admin program sees it: the
// filters and outputs in libvirt's printed form, and live setters that
// return libvirt's errors. *logging.Logger implements it.
type LogControl interface {
	Filters() string
	NumFilters() int
	SetFilters(filters string) error
	Outputs() string
	NumOutputs() int
	SetOutputs(outputs string) error
}

// Deps is what the admin program needs from the daemon.
type Deps struct {
	// Logger receives the record of every change; nil discards.
	Logger *slog.Logger
	// Servers are the daemon's servers, looked up by their Name.
	Servers []*rpc.Server
	// Logging is the daemon's logger.
	Logging LogControl
	// SetIdleTimeout changes the idle timeout (-t) at run time; 0 disables.
	SetIdleTimeout func(time.Duration)
	// Shutdown asks the daemon to stop once the reply has gone out. With
	// preserve, libvirt first runs the state drivers' stop hooks (QEMU's
	// auto_shutdown actions save or shut down guests; the libxl driver has
	// none). This daemon never touches guests on exit, so guests keep
	// running either way.
	Shutdown func(preserve bool)
}

// program holds the handlers' dependencies.
type program struct {
	deps    Deps
	log     *slog.Logger
	servers map[string]*rpc.Server
}

// New builds the admin program. Every procedure is low priority, as in
// libvirt, and none needs a prior CONNECT_OPEN.
func New(deps Deps) *rpc.Program {
	p := &program{deps: deps, log: deps.Logger, servers: map[string]*rpc.Server{}}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	for _, s := range deps.Servers {
		p.servers[s.Name] = s
	}
	prog := rpc.NewProgram(ProgramNumber, ProgramVersion)
	prog.Add(p.connectProcs()...)
	prog.Add(p.serverProcs()...)
	prog.Add(p.clientProcs()...)
	prog.Add(p.daemonProcs()...)
	return prog
}

// serverNames returns the server names in a stable order.
func (p *program) serverNames() []string {
	names := make([]string, 0, len(p.servers))
	for n := range p.servers {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

// logChange records a change made by client c.
func (p *program) logChange(ctx context.Context, c *rpc.Client, msg string, attrs ...any) {
	uid, pid := logIDs(c.Identity())
	attrs = append(attrs, "client_id", c.ID(), "client_uid", uid, "client_pid", pid)
	p.log.InfoContext(ctx, msg, attrs...)
}

// logIDs are the uid and pid of an identity for logs, -1 if unknown.
func logIDs(id rpc.Identity) (uid, pid int64) {
	uid, pid = -1, -1
	if id.UnixUserID.Set {
		uid = int64(id.UnixUserID.Value)
	}
	if id.ProcessID.Set {
		pid = id.ProcessID.Value
	}
	return uid, pid
}
