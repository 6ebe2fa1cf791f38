package rpc

import (
	"context"
	"encoding/binary"
	"fmt"
	"runtime/debug"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/caller"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

type callKey struct{}

// CallHeader returns the header of the call a handler is serving.
func CallHeader(ctx context.Context) (Header, bool) {
	h, ok := ctx.Value(callKey{}).(Header)
	return h, ok
}

// route handles one packet in the read loop. Only an error that makes the
// connection unusable is returned.
func (c *Client) route(h Header, payload []byte) error {
	if h.Prog == KeepaliveProgram && h.Vers == KeepaliveVersion && h.Type == TypeMessage {
		c.keepaliveMessage(h)
		return nil
	}
	switch h.Type {
	case TypeCallWithFDs:
		// The fds themselves are not received: no procedure here takes any.
		if len(payload) < 4 {
			return fmt.Errorf("%w: call with fds but no fd count", errFraming)
		}
		if n := binary.BigEndian.Uint32(payload); n > MaxFDs {
			return fmt.Errorf("%w: %d fds, max %d", errFraming, n, MaxFDs)
		}
		payload = payload[4:]
		fallthrough
	case TypeCall:
		if !c.payRefusals() {
			return nil // the client is closing
		}
		c.acquire()
		call, err := c.admit(h, payload)
		if err != nil {
			c.refuse(h, err)
			return nil
		}
		if call.proc.Inline {
			c.srv.activeCalls.Add(1)
			c.serveCall(call)
			c.srv.activeCalls.Add(-1)
			return nil
		}
		c.srv.dispatch(c, call)
	case TypeStream, TypeStreamHole:
		c.streamPacket(h, payload)
	default:
		// libvirt answers nothing to a stray REPLY or MESSAGE.
		c.log.Debug("dropping unexpected message", "header", h)
	}
	return nil
}

// payloadUnused reports a packet whose payload route and call never read:
// a call that call refuses on its header (unknown program, bad status,
// unknown procedure), or a reply or message (keepalive's carry none).
func (s *Server) payloadUnused(h Header) bool {
	switch h.Type {
	case TypeReply, TypeMessage:
		return true
	case TypeCall:
		prog := s.program(h.Prog, h.Vers)
		if prog == nil || h.Status != StatusOK {
			return true
		}
		proc := prog.Procedure(h.Proc)
		return proc == nil || proc.Handler == nil
	}
	return false
}

// dispatch queues a call for the workers, with its procedure's priority.
func (s *Server) dispatch(c *Client, call admitted) {
	s.activeCalls.Add(1)
	ok := s.pool.submit(job{high: call.proc.High, run: func() {
		defer s.activeCalls.Add(-1)
		c.serveCall(call)
	}})
	if !ok {
		s.activeCalls.Add(-1)
		c.release()
	}
}

// admitted is a call that passed the checks of the RPC layer.
type admitted struct {
	h    Header
	prog *Program
	proc *Procedure
	args any
}

// admit makes the RPC layer's checks of a call, in libvirt's order, and
// decodes its arguments: what the reader can tell without the driver.
// The payload is then spent, but for a Raw procedure's: the arguments
// hold copies of what they keep of it.
func (c *Client) admit(h Header, payload []byte) (call admitted, err error) {
	defer func() {
		if call.proc == nil || !call.proc.Raw {
			c.srv.budget.recycle(payload)
		}
	}()
	prog := c.srv.program(h.Prog, h.Vers)
	if prog == nil {
		return admitted{}, rpcError("Cannot find program %d version %d", int32(h.Prog), int32(h.Vers))
	}
	if h.Status != StatusOK {
		return admitted{}, rpcError("Unexpected message status %d", uint32(h.Status))
	}
	proc := prog.Procedure(h.Proc)
	if proc == nil || proc.Handler == nil {
		return admitted{}, rpcError("unknown procedure: %d", int32(h.Proc))
	}
	if !proc.NoAuth && !c.Authenticated() {
		return admitted{}, rpcError("authentication required")
	}
	var args any
	switch {
	case proc.Raw:
		args = RawBody(payload)
	case proc.NewArgs != nil:
		args = proc.NewArgs()
		if err := xdr.Unmarshal(payload, args); err != nil {
			c.log.Debug("undecodable arguments", "proc", proc.Name, "err", err)
			return admitted{}, rpcError("Unable to decode message payload")
		}
	}
	return admitted{h: h, prog: prog, proc: proc, args: args}, nil
}

// refuse answers a call the RPC layer refused, once the server's pace of
// refusals allows (Server.refusals): a well-behaved client meets them
// rarely, while a client streaming malformed calls had the daemon answer
// 70,000 a second, out of every other client's share of the CPU. The
// reader waits, and reads no more of that connection meanwhile.
func (c *Client) refuse(h Header, err error) {
	c.log.Debug("call refused", "header", h, "err", err)
	if c.srv.refusals.Wait(c.ctx) != nil {
		c.release() // the client is closing
		return
	}
	c.replyError(h, err, true)
}

// payRefusals waits out, at the server's pace of refusals, the calls the
// program's check refused on a worker since the reader last read a call.
// Those are refused after the reader has let them go (the check needs the
// calls before them done: a connection is open once CONNECT_OPEN has
// run), so the reader pays for them before the next, as refuse does
// before answering. False if the client is closing.
func (c *Client) payRefusals() bool {
	for c.owedRefusals.Load() > 0 {
		if c.srv.refusals.Wait(c.ctx) != nil {
			return false
		}
		c.owedRefusals.Add(-1)
	}
	return true
}

// serveCall runs the call's driver checks and handler, on a worker or
// the reader, and queues the reply, whatever happens.
func (c *Client) serveCall(call admitted) {
	ret, err := c.run(call)
	if err != nil {
		c.log.Debug("call failed", "header", call.h, "err", err)
		c.replyError(call.h, err, true)
		return
	}
	if st, ok := ret.(*Stream); ok {
		c.openStream(call.h, st)
		return
	}
	c.reply(call.h, ret)
}

// run applies the program's and the read-only socket's checks, then the
// handler.
func (c *Client) run(call admitted) (any, error) {
	ctx := caller.With(context.WithValue(c.ctx, callKey{}, call.h), caller.Call{Client: c.id, Procedure: call.proc.Name})
	if call.prog.Check != nil {
		if err := call.prog.Check(ctx, c, call.proc, call.args); err != nil {
			c.owedRefusals.Add(1)
			return nil, err
		}
	}
	if c.ReadOnly() {
		if err := call.proc.ReadOnly.Check(call.args); err != nil {
			return nil, err
		}
	}
	return c.runHandler(ctx, call.proc, call.args)
}

// runHandler turns a panic into an internal error for this call alone.
func (c *Client) runHandler(ctx context.Context, proc *Procedure, args any) (ret any, err error) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("procedure handler panicked", "proc", proc.Name, "panic", r, "stack", string(debug.Stack()))
			ret, err = nil, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "%s failed unexpectedly", procLabel(proc))
		}
	}()
	return proc.Handler(ctx, c, args)
}

func procLabel(p *Procedure) string {
	if p.API != "" {
		return p.API
	}
	return p.Name
}

// reply queues an OK reply carrying ret.
func (c *Client) reply(h Header, ret any) {
	rh := h
	rh.Type, rh.Status = TypeReply, StatusOK
	pooled := replyBufs.Get().(*[]byte)
	buf := startPacket((*pooled)[:0], rh)
	var err error
	if ret != nil {
		buf, err = appendBody(buf, ret)
	}
	if err == nil {
		buf, err = finishPacket(buf)
	}
	if err != nil {
		c.log.Error("cannot encode reply", "header", h, "err", err)
		c.replyError(h, rpcError("Unable to encode message payload"), true)
		return
	}
	*pooled = buf
	c.enqueue(outMsg{data: buf, tracked: true, pooled: pooled})
}

// replyBufs recycles the buffers replies are encoded into, each given back
// once its reply is written (Client.finishLocked). A list of 10,000
// domains is 440 KB: allocated per call, it had the collector run, and
// scan the daemon's whole heap, every few hundred calls.
var replyBufs = sync.Pool{New: func() any { b := make([]byte, 0, 256); return &b }}

// maxPooledReply bounds the buffers replyBufs keeps: the rare huge reply
// (bulk statistics, megabytes) is left to the collector.
const maxPooledReply = 1 << 20

// recycle gives a written reply's buffer back to replyBufs.
func recycle(pooled *[]byte) {
	if pooled != nil && cap(*pooled) <= maxPooledReply {
		*pooled = (*pooled)[:0]
		replyBufs.Put(pooled)
	}
}

// replyError queues an error reply to h: a REPLY for a call, a STREAM for a
// stream packet, echoing prog, vers, proc and serial.
func (c *Client) replyError(h Header, err error, tracked bool) {
	rh := h
	rh.Status = StatusError
	if h.Type != TypeStream {
		rh.Type = TypeReply
	}
	c.enqueue(outMsg{data: rawPacket(rh, errorBody(err)), tracked: tracked})
}
