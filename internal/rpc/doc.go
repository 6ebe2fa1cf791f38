// Package rpc is libvirt's RPC protocol as a generic server: framing,
// header, dispatch, limits, keepalive and streams. It knows no domains;
// programs (the remote program 0x20008086, the admin program 0x06900690)
// plug in as tables of procedures. The keepalive program is built in.
//
// # Wire format
//
// A packet is a big-endian uint32 length counting the whole packet, a
// 24-byte Header and an XDR payload. A length below 28 or above
// MessageMax+4 closes the connection without a reply, as libvirt does.
//
// # Declaring a program
//
// A program's table is generated from its protocol definition: one
// Procedure per procedure, with its number, names, priority and read-only
// rule, and a typed Spec for each, to which a handler is attached with
// Handle (the compiler checks the handler's args and ret types):
//
//	var procDomainSuspend = rpc.Spec[libvirt.DomainSuspendArgs, rpc.Void]{Proc: &table[33]}
//
//	prog := rpc.NewProgram(0x20008086, 1,
//		rpc.Handle(procDomainSuspend, h.suspend),
//		rpc.HandleStream(procDomainOpenConsole, h.openConsole),
//	)
//	srv := &rpc.Server{Name: "virtxend", Logger: log, MaxClients: 5000}
//	srv.Register(prog)
//	go srv.ServeListener(roListener, rpc.ListenerOptions{ReadOnly: true})
//	err := srv.Serve(rwListener)
//
// A program without a generated table declares its procedures by hand
// with Proc and StreamProc. Handlers have the form
//
//	func(ctx context.Context, c *rpc.Client, args *ArgsType) (*RetType, error)
//
// with rpc.Void where a procedure has no args or ret. Args and ret types are
// go-libvirt's generated structs or our own (see package xdr). A read-only
// rule carries the program's own error: Denied(err), or DeniedIf(pred, err)
// for a rule that depends on the arguments.
//
// # The path of a call
//
// A client's read loop reads a packet while the client has fewer than
// MaxClientRequests calls in flight (beyond that its socket is not read:
// backpressure, not rejection). Keepalive PINGs are answered at once, up
// to a rate per connection no keepalive comes near (keepalive.go);
// STREAM packets go to their stream; a CALL becomes a job for the worker
// pool, on the priority workers too if its procedure is High. A worker then
// checks, in libvirt's order: program and version known ("Cannot find
// program P version V", echoing the request's prog and vers), status OK
// ("Unexpected message status N"), procedure known ("unknown procedure: N"),
// authenticated unless NoAuth ("authentication required"), payload decodes
// ("Unable to decode message payload"), Program.Check, the read-only rule
// (the rule's own error), and runs the handler; a panic becomes an internal
// error for that call alone. Replies go out in completion order. Every error is sent as a
// full remote_error built from virerr.As(err) in one place (errors.go).
//
// # Clients
//
// A Client carries an Identity (its Unix peer's credentials until a proxy
// replaces them with its caller's), its connect time, an id, read-only and
// authenticated flags, per-program values with close hooks, SendMessage for
// events (never blocks; a client whose queue overflows is dropped),
// StartKeepalive, DelayedClose for CONNECT_CLOSE, and Close for admin's
// client-disconnect.
//
// # Limits
//
// Server fields are libvirt's daemon limits; the Set methods change them
// while serving (the admin program calls them). At MaxClients clients, or
// MaxAnonymousClients unauthenticated ones, the server stops accepting
// until a client leaves. NumClients and ClientsChanged serve the daemon's
// idle timer.
package rpc
