package rpc

import (
	"context"
	"fmt"
	"slices"
)

// Handler runs one procedure call. args is what the procedure's NewArgs
// returned, decoded; ret is encoded as the reply body (nil = empty body).
// An error becomes the reply's remote_error (see virerr). Returning a
// *Stream turns the call into a data stream.
type Handler func(ctx context.Context, c *Client, args any) (ret any, err error)

// Procedure is one entry of a program's table: everything the dispatcher
// needs to check and run a call.
type Procedure struct {
	Number uint32
	Name   string // e.g. "DOMAIN_SUSPEND", for logs
	API    string // e.g. "virDomainSuspend", used in error messages
	// High marks a high-priority call: it may run on the priority workers
	// when every normal worker is busy.
	High bool
	// NoAuth allows the call before the client has authenticated.
	NoAuth bool
	// ReadOnly says whether a read-only client may make the call.
	ReadOnly ReadOnlyRule
	// NewArgs returns a pointer to a fresh args value to decode the
	// payload into; nil means the procedure takes no arguments.
	NewArgs func() any
	Handler Handler
}

// ReadOnlyRule decides whether a read-only client may make a call. The
// zero value allows it.
type ReadOnlyRule struct {
	denied   bool
	deniedIf func(args any) bool
}

// Rules for the common cases.
var (
	Allowed = ReadOnlyRule{}
	Denied  = ReadOnlyRule{denied: true}
)

// DeniedIf denies the call on a read-only connection when pred says so,
// e.g. for GetXMLDesc with the SECURE flag.
func DeniedIf[A any](pred func(args *A) bool) ReadOnlyRule {
	return ReadOnlyRule{deniedIf: func(args any) bool {
		a, ok := args.(*A)
		return !ok || pred(a)
	}}
}

func (r ReadOnlyRule) denies(args any) bool {
	return r.denied || (r.deniedIf != nil && r.deniedIf(args))
}

// Flags are the per-procedure switches Proc takes.
type Flags uint8

// Procedure flags.
const (
	High         Flags = 1 << iota // high priority
	NoAuth                         // allowed before authentication
	DenyReadOnly                   // denied on read-only connections
)

// Void is the args or ret type of a procedure that has none.
type Void struct{}

// Proc declares a procedure with typed args and ret:
//
//	rpc.Proc(34, "DOMAIN_SUSPEND", "virDomainSuspend", rpc.DenyReadOnly, h.suspend)
//
// where h.suspend is func(ctx, *rpc.Client, *libvirt.DomainSuspendArgs) (*rpc.Void, error).
// A nil *R is sent as R's zero value. Use WithReadOnly for flag-dependent
// read-only rules.
func Proc[A, R any](num uint32, name, api string, flags Flags, h func(context.Context, *Client, *A) (*R, error)) *Procedure {
	p := &Procedure{
		Number: num, Name: name, API: api,
		High: flags&High != 0, NoAuth: flags&NoAuth != 0,
		NewArgs: func() any { return new(A) },
		Handler: func(ctx context.Context, c *Client, args any) (any, error) {
			r, err := h(ctx, c, args.(*A))
			if err != nil {
				return nil, err
			}
			if r == nil {
				return new(R), nil
			}
			return r, nil
		},
	}
	if flags&DenyReadOnly != 0 {
		p.ReadOnly = Denied
	}
	return p
}

// StreamProc declares a procedure whose handler opens a stream.
func StreamProc[A any](num uint32, name, api string, flags Flags, h func(context.Context, *Client, *A) (*Stream, error)) *Procedure {
	p := Proc(num, name, api, flags, h)
	p.Handler = func(ctx context.Context, c *Client, args any) (any, error) {
		st, err := h(ctx, c, args.(*A))
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	return p
}

// WithReadOnly sets the read-only rule and returns p.
func (p *Procedure) WithReadOnly(r ReadOnlyRule) *Procedure {
	p.ReadOnly = r
	return p
}

// Program is a set of procedures under one program number and version.
// Build it before serving; it is read concurrently afterwards.
type Program struct {
	Number, Version uint32
	// Check, if set, runs after authentication and decoding, before the
	// read-only rule and the handler: a program-wide precondition such as
	// "the connection must be open".
	Check func(ctx context.Context, c *Client, p *Procedure, args any) error
	procs map[uint32]*Procedure
}

// NewProgram returns a program holding procs.
func NewProgram(number, version uint32, procs ...*Procedure) *Program {
	p := &Program{Number: number, Version: version, procs: map[uint32]*Procedure{}}
	p.Add(procs...)
	return p
}

// Add registers procedures. A number used twice is a programming error
// and panics.
func (p *Program) Add(procs ...*Procedure) {
	if p.procs == nil {
		p.procs = map[uint32]*Procedure{}
	}
	for _, proc := range procs {
		if _, dup := p.procs[proc.Number]; dup {
			panic(fmt.Sprintf("rpc: program %#x: procedure %d registered twice", p.Number, proc.Number))
		}
		p.procs[proc.Number] = proc
	}
}

// Procedure returns procedure num, or nil.
func (p *Program) Procedure(num uint32) *Procedure { return p.procs[num] }

// Procedures returns the procedures in number order.
func (p *Program) Procedures() []*Procedure {
	out := make([]*Procedure, 0, len(p.procs))
	for _, proc := range p.procs {
		out = append(out, proc)
	}
	slices.SortFunc(out, func(a, b *Procedure) int { return int(a.Number) - int(b.Number) })
	return out
}
