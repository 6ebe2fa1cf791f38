package remote

import (
	"context"

	"virtxend/internal/rpc"
)

// forwardedProcs are the secondary drivers' procedures, each passed on as
// it came to libvirt's daemon for its driver, whose answer goes back to
// the client unchanged. They are not decoded, and not checked here for a
// read-only client: the client's connection to that daemon is read-only
// too, and the daemon refuses what libvirt refuses, with libvirt's error,
// as it does for libvirt's own virtxend.
func (p *program) forwardedProcs() []*rpc.Procedure {
	var out []*rpc.Procedure
	for i := range procTable {
		pi := &procTable[i]
		if pi.driver == driverHypervisor || pi.message {
			continue
		}
		proc := pi.Procedure
		proc.Raw, proc.NewArgs, proc.ReadOnly = true, nil, rpc.Allowed
		drv, stream := pi.driver, pi.stream
		proc.Handler = func(ctx context.Context, c *rpc.Client, args any) (any, error) {
			return p.forward(ctx, c, drv, stream, args.(rpc.RawBody))
		}
		out = append(out, &proc)
	}
	return out
}

// forward passes one call to the client's connection to drv's daemon.
func (p *program) forward(ctx context.Context, c *rpc.Client, drv libvirtDriver, stream streamDir, body rpc.RawBody) (any, error) {
	up, err := p.secondary(ctx, c, drv)
	if err != nil {
		return nil, err
	}
	h, _ := rpc.CallHeader(ctx)
	if stream == streamNone {
		r, err := up.Call(ctx, h.Prog, h.Vers, h.Proc, body)
		if err != nil {
			return nil, err
		}
		return rpc.RawBody(r.Body), nil
	}
	r, st, err := up.CallStream(ctx, h.Prog, h.Vers, h.Proc, body)
	if err != nil {
		return nil, err
	}
	s := &rpc.Stream{Ret: rpc.RawBody(r.Body), Finish: st.Finish, Abort: st.Abort}
	if stream == streamRead {
		s.Source = st
	} else {
		s.Sink = st
	}
	return s, nil
}
