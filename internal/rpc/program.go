package rpc

import (
	"context"
	"fmt"
	"slices"

	"virtxend/internal/xdr"
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
	// Inline has the client's reader run the call itself, in place of a
	// worker: for a handler that never waits (no job, no backend, no other
	// daemon) and is short, such as a lookup, handing it to a worker cost
	// more than the call, in the two goroutine switches and the threads
	// they wake. The client's next calls are read once it returns.
	Inline bool
	// NoAuth allows the call before the client has authenticated.
	NoAuth bool
	// ReadOnly says whether a read-only client may make the call.
	ReadOnly ReadOnlyRule
	// NewArgs returns a pointer to a fresh args value to decode the
	// payload into; nil means the procedure takes no arguments.
	NewArgs func() any
	// Raw hands the handler the payload undecoded, as a RawBody: a call
	// passed on to another daemon as it came.
	Raw     bool
	Handler Handler
}

// RawBody is a payload that is already encoded: a Raw procedure's args, or
// a ret, stream reply or event body sent as it is (passed on from another
// daemon).
type RawBody []byte

// appendBody appends v to a packet: encoded, unless it is a RawBody.
func appendBody(buf []byte, v any) ([]byte, error) {
	if raw, ok := v.(RawBody); ok {
		return append(buf, raw...), nil
	}
	return xdr.Append(buf, v)
}

// ReadOnlyRule decides whether a read-only client may make a call, and
// with which error it is refused. The zero value allows it.
type ReadOnlyRule struct {
	err      error
	deniedIf func(args any) bool // nil: err applies to every call
}

// Allowed lets read-only clients make the call.
var Allowed = ReadOnlyRule{}

// Denied refuses every call of a read-only client with err.
func Denied(err error) ReadOnlyRule { return ReadOnlyRule{err: err} }

// DeniedIf refuses a read-only client's call with err when pred says so,
// e.g. GetXMLDesc with the SECURE flag. Arguments that are not an *A (a
// procedure without args) are refused.
func DeniedIf[A any](pred func(args *A) bool, err error) ReadOnlyRule {
	return ReadOnlyRule{err: err, deniedIf: func(args any) bool {
		a, ok := args.(*A)
		return !ok || pred(a)
	}}
}

// Check returns the error refusing a read-only client's call with args,
// or nil.
func (r ReadOnlyRule) Check(args any) error {
	if r.err == nil || (r.deniedIf != nil && !r.deniedIf(args)) {
		return nil
	}
	return r.err
}

// Spec is a procedure's entry in a program's table, typed with its args
// and ret types (Void for none) so that Handle accepts only a handler of
// the matching signature. Programs generate one per procedure from their
// protocol definition.
type Spec[A, R any] struct{ Proc *Procedure }

// StreamSpec is the Spec of a procedure whose call opens a data stream.
type StreamSpec[A any] struct{ Proc *Procedure }

// Handle returns a copy of s's procedure that runs h. A nil *R from h is
// sent as R's zero value.
func Handle[A, R any](s Spec[A, R], h func(context.Context, *Client, *A) (*R, error)) *Procedure {
	return bind(s.Proc, func(ctx context.Context, c *Client, a *A) (*R, error) {
		r, err := h(ctx, c, a)
		if err == nil && r == nil {
			r = new(R)
		}
		return r, err
	})
}

// HandleMarshaled is Handle for a handler that returns its reply as a
// Marshaler of R's XDR form rather than as an R: for a large reply that
// would otherwise be copied into an R first, such as a list of 10,000
// domains. Nothing checks that the bytes are R's; a test of the handler's
// type should.
func HandleMarshaled[A, R any](s Spec[A, R], h func(context.Context, *Client, *A) (xdr.Marshaler, error)) *Procedure {
	return bind(s.Proc, h)
}

// HandleStream returns a copy of s's procedure that runs h, whose stream
// then carries the data.
func HandleStream[A any](s StreamSpec[A], h func(context.Context, *Client, *A) (*Stream, error)) *Procedure {
	return bind(s.Proc, h)
}

// bind returns a copy of proc that decodes its arguments as an A and
// answers with what h returns.
func bind[A, T any](proc *Procedure, h func(context.Context, *Client, *A) (T, error)) *Procedure {
	p := *proc
	p.NewArgs = func() any { return new(A) }
	p.Handler = func(ctx context.Context, c *Client, args any) (any, error) {
		r, err := h(ctx, c, args.(*A))
		if err != nil {
			return nil, err
		}
		return r, nil
	}
	return &p
}

// Flags are the per-procedure switches Proc takes.
type Flags uint8

// Procedure flags.
const (
	High   Flags = 1 << iota // high priority
	NoAuth                   // allowed before authentication
)

// Void is the args or ret type of a procedure that has none.
type Void struct{}

// Proc declares a procedure with typed args and ret by hand, for a
// program without a generated table:
//
//	rpc.Proc(3, "CONNECT_GET_LIB_VERSION", "virAdmConnectGetLibVersion", 0, h.getLibVersion)
//
// where h.getLibVersion is func(ctx, *rpc.Client, *rpc.Void) (*LibVersionRet, error).
// Use WithReadOnly for a read-only rule.
func Proc[A, R any](num uint32, name, api string, flags Flags, h func(context.Context, *Client, *A) (*R, error)) *Procedure {
	return Handle(Spec[A, R]{Proc: declare(num, name, api, flags)}, h)
}

// StreamProc declares by hand a procedure whose handler opens a stream.
func StreamProc[A any](num uint32, name, api string, flags Flags, h func(context.Context, *Client, *A) (*Stream, error)) *Procedure {
	return HandleStream(StreamSpec[A]{Proc: declare(num, name, api, flags)}, h)
}

func declare(num uint32, name, api string, flags Flags) *Procedure {
	return &Procedure{Number: num, Name: name, API: api, High: flags&High != 0, NoAuth: flags&NoAuth != 0}
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
