package rpc

import (
	"context"
	"errors"
	"log/slog"
	"maps"
	"net"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/time/rate"
)

// Defaults are libvirt's (daemonConfigNew) for fields left zero.
const (
	DefaultMaxClients          = 5000
	DefaultMaxQueuedClients    = 1000
	DefaultMaxAnonymousClients = 20
	DefaultMinWorkers          = 5
	DefaultMaxWorkers          = 20
	DefaultPrioWorkers         = 5
	DefaultMaxClientRequests   = 5
	DefaultMaxQueuedMessages   = 4096
)

// ErrServerClosed is returned by Serve after Shutdown or Close.
var ErrServerClosed = errors.New("rpc: server closed")

// Server serves libvirt RPC programs to the clients of its listeners. Set
// the fields before the first Serve; afterwards change limits only with the
// Set methods. Zero limits take libvirt's defaults.
type Server struct {
	Name   string       // server name for logs and admin ("virtxend", "admin")
	Logger *slog.Logger // nil discards

	MaxClients          int // connections beyond this wait in the listen backlog
	MaxAnonymousClients int // unauthenticated connections, likewise
	MaxQueuedClients    int // listen backlog; recorded for admin only
	MinWorkers          int
	MaxWorkers          int
	PrioWorkers         int
	MaxClientRequests   int // calls in flight per client before its socket is not read

	// KeepaliveInterval is how long a client may be silent before the
	// server PINGs it (once the client asked for keepalive); <= 0 never.
	KeepaliveInterval time.Duration
	// KeepaliveCount is how many PINGs may go unanswered before the
	// connection is closed.
	KeepaliveCount int
	// MaxQueuedMessages bounds server-initiated messages (events) waiting
	// to be written to one client; a client that falls further behind is
	// dropped rather than allowed to stall the senders.
	MaxQueuedMessages int
	// MaxReceiving bounds the bytes of packets being received at once,
	// over all clients, beyond a small first chunk each (see recvBudget);
	// libvirt has no such limit. Values below MessageMax count as
	// MessageMax, so that any packet can be received.
	MaxReceiving int

	recvStall time.Duration // 0: defaultReceiveStall (tests shorten it)
	budget    *recvBudget
	// refusals and bulk pace what a hostile client could make the server
	// do without limit (pace.go); unpaced (tests) leaves them unlimited.
	refusals *rate.Limiter
	bulk     *rate.Limiter
	unpaced  bool

	initOnce sync.Once
	// turn is where goroutines whose input never runs dry wait for the
	// others' turn (pollturn.go).
	turn        *pollTurn
	log         *slog.Logger
	pool        *pool
	programs    atomic.Pointer[map[[2]uint32]*Program]
	maxRequests atomic.Int64
	activeCalls atomic.Int64
	changed     chan struct{}

	mu         sync.Mutex
	roomCond   *sync.Cond // accept loops wait here while at a client limit
	listeners  map[net.Listener]struct{}
	clients    map[uint64]*Client
	nextID     uint64
	nUnauth    int
	closing    bool
	acceptWait int // accept loops blocked on limits, for tests
}

// ListenerOptions describe the clients a listener produces.
type ListenerOptions struct {
	ReadOnly    bool // clients may only make calls allowed read-only
	RequireAuth bool // clients start unauthenticated (auth other than "none")
}

func (s *Server) init() {
	s.initOnce.Do(func() {
		s.log = s.Logger
		if s.log == nil {
			s.log = slog.New(slog.DiscardHandler)
		}
		s.log = s.log.With("module", "rpc", "server", s.Name)
		setDefault(&s.MaxClients, DefaultMaxClients)
		setDefault(&s.MaxAnonymousClients, DefaultMaxAnonymousClients)
		setDefault(&s.MaxQueuedClients, DefaultMaxQueuedClients)
		setDefault(&s.MaxWorkers, DefaultMaxWorkers)
		setDefault(&s.MaxClientRequests, DefaultMaxClientRequests)
		setDefault(&s.MaxQueuedMessages, DefaultMaxQueuedMessages)
		setDefault(&s.MaxReceiving, DefaultMaxReceiving)
		if s.recvStall <= 0 {
			s.recvStall = defaultReceiveStall
		}
		s.budget = newRecvBudget(s.MaxReceiving, s.recvStall)
		s.refusals, s.bulk = newRefusalLimiter(), newBulkLimiter()
		if s.unpaced {
			s.refusals.SetLimit(rate.Inf)
			s.bulk.SetLimit(rate.Inf)
		}
		s.maxRequests.Store(int64(s.MaxClientRequests))
		s.pool = newPool(s.MinWorkers, s.MaxWorkers, s.PrioWorkers)
		s.turn = newPollTurn()
		s.changed = make(chan struct{}, 1)
		s.roomCond = sync.NewCond(&s.mu)
		s.listeners = map[net.Listener]struct{}{}
		s.clients = map[uint64]*Client{}
		if s.programs.Load() == nil {
			s.programs.Store(&map[[2]uint32]*Program{})
		}
	})
}

func setDefault(v *int, def int) {
	if *v <= 0 {
		*v = def
	}
}

// Register adds a program. Programs may be added at any time.
func (s *Server) Register(p *Program) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	m := maps.Clone(*s.programs.Load())
	m[[2]uint32{p.Number, p.Version}] = p
	s.programs.Store(&m)
}

func (s *Server) program(prog, vers uint32) *Program {
	return (*s.programs.Load())[[2]uint32{prog, vers}]
}

// Serve accepts read-write clients that need no authentication on ln
// until Shutdown or Close. It always returns a non-nil error.
func (s *Server) Serve(ln net.Listener) error {
	return s.ServeListener(ln, ListenerOptions{})
}

// ServeListener is Serve with options for the listener's clients.
func (s *Server) ServeListener(ln net.Listener, opts ListenerOptions) error {
	s.init()
	s.mu.Lock()
	if s.closing {
		s.mu.Unlock()
		// Closed before serving began: the listener is ours to close, or
		// the connections waiting in its backlog would hang unanswered.
		ln.Close()
		return ErrServerClosed
	}
	s.listeners[ln] = struct{}{}
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		delete(s.listeners, ln)
		s.mu.Unlock()
	}()
	var backoff time.Duration
	pace := newAcceptLimiter()
	for {
		if !s.waitForRoom() {
			return ErrServerClosed
		}
		time.Sleep(pace.Reserve().Delay()) // pace.go
		conn, err := ln.Accept()
		if err != nil {
			if s.isClosing() {
				return ErrServerClosed
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() || isTemporary(err) {
				backoff = min(max(2*backoff, 5*time.Millisecond), time.Second)
				s.log.Warn("accept failed, retrying", "err", err, "delay", backoff)
				time.Sleep(backoff)
				continue
			}
			return err
		}
		backoff = 0
		s.addClient(conn, opts)
		s.turn.wait()
	}
}

// isTemporary reports resource exhaustion (EMFILE and the like), which
// should not end the accept loop.
func isTemporary(err error) bool {
	var t interface{ Temporary() bool }
	return errors.As(err, &t) && t.Temporary()
}

// waitForRoom blocks while the server is at a client limit, as libvirt
// stops polling its listening sockets; false means the server is closing.
func (s *Server) waitForRoom() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for !s.closing && s.atLimitLocked() {
		s.acceptWait++
		s.roomCond.Wait()
		s.acceptWait--
	}
	return !s.closing
}

// atLimitLocked is libvirt's rule: max_anonymous_clients 0 is no limit.
func (s *Server) atLimitLocked() bool {
	return len(s.clients) >= s.MaxClients ||
		(s.MaxAnonymousClients > 0 && s.nUnauth >= s.MaxAnonymousClients)
}

func (s *Server) isClosing() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.closing
}

func (s *Server) addClient(conn net.Conn, opts ListenerOptions) *Client {
	// The peer's credentials are read before the server lock is taken,
	// which every client's coming and going waits on.
	peer := readPeerCreds(conn)
	s.mu.Lock()
	// The limits may have been lowered while Accept was blocked, and other
	// accept loops may have taken the room: wait again, under the same lock
	// as the insertion. The client stays connected but unserved meanwhile,
	// as if still in the listen backlog.
	for !s.closing && s.atLimitLocked() {
		s.acceptWait++
		s.roomCond.Wait()
		s.acceptWait--
	}
	if s.closing {
		s.mu.Unlock()
		conn.Close()
		return nil
	}
	s.nextID++
	c := newClient(s, conn, s.nextID, opts, peer)
	s.clients[c.id] = c
	if !c.authenticated {
		s.nUnauth++
	}
	s.mu.Unlock()
	c.log.Debug("client connected", "uid", c.peer.logUID(), "pid", c.peer.logPID(), "readonly", opts.ReadOnly)
	s.notifyChanged()
	c.start()
	return c
}

func (s *Server) removeClient(c *Client, wasUnauth bool) {
	s.mu.Lock()
	if _, ok := s.clients[c.id]; ok {
		delete(s.clients, c.id)
		if wasUnauth {
			s.nUnauth--
		}
	}
	s.roomCond.Broadcast()
	s.mu.Unlock()
	s.budget.closed()
	s.notifyChanged()
}

func (s *Server) clientAuthenticated() {
	s.mu.Lock()
	s.nUnauth--
	s.roomCond.Broadcast()
	s.mu.Unlock()
}

func (s *Server) notifyChanged() {
	select {
	case s.changed <- struct{}{}:
	default:
	}
}

// ClientsChanged receives a value (coalesced) after clients come or go;
// read NumClients then. The daemon's idle timer uses it.
func (s *Server) ClientsChanged() <-chan struct{} {
	s.init()
	return s.changed
}

// NumClients is the number of connected clients.
func (s *Server) NumClients() int {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Clients returns the connected clients in id order.
func (s *Server) Clients() []*Client {
	s.init()
	s.mu.Lock()
	out := make([]*Client, 0, len(s.clients))
	for _, c := range s.clients {
		out = append(out, c)
	}
	s.mu.Unlock()
	slices.SortFunc(out, func(a, b *Client) int { return cmpU64(a.id, b.id) })
	return out
}

func cmpU64(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// Client returns the connected client with the given id, or nil.
func (s *Server) Client(id uint64) *Client {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.clients[id]
}

// Shutdown stops accepting, stops reading new calls, lets calls in flight
// finish and their replies go out, then closes every client. If ctx ends
// first the remaining clients are closed at once and ctx's error returned.
func (s *Server) Shutdown(ctx context.Context) error {
	s.init()
	clients := s.beginClose()
	for _, c := range clients {
		c.drain()
	}
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	var err error
	for s.NumClients() > 0 || s.activeCalls.Load() > 0 {
		select {
		case <-ctx.Done():
			err = ctx.Err()
		case <-tick.C:
			continue
		}
		break
	}
	for _, c := range s.Clients() {
		c.Close()
	}
	s.pool.stop()
	s.turn.close()
	return err
}

// Close closes the listeners and every client immediately.
func (s *Server) Close() error {
	s.init()
	s.beginClose()
	for _, c := range s.Clients() {
		c.Close()
	}
	s.pool.stop()
	s.turn.close()
	return nil
}

func (s *Server) beginClose() []*Client {
	s.mu.Lock()
	s.closing = true
	for ln := range s.listeners {
		ln.Close()
	}
	s.roomCond.Broadcast()
	s.mu.Unlock()
	return s.Clients()
}
