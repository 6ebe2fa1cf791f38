package remote

import (
	"context"
	"log/slog"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
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
}

// program holds the handlers' dependencies.
type program struct {
	drv *driver.Driver
	log *slog.Logger
}

// opensNothing lists procedures allowed before CONNECT_OPEN; every other
// one is refused with "hypervisor connection not open", as the daemon's
// generated dispatchers do. SUPPORTS_FEATURE checks for itself because
// feature 10 is answered before OPEN.
var opensNothing = map[uint32]bool{66: true, 67: true, 68: true, 69: true, 70: true, 1: true, 2: true, 60: true}

// New builds the remote program: implemented procedures from the area
// files, and every other procedure of the protocol answering libvirt's
// "not supported" error.
func New(deps Deps) *rpc.Program {
	p := &program{drv: deps.Driver, log: deps.Logger}
	if p.log == nil {
		p.log = slog.New(slog.DiscardHandler)
	}
	prog := rpc.NewProgram(ProgramNumber, ProgramVersion)
	for _, area := range [][]*rpc.Procedure{p.connectProcs(), p.hostProcs(), p.domainListProcs(),
		p.lifecycleProcs(), p.domainConfigProcs(), p.eventProcs(), p.nativeProcs()} {
		prog.Add(area...)
	}
	prog.Add(unsupportedProcs(prog)...)
	prog.Check = func(_ context.Context, c *rpc.Client, proc *rpc.Procedure, _ any) error {
		if opensNothing[proc.Number] || connOf(c).isOpen() {
			return nil
		}
		return errNotOpen()
	}
	return prog
}

// unsupportedProcs declares every protocol procedure prog lacks so that it
// answers VIR_ERR_NO_SUPPORT: virsh relies on that code (e.g. snapshot
// count during undefine), where "unknown procedure" would abort it.
func unsupportedProcs(prog *rpc.Program) []*rpc.Procedure {
	var out []*rpc.Procedure
	for _, pn := range procNames {
		if prog.Procedure(pn.Num) != nil {
			continue
		}
		api := pn.API
		out = append(out, &rpc.Procedure{
			Number: pn.Num, Name: pn.Wire, API: api,
			Handler: func(context.Context, *rpc.Client, any) (any, error) {
				return nil, virerr.New(virerr.FromDomain, libvirt.ErrNoSupport, "%s", api)
			},
		})
	}
	return out
}
