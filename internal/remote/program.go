package remote

import (
	"context"
	"log/slog"

	"virtxend/internal/driver"
	"virtxend/internal/rpc"
)

// Program and version of libvirt's remote protocol.
const (
	ProgramNumber  = 0x20008086
	ProgramVersion = 1
)

// Deps is what the remote program needs from the rest of the daemon.
type Deps struct {
	Driver *driver.Driver
	Logger *slog.Logger
	// SocketDir is where libvirt's own daemons have their sockets (the run
	// directory's libvirt/), for the secondary drivers' calls.
	SocketDir string
}

// program holds the handlers' dependencies.
type program struct {
	drv       *driver.Driver
	log       *slog.Logger
	socketDir string
	sysinfo   hostSysinfo
}

// New builds the remote program from procTable: the procedures the area
// files handle, and every other call of the protocol answering libvirt's
// "not supported". Event messages are not callable: a call of one is an
// unknown procedure, as in libvirt's daemon.
func New(deps Deps) *rpc.Program {
	p := &program{drv: deps.Driver, log: deps.Logger, socketDir: deps.SocketDir}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	prog := rpc.NewProgram(ProgramNumber, ProgramVersion)
	for _, area := range [][]*rpc.Procedure{p.connectProcs(), p.identityProcs(), p.hostProcs(), p.nodeDevProcs(), p.domainListProcs(),
		p.lifecycleProcs(), p.saveProcs(), p.snapshotProcs(), p.domainConfigProcs(), p.domainDeviceProcs(), p.tuningProcs(), p.consoleProcs(), p.eventProcs(),
		p.nativeProcs(), p.forwardedProcs(), p.statsProcs(), p.migrateProcs()} {
		prog.Add(area...)
	}
	for i := range procTable {
		if pi := &procTable[i]; !pi.message && prog.Procedure(pi.Number) == nil {
			prog.Add(pi.unsupported())
		}
	}
	prog.Check = checkOpen
	return prog
}

// checkOpen refuses a call before CONNECT_OPEN with libvirt's "hypervisor
// connection not open" (a secondary driver's: "connection not open"),
// unless libvirt's daemon serves it then.
func checkOpen(_ context.Context, c *rpc.Client, proc *rpc.Procedure, _ any) error {
	pi := lookupProc(proc.Number)
	switch {
	case (pi != nil && pi.preOpen) || connOf(c).isOpen():
		return nil
	case pi != nil && pi.driver != driverHypervisor:
		return errSecondaryNotOpen()
	}
	return errNotOpen()
}
