package rpc

import (
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
