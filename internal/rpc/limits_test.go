package rpc

import (
	"bytes"
	"context"
	"encoding/binary"
	"net"
	"runtime"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

func (f *fixture) onlyClient(t *testing.T) *Client {
	t.Helper()
	var c *Client
	waitFor(t, "one client", func() bool {
		cs := f.srv.Clients()
		if len(cs) == 1 {
			c = cs[0]
		}
		return c != nil
	})
	return c
}

func (c *Client) readerBlocked() bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.readerWaiting
}

// With max_client_requests calls in flight the socket is not read: a PING
// sent behind the calls is answered only after a call finishes.
func TestMaxClientRequestsBackpressure(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxClientRequests = 2 })
	c := f.dial(t)
	c.call(procBlock, 1, nil)
	c.call(procBlock, 2, nil)
	<-f.started
	<-f.started
	c.sendRaw(unhex(t, goldenPing))
	sc := f.onlyClient(t)
	waitFor(t, "reader to stop", sc.readerBlocked)
	f.release <- struct{}{}
	h, _ := c.recv()
	if h.Prog != remoteProg || h.Type != TypeReply {
		t.Fatalf("first packet %v, want a call's reply before the PONG", h)
	}
	if h, _ := c.recv(); h.Prog != KeepaliveProgram || h.Proc != keepalivePong {
		t.Fatalf("second packet %v, want PONG", h)
	}
	// Raising the limit live lets the reader go on.
	f.srv.SetMaxClientRequests(5)
	if got := f.srv.MaxClientRequestsLimit(); got != 5 {
		t.Fatalf("limit %d", got)
	}
	f.release <- struct{}{}
	c.recv()
}

// A high-priority call runs on a priority worker while every normal
// worker is blocked.
func TestPriorityWorkers(t *testing.T) {
	f := start(t, func(s *Server) { s.MinWorkers, s.MaxWorkers, s.PrioWorkers = 1, 1, 1 })
	c := f.dial(t)
	c.call(procBlock, 1, nil)
	<-f.started
	c.call(903, 2, nil) // low priority: must wait for the only normal worker
	c.call(157, 3, nil) // high priority
	if h, _ := c.recv(); h.Serial != 3 {
		t.Fatalf("reply serial %d, want the high-priority call 3", h.Serial)
	}
	info := f.srv.ThreadPool()
	if info.NWorkers != 1 || info.PrioWorkers != 1 || info.MaxWorkers != 1 || info.JobQueueDepth != 1 {
		t.Fatalf("pool info %+v", info)
	}
	f.release <- struct{}{}
	if h, _ := c.recv(); h.Serial != 1 {
		t.Fatalf("serial %d", h.Serial)
	}
	if h, _ := c.recv(); h.Serial != 2 {
		t.Fatalf("serial %d", h.Serial)
	}
}

func TestThreadPoolLive(t *testing.T) {
	f := start(t, nil)
	f.srv.SetThreadPool(3, 6, 2)
	waitFor(t, "pool resize", func() bool {
		i := f.srv.ThreadPool()
		return i.MinWorkers == 3 && i.MaxWorkers == 6 && i.PrioWorkers == 2 && i.NWorkers >= 3
	})
	f.srv.SetThreadPool(-1, 1, -1)
	waitFor(t, "pool shrink", func() bool {
		i := f.srv.ThreadPool()
		return i.NWorkers == 1 && i.MinWorkers == 1 && i.PrioWorkers == 2
	})
	c := f.dial(t)
	c.call(157, 1, nil)
	c.recv()
}

func (s *Server) acceptBlocked() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.acceptWait > 0
}

// At max_clients the server stops accepting; a waiting connection is
// served once a client leaves.
func TestMaxClientsStopsAccepting(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxClients = 1 })
	a := f.dial(t)
	a.call(157, 1, nil)
	a.recv()
	waitFor(t, "accept loop to pause", f.srv.acceptBlocked)
	b := f.dial(t) // sits in the listen backlog
	b.call(157, 2, nil)
	if n := f.srv.NumClients(); n != 1 {
		t.Fatalf("%d clients", n)
	}
	if lim := f.srv.ClientLimits(); lim.MaxClients != 1 || lim.Clients != 1 {
		t.Fatalf("limits %+v", lim)
	}
	a.conn.Close()
	if h, _ := b.recv(); h.Serial != 2 || h.Status != StatusOK {
		t.Fatalf("waiting client: %v", h)
	}
}

func TestSetClientLimitsResumesAccept(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxClients = 1 })
	a := f.dial(t)
	a.call(157, 1, nil)
	a.recv()
	waitFor(t, "accept loop to pause", f.srv.acceptBlocked)
	b := f.dial(t)
	b.call(157, 2, nil)
	f.srv.SetClientLimits(2, -1)
	if h, _ := b.recv(); h.Serial != 2 {
		t.Fatalf("got %v", h)
	}
}

func TestClientRegistry(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(157, 1, nil)
	c.recv()
	sc := f.onlyClient(t)
	if f.srv.Client(sc.ID()) != sc || f.srv.Client(sc.ID()+100) != nil {
		t.Fatal("lookup by id")
	}
	if id := sc.Identity(); !id.UnixUserID.Set || id.ProcessID.Value <= 0 {
		t.Fatalf("SO_PEERCRED identity %+v", id)
	}
	if sc.ConnectTime().IsZero() || sc.ReadOnly() || !sc.Authenticated() {
		t.Fatal("client info")
	}
	type key struct{}
	sc.SetValue(key{}, "conn")
	hooked := make(chan any, 1)
	sc.OnClose(func() { hooked <- sc.Value(key{}) })
	select {
	case <-f.srv.ClientsChanged():
	default:
	}
	sc.Close() // admin's client-disconnect
	if v := <-hooked; v != "conn" {
		t.Fatalf("hook saw %v", v)
	}
	c.expectClosed()
	<-f.srv.ClientsChanged()
	if f.srv.NumClients() != 0 {
		t.Fatal("client still listed")
	}
	if err := sc.SendMessage(remoteProg, 1, 318, 1, nil); err != ErrClientClosed {
		t.Fatalf("send to closed client: %v", err)
	}
}

// A client that does not read its events is dropped, not waited for.
func TestEventQueueOverflowDropsClient(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxQueuedMessages = 4 })
	c := f.dial(t)
	c.call(157, 1, nil)
	c.recv()
	sc := f.onlyClient(t)
	big := &libvirt.DomainGetXMLDescRet{XML: string(make([]byte, 1<<20))}
	var err error
	for i := 0; i < 1000 && err == nil; i++ {
		err = sc.SendMessage(remoteProg, 1, 318, 1, big)
	}
	if err == nil {
		t.Fatal("queue never overflowed")
	}
	<-sc.Done()
}

func TestShutdownDrainsInFlightCalls(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procBlock, 1, nil)
	<-f.started
	idle := f.dial(t)
	idle.call(157, 1, nil)
	idle.recv()
	done := make(chan error, 1)
	go func() { done <- f.srv.Shutdown(context.Background()) }()
	idle.expectClosed()
	f.release <- struct{}{}
	if h, _ := c.recv(); h.Serial != 1 || h.Status != StatusOK {
		t.Fatalf("in-flight reply: %v", h)
	}
	c.expectClosed()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := net.Dial("unix", f.path); err == nil {
		t.Fatal("still accepting after Shutdown")
	}
}

func TestShutdownContextExpires(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procBlock, 1, nil)
	<-f.started
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := f.srv.Shutdown(ctx); err != context.Canceled {
		t.Fatalf("Shutdown = %v", err)
	}
	c.expectClosed()
}

// libvirt's meaning of 0: max_clients 0 admits no one, and
// max_anonymous_clients 0 puts no limit on unauthenticated clients.
func TestClientLimitsZero(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxClients = 5 })
	f.srv.SetClientLimits(0, 0)
	if l := f.srv.ClientLimits(); l.MaxClients != 0 || l.MaxAnonymousClients != 0 {
		t.Fatalf("limits %+v", l)
	}
	a := f.dial(t)
	a.call(157, 1, nil)
	waitFor(t, "accept loop to pause", f.srv.acceptBlocked)
	f.srv.SetClientLimits(1, -1) // room for one; anonymous stays unlimited
	if h, _ := a.recv(); h.Serial != 1 {
		t.Fatalf("got %v", h)
	}
}

// TestClaimedLengthCostsWhatArrives: a packet whose length word claims
// 32 MiB but whose bytes never come allocates about what came, so that
// many such half-open connections cannot pin 32 MiB each.
func TestClaimedLengthCostsWhatArrives(t *testing.T) {
	claim := make([]byte, 4+HeaderSize+100)
	binary.BigEndian.PutUint32(claim, MessageMax+lenSize)
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	_, _, err := readPacket(bytes.NewReader(claim))
	runtime.ReadMemStats(&after)
	if err == nil {
		t.Fatal("a truncated packet was read")
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 1<<20 {
		t.Fatalf("reading %d bytes of a 32 MiB claim allocated %d bytes", len(claim), got)
	}
	// A whole packet still reads whole, across the buffer's growth.
	full := startPacket(nil, Header{Prog: 1, Vers: 1, Proc: 1})
	full = append(full, bytes.Repeat([]byte{7}, 3*firstChunk+5)...)
	binary.BigEndian.PutUint32(full, uint32(len(full)))
	_, p, err := readPacket(bytes.NewReader(full))
	if err != nil || len(p) != 3*firstChunk+5 || p[len(p)-1] != 7 {
		t.Fatalf("%d bytes, %v", len(p), err)
	}
}

// pongWithin reports whether r's PING is answered within limit.
func (r *rawConn) pongWithin(limit time.Duration) bool {
	r.sendRaw(keepalivePacket(keepalivePing))
	_ = r.conn.SetReadDeadline(time.Now().Add(limit))
	defer r.conn.SetReadDeadline(time.Time{})
	h, _, err := readPacket(r.br)
	return err == nil && h.Prog == KeepaliveProgram && h.Proc == keepalivePong
}

// max_anonymous_clients holds exactly: with 2, two unauthenticated
// clients are served and a third waits, as if in the listen backlog, until
// one of them authenticates.
func TestMaxAnonymousClientsExact(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxAnonymousClients = 2 })
	path := f.path + "-auth"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.ServeListener(ln, ListenerOptions{RequireAuth: true})
	dial := func() *rawConn {
		conn, err := net.Dial("unix", path)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { conn.Close() })
		return &rawConn{t: t, conn: conn, br: newReader(conn)}
	}
	a, b := dial(), dial()
	if !a.pongWithin(10*time.Second) || !b.pongWithin(10*time.Second) {
		t.Fatal("the first two anonymous clients are not served")
	}
	c := dial()
	if c.pongWithin(300 * time.Millisecond) {
		t.Fatal("a third anonymous client is served with max_anonymous_clients 2")
	}
	if l := f.srv.ClientLimits(); l.AnonymousClients != 2 || l.Clients != 2 {
		t.Fatalf("limits %+v", l)
	}
	a.call(66, 1, nil) // AUTH_LIST authenticates a
	a.recv()
	_ = c.conn.SetReadDeadline(time.Now().Add(10 * time.Second))
	h, _, err := readPacket(c.br) // the PONG to c's PING, once c is served
	if err != nil || h.Proc != keepalivePong {
		t.Fatalf("third client after one authenticated: %v %v", h, err)
	}
}
