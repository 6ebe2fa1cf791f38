package rpc

import (
	"fmt"
	"sync/atomic"
	"time"
)

// keepaliveMessage answers a PING with a PONG; a PONG needs nothing more
// (any packet already reset the keepalive state). The PONG holds a request
// slot until it is written, as a reply does: a client that sends PINGs and
// never reads the PONGs stops being read at max_client_requests of them,
// where their queue grew without bound (a 7-second flood queued 5.7
// million, 400 MB).
//
// A connection's PINGs are answered at most pingRate a second after a
// burst of pingBurst: a client keeping its connection alive sends one
// after each keepalive_interval of silence (5 s), while a client streaming
// them had the daemon answer 165,000 a second, whose system calls came out
// of every other client's share of the CPU (docs/testing.md, Hostile
// clients). Past the limit the reader waits before it answers, and reads
// no more of that connection meanwhile: the flood waits in its socket.
func (c *Client) keepaliveMessage(h Header) {
	if h.Proc != keepalivePing {
		return
	}
	if c.pings.Wait(c.ctx) != nil {
		return // the client is closing
	}
	c.acquire()
	c.enqueue(outMsg{data: keepalivePacket(keepalivePong), tracked: true})
}

func keepalivePacket(proc uint32) []byte {
	return rawPacket(Header{Prog: KeepaliveProgram, Vers: KeepaliveVersion, Proc: proc, Type: TypeMessage}, nil)
}

// StartKeepalive makes the server PING the client after KeepaliveInterval
// of silence and close it after KeepaliveCount unanswered PINGs. The
// remote program calls it when the client asks CONNECT_SUPPORTS_FEATURE
// for VIR_DRV_FEATURE_PROGRAM_KEEPALIVE; clients that never ask (go-libvirt)
// are never pinged. Calling it again does nothing.
func (c *Client) StartKeepalive() {
	c.srv.mu.Lock()
	interval, count := c.srv.KeepaliveInterval, c.srv.KeepaliveCount
	c.srv.mu.Unlock()
	if interval <= 0 || !c.kaStarted.CompareAndSwap(false, true) {
		return
	}
	go c.keepaliveLoop(interval, int64(max(count, 0)))
}

// SetKeepalive changes KeepaliveInterval and KeepaliveCount at run time
// (a reload); clients that start keepalive afterwards use the new values.
func (s *Server) SetKeepalive(interval time.Duration, count int) {
	s.init()
	s.mu.Lock()
	defer s.mu.Unlock()
	s.KeepaliveInterval, s.KeepaliveCount = interval, count
}

// keepaliveLoop is the server side of the keepalive timer.
func (c *Client) keepaliveLoop(interval time.Duration, count int64) {
	c.ka.run(c.ctx.Done(), interval, count,
		func() { c.enqueue(outMsg{data: keepalivePacket(keepalivePing)}) },
		func() {
			c.log.Warn("connection closed due to keepalive timeout")
			c.Close()
		})
}

// keepalive is what a connection's keepalive timer reads: when a packet
// last came, and how many PINGs went out since.
type keepalive struct {
	lastRecv atomic.Int64 // unix nanoseconds of the last packet read
	missed   atomic.Int64 // PINGs sent since then
}

// received records a packet from the other side.
func (k *keepalive) received() {
	k.lastRecv.Store(time.Now().UnixNano())
	k.missed.Store(0)
}

// run is libvirt's virKeepAliveTimer: after each interval of inbound
// silence ping, and once count PINGs went unanswered, give up; until done.
func (k *keepalive) run(done <-chan struct{}, interval time.Duration, count int64, ping, giveUp func()) {
	timer := time.NewTimer(interval)
	defer timer.Stop()
	for {
		select {
		case <-done:
			return
		case <-timer.C:
		}
		idle := time.Since(time.Unix(0, k.lastRecv.Load()))
		if idle < interval {
			timer.Reset(interval - idle)
			continue
		}
		if k.missed.Load() >= count {
			giveUp()
			return
		}
		k.missed.Add(1)
		ping()
		timer.Reset(interval)
	}
}

// ErrKeepaliveTimeout is the cause of calls on a Conn that StartKeepalive
// closed because the server stopped answering.
var ErrKeepaliveTimeout = fmt.Errorf("%w: keepalive timeout", ErrConnClosed)

// StartKeepalive is libvirt's virKeepAliveStart on the client side: after
// interval without a packet from the server the connection PINGs it, and
// once count PINGs in a row went unanswered (at once, with count 0) it
// ends with ErrKeepaliveTimeout. A migration's source sets it on its
// connection to the destination, so that a destination that vanished
// fails the migration instead of hanging it. The server must have said it
// supports the keepalive program (VIR_DRV_FEATURE_PROGRAM_KEEPALIVE).
// interval <= 0 does nothing; call it once.
func (c *Conn) StartKeepalive(interval time.Duration, count int) {
	if interval <= 0 {
		return
	}
	go c.keepaliveLoop(interval, int64(max(count, 0)))
}

// keepaliveLoop is the client side of the keepalive timer.
func (c *Conn) keepaliveLoop(interval time.Duration, count int64) {
	c.ka.run(c.done, interval, count,
		func() {
			go c.write(Header{Prog: KeepaliveProgram, Vers: KeepaliveVersion, Proc: keepalivePing, Type: TypeMessage}, nil)
		},
		func() {
			c.log.Warn("connection closed due to keepalive timeout", "interval", interval, "count", count)
			c.fail(ErrKeepaliveTimeout)
		})
}
