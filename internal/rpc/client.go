package rpc

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"os"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// ErrClientClosed is returned when sending to a client that is gone.
var ErrClientClosed = errors.New("rpc: client closed")

// Client is one connection. Its methods are safe from any goroutine.
type Client struct {
	srv  *Server
	conn net.Conn
	// raw is conn's file descriptor, for a write that must not wait
	// (writeNow); nil for a connection that has none.
	raw       syscall.RawConn
	id        uint64
	peer      peerCreds
	connected time.Time
	log       *slog.Logger
	ctx       context.Context
	cancel    context.CancelFunc
	closeOnce sync.Once
	done      chan struct{}

	ka        keepalive
	kaStarted atomic.Bool
	pings     *rate.Limiter // how fast its PINGs are answered
	// owedRefusals counts the calls the program's check refused on a
	// worker (run), which the reader pays for at the server's pace of
	// refusals before it reads the next call (payRefusals).
	owedRefusals atomic.Int32

	mu            sync.Mutex
	cond          *sync.Cond // any change to the fields below
	readOnly      bool
	authenticated bool
	inflight      int // calls and stream packets being processed
	out           []outMsg
	nEvents       int // server-initiated messages in out
	closed        bool
	draining      bool // Shutdown: read no more calls
	delayedClose  bool // close once idle
	writing       bool // a goroutine is writing to the socket
	readerWaiting bool // read loop blocked by max_client_requests
	values        map[any]any
	hooks         []func()
	streams       map[streamKey]*serverStream

	// identMu guards ident apart from mu: making it from the peer's
	// credentials looks names up, which may be slow (NSS).
	identMu sync.Mutex
	ident   *Identity // nil until first asked for or replaced
}

// outMsg is one packet waiting for the writer.
type outMsg struct {
	data    []byte
	tracked bool          // releases a request slot once written
	event   bool          // counts against MaxQueuedMessages
	done    chan struct{} // closed once written or dropped
	// pooled is the reply buffer data is in, for replyBufs once written.
	pooled *[]byte
}

func newClient(s *Server, conn net.Conn, id uint64, opts ListenerOptions, peer peerCreds) *Client {
	ctx, cancel := context.WithCancel(context.Background())
	c := &Client{
		srv: s, conn: conn, id: id, peer: peer, connected: time.Now(),
		ctx: ctx, cancel: cancel, done: make(chan struct{}), pings: newPingLimiter(),
		readOnly: opts.ReadOnly, authenticated: !opts.RequireAuth,
	}
	c.cond = sync.NewCond(&c.mu)
	if sc, ok := conn.(syscall.Conn); ok {
		if raw, err := sc.SyscallConn(); err == nil {
			c.raw = raw
		}
	}
	c.log = s.log.With("client", id)
	c.ka.received()
	return c
}

func (c *Client) start() {
	go c.readLoop()
	go c.writeLoop()
}

// ID is the client's number, unique within its server.
func (c *Client) ID() uint64 { return c.id }

// Identity is the client's identity: its peer's credentials, with the
// names they resolve to, until SetIdentity replaces them. As libvirt's
// virNetServerClientGetIdentity, it is made on first use.
func (c *Client) Identity() Identity {
	c.identMu.Lock()
	defer c.identMu.Unlock()
	if c.ident == nil {
		id := c.peer.identity()
		c.ident = &id
	}
	return *c.ident
}

// SetIdentity replaces the client's identity whole, as
// virNetServerClientSetIdentity does for CONNECT_SET_IDENTITY: attributes
// id leaves unknown are unknown from now on.
func (c *Client) SetIdentity(id Identity) {
	c.identMu.Lock()
	defer c.identMu.Unlock()
	c.ident = &id
}

// ConnectTime is when the client was accepted.
func (c *Client) ConnectTime() time.Time { return c.connected }

// Server is the server the client belongs to.
func (c *Client) Server() *Server { return c.srv }

// Context is cancelled when the client closes; handlers get a child of it.
func (c *Client) Context() context.Context { return c.ctx }

// Done is closed once the client is closed and its close hooks have run.
func (c *Client) Done() <-chan struct{} { return c.done }

// Logger returns the client's logger.
func (c *Client) Logger() *slog.Logger { return c.log }

// ReadOnly reports whether the client may only make read-only calls.
func (c *Client) ReadOnly() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readOnly
}

// SetReadOnly makes the client read-only (CONNECT_OPEN with VIR_CONNECT_RO).
// There is no way back.
func (c *Client) SetReadOnly() {
	c.mu.Lock()
	c.readOnly = true
	c.mu.Unlock()
}

// Authenticated reports whether calls other than NoAuth ones are allowed.
func (c *Client) Authenticated() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.authenticated
}

// SetAuthenticated marks the client authenticated.
func (c *Client) SetAuthenticated() {
	c.mu.Lock()
	if c.authenticated || c.closed {
		c.mu.Unlock()
		return
	}
	c.authenticated = true
	c.mu.Unlock()
	c.srv.clientAuthenticated()
}

// Value returns the value a program stored under key, or nil.
func (c *Client) Value(key any) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.values[key]
}

// SetValue stores a per-client value for a program (e.g. its open
// connection). Use an unexported key type, as with context values.
func (c *Client) SetValue(key, val any) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.values == nil {
		c.values = map[any]any{}
	}
	c.values[key] = val
}

// OnClose registers f to run when the client closes (after its socket is
// closed), e.g. to deregister its events. Hooks run once, last first; if
// the client is already closed f runs now.
func (c *Client) OnClose(f func()) {
	c.mu.Lock()
	if !c.closed {
		c.hooks = append(c.hooks, f)
		c.mu.Unlock()
		return
	}
	c.mu.Unlock()
	f()
}

// SendMessage queues a server-initiated MESSAGE (an event: libvirt uses
// serial 1) with body as its XDR payload. It never blocks: a client whose
// queue is full is dropped and an error returned.
func (c *Client) SendMessage(prog, vers, proc, serial uint32, body any) error {
	buf := startPacket(make([]byte, 0, 128), Header{Prog: prog, Vers: vers, Proc: proc, Type: TypeMessage, Serial: serial})
	var err error
	if body != nil {
		if buf, err = appendBody(buf, body); err != nil {
			return err
		}
	}
	if buf, err = finishPacket(buf); err != nil {
		return err
	}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return ErrClientClosed
	}
	if c.nEvents >= c.srv.MaxQueuedMessages {
		c.mu.Unlock()
		c.log.Warn("dropping client: too many queued messages", "limit", c.srv.MaxQueuedMessages)
		go c.Close() // the caller may hold locks a close hook needs
		return ErrClientClosed
	}
	c.nEvents++
	c.sendLocked(outMsg{data: buf, event: true})
	return nil
}

// enqueue sends a packet; false if the client is closed.
func (c *Client) enqueue(m outMsg) bool {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		if m.done != nil {
			close(m.done)
		}
		return false
	}
	c.sendLocked(m)
	return true
}

// sendLocked writes m at once if nothing is queued or being written, else
// queues it for the writer; it releases c.mu. Writing at once saves waking
// the writer goroutine for each reply, which cost as much as a small call.
func (c *Client) sendLocked(m outMsg) {
	if c.raw == nil || c.writing || len(c.out) > 0 {
		c.pushLocked(m)
		c.mu.Unlock()
		return
	}
	c.writing = true
	c.mu.Unlock()
	c.writeNow(m)
}

// writeNow makes one write(2) of m, never waiting for the socket: what
// the socket does not take goes to the writer, ahead of anything queued
// meanwhile. The caller set c.writing, so no one else writes.
func (c *Client) writeNow(m outMsg) {
	n := 0
	c.raw.Write(func(fd uintptr) bool {
		n, _ = unix.Write(int(fd), m.data)
		return true // done, whatever happened: never wait
	})
	c.mu.Lock()
	c.writing = false
	switch {
	case c.closed:
	case n < len(m.data):
		m.data = m.data[max(n, 0):]
		c.out = slices.Insert(c.out, 0, m)
		c.cond.Broadcast()
		c.mu.Unlock()
		return
	default:
		c.finishLocked(m)
		c.wakeAfterWriteLocked(m)
		c.mu.Unlock()
		if m.done != nil {
			close(m.done)
		}
		return
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	if m.done != nil {
		close(m.done)
	}
}

// wakeAfterWriteLocked wakes those waiting on c.cond that the write of m
// concerns, and no one else: a needless wake of the writer goroutine woke
// a thread too, as much CPU as the rest of a small call. The writer waits
// for queued messages (possibly queued while m was written) or, closing,
// for the last reply; the reader for a request slot.
func (c *Client) wakeAfterWriteLocked(m outMsg) {
	if len(c.out) > 0 || (c.delayedClose && c.inflight == 0) || (m.tracked && c.readerWaiting) {
		c.cond.Broadcast()
	}
}

// finishLocked gives back what a written message held: its request slot,
// its place among the queued events.
func (c *Client) finishLocked(m outMsg) {
	recycle(m.pooled)
	if m.tracked {
		c.inflight--
	}
	if m.event {
		c.nEvents--
	}
}

func (c *Client) pushLocked(m outMsg) {
	c.out = append(c.out, m)
	c.cond.Broadcast()
}

// acquire takes a request slot; release gives it back.
func (c *Client) acquire() {
	c.mu.Lock()
	c.inflight++
	c.mu.Unlock()
}

func (c *Client) release() {
	c.mu.Lock()
	c.inflight--
	c.cond.Broadcast()
	c.mu.Unlock()
}

func (c *Client) wake() {
	c.mu.Lock()
	c.cond.Broadcast()
	c.mu.Unlock()
}

// DelayedClose closes the client once the replies in flight are written,
// and reads no further calls (CONNECT_CLOSE).
func (c *Client) DelayedClose() {
	c.mu.Lock()
	c.delayedClose = true
	idle := c.inflight == 0 && len(c.out) == 0
	c.cond.Broadcast()
	c.mu.Unlock()
	if idle {
		c.Close()
	}
}

// drain starts a graceful close for Shutdown.
func (c *Client) drain() {
	c.mu.Lock()
	c.draining = true
	c.cond.Broadcast()
	c.mu.Unlock()
	_ = c.conn.SetReadDeadline(time.Now()) // wake a blocked read
	c.DelayedClose()
}

// Close closes the connection now, aborts its streams and runs its close
// hooks. Calls still running finish but their replies are dropped.
func (c *Client) Close() {
	c.closeOnce.Do(c.doClose)
}

func (c *Client) doClose() {
	c.mu.Lock()
	c.closed = true
	wasUnauth := !c.authenticated
	dropped, hooks, streams := c.out, c.hooks, c.streams
	c.out, c.hooks, c.streams = nil, nil, nil
	c.cond.Broadcast()
	c.mu.Unlock()
	c.cancel()
	c.conn.Close()
	for _, m := range dropped {
		if m.done != nil {
			close(m.done)
		}
	}
	for _, ss := range streams {
		ss.end(true)
	}
	for i := len(hooks) - 1; i >= 0; i-- {
		c.runHook(hooks[i])
	}
	c.srv.removeClient(c, wasUnauth)
	c.srv.budget.wake() // its read loop may wait for the receive budget
	c.log.Debug("client closed")
	close(c.done)
}

func (c *Client) runHook(f func()) {
	defer func() {
		if r := recover(); r != nil {
			c.log.Error("client close hook panicked", "panic", r)
		}
	}()
	f()
}

// readBufSize is each connection's read buffer: enough for several small
// calls in one read, and small because every connection holds one.
const readBufSize = 4 << 10

// yieldEvery is how many packets a connection's reader handles back to
// back, its input never running dry, before it waits for the others' turn
// (pollturn.go): PINGs and calls of unknown programs are answered by the
// reader itself, and a client streaming them kept it from ever blocking.
const yieldEvery = 16

// readLoop reads packets while the client has a free request slot:
// with max_client_requests calls in flight the socket is simply not read.
func (c *Client) readLoop() {
	br := bufio.NewReaderSize(c.conn, readBufSize)
	var head [lenSize + HeaderSize]byte
	streak := 0 // packets handled since the input last ran dry
	for c.waitForSlot() {
		if br.Buffered() == 0 {
			streak = 0
		} else if streak++; streak == yieldEvery {
			streak = 0
			c.srv.turn.wait()
		}
		h, n, err := readHeader(br, &head)
		var payload []byte
		if err == nil {
			payload, err = c.readPayload(br, h, n)
		}
		if err != nil {
			c.readFailed(err)
			return
		}
		c.ka.received()
		if err := c.route(h, payload); err != nil {
			c.log.Warn("closing client", "err", err)
			c.Close()
			return
		}
	}
}

// readPayload reads a packet's payload of n bytes, or reads past it when
// nothing would look at it: a call of a program or procedure this server
// does not have gets its error from the header alone, and a stray reply or
// message is dropped. A client sending 32 MiB calls of an unknown program
// then costs the server a small buffer, not 32 MiB each.
//
// A payload longer than firstChunk first reserves its length from the
// server's receive budget (recvBudget), and gives it back once read. Its
// buffer is then made whole at once: grown as bytes arrived, each doubling
// copied what came before, and a copy of 16 MiB cannot be preempted, which
// held up the collector's stack scans and every other client with them (a
// flood of 32 MiB packets took lookups' median from 0.6 to 50 ms). A
// large call's buffer is one a call before it has finished with, if there
// is one (recvBudget.buffer).
func (c *Client) readPayload(r io.Reader, h Header, n int) ([]byte, error) {
	if n > bulkPayload && c.srv.bulk.WaitN(c.ctx, n) != nil {
		return nil, net.ErrClosed
	}
	if c.srv.payloadUnused(h) {
		return nil, discardN(r, n)
	}
	if n <= firstChunk {
		buf := make([]byte, n)
		_, err := io.ReadFull(r, buf)
		return buf, noEOF(err)
	}
	res, ok := c.srv.budget.reserve(c, n)
	if !ok {
		return nil, net.ErrClosed
	}
	defer c.srv.budget.release(res)
	buf := c.srv.budget.buffer(n)
	if err := readFull(r, buf, res.touch); err != nil {
		c.srv.budget.recycle(buf) // a packet cut short: nothing holds it
		return nil, err
	}
	return buf, nil
}

func (c *Client) isClosed() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.closed
}

func (c *Client) waitForSlot() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	for c.canRead() && c.inflight >= int(c.srv.maxRequests.Load()) {
		c.readerWaiting = true
		c.cond.Wait()
	}
	c.readerWaiting = false
	return c.canRead()
}

func (c *Client) canRead() bool { return !c.closed && !c.draining && !c.delayedClose }

func (c *Client) readFailed(err error) {
	c.mu.Lock()
	stopping := c.draining || c.delayedClose || c.closed
	c.mu.Unlock()
	switch {
	case stopping:
		if c.isDraining() {
			c.DelayedClose()
		}
		return
	case errors.Is(err, errFraming):
		c.log.Warn("closing client: malformed packet", "err", err)
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, net.ErrClosed), errors.Is(err, os.ErrDeadlineExceeded):
		c.log.Debug("client disconnected", "err", err)
	default:
		c.log.Info("client read failed", "err", err)
	}
	c.Close()
}

func (c *Client) isDraining() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.draining
}

// writeLoop writes queued packets in queue order, batching what is queued.
func (c *Client) writeLoop() {
	for {
		batch, ok := c.nextBatch()
		if !ok {
			return
		}
		bufs := make(net.Buffers, len(batch))
		for i, m := range batch {
			bufs[i] = m.data
		}
		_, err := bufs.WriteTo(c.conn)
		c.finishBatch(batch)
		if err != nil {
			c.log.Debug("client write failed", "err", err)
			c.Close()
			return
		}
	}
}

func (c *Client) nextBatch() ([]outMsg, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	for !c.closed && (len(c.out) == 0 || c.writing) {
		if len(c.out) == 0 && !c.writing && c.delayedClose && c.inflight == 0 {
			go c.Close()
			return nil, false
		}
		c.cond.Wait()
	}
	if c.closed {
		return nil, false
	}
	batch := c.out
	c.out = nil
	c.writing = true
	return batch, true
}

func (c *Client) finishBatch(batch []outMsg) {
	c.mu.Lock()
	c.writing = false
	for _, m := range batch {
		c.finishLocked(m)
	}
	c.cond.Broadcast()
	c.mu.Unlock()
	for _, m := range batch {
		if m.done != nil {
			close(m.done)
		}
	}
}
