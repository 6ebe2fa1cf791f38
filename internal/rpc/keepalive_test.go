package rpc

import (
	"errors"
	"net"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

func isPing(h Header) bool {
	return h.Prog == KeepaliveProgram && h.Proc == keepalivePing && h.Type == TypeMessage && h.Serial == 0
}

// No PINGs until the client asks for feature 10; then PINGs on silence,
// and a client that answers stays connected.
func TestKeepalivePings(t *testing.T) {
	f := start(t, func(s *Server) { s.KeepaliveInterval, s.KeepaliveCount = 10*time.Millisecond, 2 })
	c := f.dial(t)
	c.call(60, 1, &libvirt.ConnectSupportsFeatureArgs{Feature: 14})
	if h, _ := c.recv(); h.Serial != 1 {
		t.Fatalf("got %v", h)
	}
	sc := f.onlyClient(t)
	if sc.kaStarted.Load() {
		t.Fatal("keepalive started without feature 10")
	}
	c.call(60, 2, &libvirt.ConnectSupportsFeatureArgs{Feature: 10})
	if h, _ := c.recv(); h.Serial != 2 {
		t.Fatalf("got %v", h)
	}
	for range 5 { // answering keeps the connection alive across many intervals
		h, _ := c.recv()
		if !isPing(h) {
			t.Fatalf("want PING, got %v", h)
		}
		c.sendRaw(unhex(t, goldenPong))
	}
	c.call(157, 3, nil)
	for {
		h, _ := c.recv()
		if h.Serial == 3 && h.Type == TypeReply {
			break
		}
	}
}

// A client that never answers gets count PINGs, then is closed.
func TestKeepaliveTimeout(t *testing.T) {
	f := start(t, func(s *Server) { s.KeepaliveInterval, s.KeepaliveCount = 5*time.Millisecond, 3 })
	c := f.dial(t)
	c.call(60, 1, &libvirt.ConnectSupportsFeatureArgs{Feature: 10})
	c.recv()
	pings := 0
	_ = c.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		h, _, err := readPacket(c.br)
		if err != nil {
			break
		}
		if !isPing(h) {
			t.Fatalf("unexpected %v", h)
		}
		pings++
	}
	if pings != 3 {
		t.Fatalf("%d PINGs before the close, want 3", pings)
	}
	waitFor(t, "client removal", func() bool { return f.srv.NumClients() == 0 })
}

// A negative interval (keepalive_interval = -1) never PINGs.
func TestKeepaliveDisabled(t *testing.T) {
	f := start(t, func(s *Server) { s.KeepaliveInterval = -1 })
	c := f.dial(t)
	c.call(60, 1, &libvirt.ConnectSupportsFeatureArgs{Feature: 10})
	c.recv()
	if f.onlyClient(t).kaStarted.Load() {
		t.Fatal("keepalive started with interval -1")
	}
}

// A Conn with keepalive on PINGs a silent server and, answered (our server
// answers PINGs with PONGs), stays open across many intervals.
func TestConnKeepaliveAnswered(t *testing.T) {
	f := start(t, nil)
	c := dialFixture(t, f, nil)
	c.StartKeepalive(5*time.Millisecond, 2)
	time.Sleep(100 * time.Millisecond)
	if _, err := c.Call(ctx, remoteProg, 1, 157, nil); err != nil {
		t.Fatalf("call after 20 intervals: %v", err)
	}
}

// A server that never answers gets count PINGs, then the connection ends
// with ErrKeepaliveTimeout, which a waiting call returns.
func TestConnKeepaliveTimeout(t *testing.T) {
	ours, theirs := net.Pipe()
	defer theirs.Close()
	c := NewConn(ours, nil, nil)
	defer c.Close()
	c.StartKeepalive(5*time.Millisecond, 3)
	failed := make(chan error, 1)
	go func() { // a call the server never answers
		_, err := c.Call(ctx, remoteProg, 1, 157, nil)
		failed <- err
	}()
	br := newReader(theirs)
	pings := 0
	for {
		h, _, err := readPacket(br)
		if err != nil {
			break
		}
		if isPing(h) {
			pings++
		}
	}
	if pings != 3 {
		t.Fatalf("%d PINGs before the close, want 3", pings)
	}
	if err := <-failed; !errors.Is(err, ErrKeepaliveTimeout) || !errors.Is(err, ErrConnClosed) {
		t.Fatalf("call failed with %v", err)
	}
}

// A count of 0 closes after one interval of silence, without a PING.
func TestConnKeepaliveCountZero(t *testing.T) {
	ours, theirs := net.Pipe()
	defer theirs.Close()
	c := NewConn(ours, nil, nil)
	c.StartKeepalive(5*time.Millisecond, 0)
	if _, _, err := readPacket(newReader(theirs)); err == nil {
		t.Fatal("got a packet, want the close")
	}
	<-c.Done()
}

// A connection streaming PINGs gets a burst of PONGs at once, then as
// many as pingRate allows (a lower bound on the time: the limit holds
// however fast the machine), while another connection's PING is answered
// at once meanwhile.
func TestPingFloodIsPaced(t *testing.T) {
	f := start(t, nil)
	flood := f.dial(t)
	const n = pingBurst + pingRate // the burst, then a second's worth
	var batch []byte
	for range n {
		batch = append(batch, unhex(t, goldenPing)...)
	}
	start := time.Now()
	go flood.sendRaw(batch)
	for i := range n {
		if h, _ := flood.recv(); h.Proc != keepalivePong {
			t.Fatalf("PONG %d: got %v", i, h)
		}
		if i == pingBurst {
			other := f.dial(t)
			asked := time.Now()
			other.sendRaw(unhex(t, goldenPing))
			if h, _ := other.recv(); h.Proc != keepalivePong {
				t.Fatalf("the other connection's PONG: %v", h)
			}
			t.Logf("the other connection's PONG in %v, amid the flood", time.Since(asked))
		}
	}
	// n-pingBurst PONGs past the burst take (n-pingBurst)/pingRate s,
	// less the one token that may refill while the burst is answered.
	if took, least := time.Since(start), time.Duration(n-pingBurst-1)*time.Second/pingRate; took < least {
		t.Errorf("%d PONGs in %v, under the %v the limit allows", n, took, least)
	}
}
