package rpc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"

	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// Conn is a client connection to another libvirt RPC server: libvirt's
// own daemons, which serve the drivers virtxend forwards to them. Calls
// take encoded arguments and give back the encoded reply, so a forwarder
// passes both through without decoding them; an error reply becomes a
// *virerr.Error carrying the server's remote_error exactly as sent. Calls
// may run concurrently; the server's event messages go to OnMessage, and
// its keepalive PINGs are answered. Conn's methods are safe from any
// goroutine.
type Conn struct {
	nc  io.ReadWriteCloser
	log *slog.Logger
	// onMessage receives the server's MESSAGE packets (events), in order,
	// on the read loop: it must not block.
	onMessage func(h Header, body []byte)

	wmu sync.Mutex // one packet written at a time

	mu      sync.Mutex
	serial  uint32
	pending map[uint32]chan Reply
	streams map[uint32]*ClientStream
	err     error // why the connection ended
	done    chan struct{}

	ka keepalive
}

// Reply is a server's answer to a call: the reply header and its payload
// (the procedure's ret).
type Reply struct {
	Header Header
	Body   []byte
}

// ErrConnClosed is the cause of calls on a Conn that has ended.
var ErrConnClosed = errors.New("rpc: connection closed")

// Dial connects to the libvirt RPC server at the Unix socket path.
// onMessage, if not nil, receives its event messages.
func Dial(ctx context.Context, path string, log *slog.Logger, onMessage func(h Header, body []byte)) (*Conn, error) {
	var d net.Dialer
	nc, err := d.DialContext(ctx, "unix", path)
	if err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newConn(nc, log.With("peer", path), onMessage), nil
}

// NewConn runs a client connection over rwc, a transport already
// connected to a libvirt RPC server (a TCP connection, or the pipes of a
// command such as ssh that reaches one); the connection owns rwc and
// closes it when it ends. log may be nil.
func NewConn(rwc io.ReadWriteCloser, log *slog.Logger, onMessage func(h Header, body []byte)) *Conn {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return newConn(rwc, log, onMessage)
}

// newConn runs a client connection over nc.
func newConn(nc io.ReadWriteCloser, log *slog.Logger, onMessage func(h Header, body []byte)) *Conn {
	c := &Conn{
		nc: nc, log: log, onMessage: onMessage,
		pending: map[uint32]chan Reply{}, streams: map[uint32]*ClientStream{}, done: make(chan struct{}),
	}
	c.ka.received()
	go c.readLoop()
	return c
}

// Done is closed once the connection has ended.
func (c *Conn) Done() <-chan struct{} { return c.done }

// Close ends the connection; calls waiting for replies fail.
func (c *Conn) Close() error {
	c.fail(ErrConnClosed)
	return nil
}

// Call sends a call of prog/vers/proc with body as its encoded arguments
// and waits for the reply. A reply with an error status is returned as
// the server's error (a *virerr.Error).
func (c *Conn) Call(ctx context.Context, prog, vers, proc uint32, body []byte) (Reply, error) {
	r, _, err := c.call(ctx, prog, vers, proc, body, false)
	return r, err
}

// CallStream is Call for a procedure whose call opens a data stream: the
// stream is registered before the call goes out, so data the server sends
// right after its reply finds it.
func (c *Conn) CallStream(ctx context.Context, prog, vers, proc uint32, body []byte) (Reply, *ClientStream, error) {
	return c.call(ctx, prog, vers, proc, body, true)
}

func (c *Conn) call(ctx context.Context, prog, vers, proc uint32, body []byte, stream bool) (Reply, *ClientStream, error) {
	ch := make(chan Reply, 1)
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		return Reply{}, nil, err
	}
	c.serial++
	h := Header{Prog: prog, Vers: vers, Proc: proc, Type: TypeCall, Serial: c.serial}
	c.pending[h.Serial] = ch
	var st *ClientStream
	if stream {
		st = newClientStream(c, h)
		c.streams[h.Serial] = st
	}
	c.mu.Unlock()
	forget := func() {
		c.mu.Lock()
		delete(c.pending, h.Serial)
		if st != nil && c.streams[h.Serial] == st {
			delete(c.streams, h.Serial)
		}
		c.mu.Unlock()
	}
	if err := c.write(h, body); err != nil {
		forget()
		return Reply{}, nil, err
	}
	var r Reply
	select {
	case r = <-ch:
	case <-ctx.Done():
		forget()
		return Reply{}, nil, ctx.Err()
	case <-c.done:
		// The reply may have come just before the end (a server that
		// closes after answering CONNECT_CLOSE): it wins.
		select {
		case r = <-ch:
		default:
			forget()
			return Reply{}, nil, c.cause()
		}
	}
	if r.Header.Status != StatusOK {
		forget()
		return r, nil, relayedError(r.Body)
	}
	if st == nil {
		forget()
	}
	return r, st, nil
}

// write sends one packet.
func (c *Conn) write(h Header, body []byte) error {
	pkt := rawPacket(h, body)
	c.wmu.Lock()
	defer c.wmu.Unlock()
	if _, err := c.nc.Write(pkt); err != nil {
		c.fail(err)
		return c.cause()
	}
	return nil
}

func (c *Conn) cause() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// fail ends the connection with err, once.
func (c *Conn) fail(err error) {
	c.mu.Lock()
	if c.err != nil {
		c.mu.Unlock()
		return
	}
	c.err = err
	streams := c.streams
	c.streams = map[uint32]*ClientStream{}
	c.mu.Unlock()
	c.nc.Close()
	close(c.done)
	for _, st := range streams {
		st.push(streamPacket{err: err})
	}
}

func (c *Conn) readLoop() {
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		h, body, err := readPacket(br)
		if err != nil {
			// Both wrapped: a transport may explain its end (ssh's
			// standard error) with an error of its own.
			c.fail(fmt.Errorf("%w: %w", ErrConnClosed, err))
			return
		}
		c.ka.received()
		c.route(h, body)
	}
}

// route hands one packet from the server to whoever waits for it.
func (c *Conn) route(h Header, body []byte) {
	if h.Prog == KeepaliveProgram && h.Vers == KeepaliveVersion && h.Type == TypeMessage {
		if h.Proc == keepalivePing {
			pong := h
			pong.Proc = keepalivePong
			go c.write(pong, nil)
		}
		return
	}
	// A reply answers its call once: the call leaves the table as its
	// reply is taken, so a server repeating a reply finds no one waiting
	// (and cannot block this loop on a full channel), and a stream call,
	// which stays open after its reply, leaves no entry behind.
	c.mu.Lock()
	var ch chan Reply
	if h.Type == TypeReply {
		ch = c.pending[h.Serial]
		delete(c.pending, h.Serial)
	}
	st := c.streams[h.Serial]
	c.mu.Unlock()
	switch {
	case h.Type == TypeReply && ch != nil:
		ch <- Reply{Header: h, Body: body}
	case h.Type == TypeStream && st != nil:
		st.receive(h, body)
	case h.Type == TypeMessage && c.onMessage != nil:
		c.onMessage(h, body)
	default:
		c.log.Debug("dropping unexpected packet", "header", h)
	}
}

// relayedError is the server's remote_error, as it reported it.
func relayedError(body []byte) error {
	var re remoteError
	if err := xdr.Unmarshal(body, &re); err != nil {
		return fmt.Errorf("%w: undecodable error reply: %v", ErrConnClosed, err)
	}
	return virerr.Relayed(virerr.Wire{
		Code: virerr.Code(re.Code), Domain: virerr.Domain(re.Domain),
		Message: deref(re.Message), Str1: deref(re.Str1), Str2: deref(re.Str2), Str3: deref(re.Str3),
		Int1: re.Int1, Int2: re.Int2,
	})
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}
