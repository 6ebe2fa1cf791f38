package rpc

import (
	"bytes"
	"context"
	"net"
	"strings"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
)

// TestRefusalsArePaced: calls of an unknown program are answered at the
// server's pace of refusals, while another connection's call is answered
// amid them.
func TestRefusalsArePaced(t *testing.T) {
	f := start(t, nil)
	flood := f.dial(t)
	const n = refusalBurst + refusalRate/2 // the burst, then half a second's worth
	var batch []byte
	for i := range n {
		batch = append(batch, packet(t, Header{Prog: 0x0badf00d, Vers: 1, Proc: 1, Serial: uint32(i)}, nil)...)
	}
	start := time.Now()
	go flood.sendRaw(batch)
	for i := range n {
		if _, e := flood.recvErr(); !strings.Contains(str(e.Message), "Cannot find program") {
			t.Fatalf("refusal %d: %q", i, str(e.Message))
		}
		if i == refusalBurst {
			other := f.dial(t)
			asked := time.Now()
			other.call(157, 1, nil)
			if h, _ := other.recv(); h.Status != StatusOK {
				t.Fatalf("the other connection's call: %v", h)
			}
			t.Logf("the other connection's call answered in %v, amid the refusals", time.Since(asked))
		}
	}
	if took, least := time.Since(start), time.Duration(n-refusalBurst-1)*time.Second/refusalRate; took < least {
		t.Errorf("%d refusals in %v, under the %v the pace allows", n, took, least)
	}
}

// TestCheckRefusalsArePaced: calls the program's own check refuses on a
// worker (a call before CONNECT_OPEN, in the daemon) are paid for at the
// server's pace of refusals too, by the reader before its next call; only
// the calls already in flight when the last was refused go unpaid.
func TestCheckRefusalsArePaced(t *testing.T) {
	const testProg = remoteProg + 1
	f := start(t, func(s *Server) {
		prog := NewProgram(testProg, 1,
			Proc(1, "NOT_OPEN", "", NoAuth, func(context.Context, *Client, *Void) (*Void, error) { return nil, nil }))
		prog.Check = func(context.Context, *Client, *Procedure, any) error { return rpcError("connection not open") }
		s.Register(prog)
	})
	flood := f.dial(t)
	const n = refusalBurst + refusalRate/2 // the burst, then half a second's worth
	var batch []byte
	for i := range n {
		batch = append(batch, packet(t, Header{Prog: testProg, Vers: 1, Proc: 1, Serial: uint32(i)}, nil)...)
	}
	start := time.Now()
	go flood.sendRaw(batch)
	for i := range n {
		if _, e := flood.recvErr(); str(e.Message) != "connection not open" {
			t.Fatalf("refusal %d: %q", i, str(e.Message))
		}
	}
	unpaid := refusalBurst + DefaultMaxClientRequests + 1
	if took, least := time.Since(start), time.Duration(n-unpaid)*time.Second/refusalRate; took < least {
		t.Errorf("%d refusals in %v, under the %v the pace allows", n, took, least)
	}
}

// TestLargePacketsArePaced: packets over bulkPayload are received at the
// server's bulk pace, whether read or read past.
func TestLargePacketsArePaced(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	const size = 4 << 20
	const n = (bulkBurst + bulkRate/2) / size // the burst, then half a second's worth
	pkt := packet(t, Header{Prog: 0x0badf00d, Vers: 1, Proc: 1}, nil)
	pkt = append(pkt, make([]byte, size)...)
	copy(pkt, []byte{byte(len(pkt) >> 24), byte(len(pkt) >> 16), byte(len(pkt) >> 8), byte(len(pkt))})
	start := time.Now()
	go func() {
		for range n {
			c.sendRaw(pkt)
		}
	}()
	for range n {
		c.recvErr()
	}
	if took, least := time.Since(start), time.Duration(n*size-bulkBurst-size)*time.Second/bulkRate; took < least {
		t.Errorf("%d packets of %d bytes in %v, under the %v the pace allows", n, size, took, least)
	}
}

// TestLargeCallBuffersAreReused: the buffer of a large call is read into
// again once its arguments are decoded, and what a handler kept of them
// is its own copy; a Raw procedure's payload, handed on as it came, is
// never reused.
func TestLargeCallBuffersAreReused(t *testing.T) {
	kept := make(chan string, 3)
	raw := make(chan RawBody, 2)
	const testProg = remoteProg + 1
	f := start(t, func(s *Server) {
		rawProc := Proc(2, "RAW", "", NoAuth, func(context.Context, *Client, *Void) (*Void, error) { return nil, nil })
		rawProc.Raw, rawProc.NewArgs = true, nil
		rawProc.Handler = func(_ context.Context, _ *Client, args any) (any, error) {
			raw <- args.(RawBody)
			return nil, nil
		}
		s.Register(NewProgram(testProg, 1,
			Proc(1, "KEEP", "", NoAuth, func(_ context.Context, _ *Client, a *libvirt.DomainLookupByNameArgs) (*Void, error) {
				kept <- a.Name
				return nil, nil
			}),
			rawProc))
	})
	c := f.dial(t)
	big := func(proc uint32, fill byte) {
		body := &libvirt.DomainLookupByNameArgs{Name: strings.Repeat(string(fill), 2<<20)}
		c.sendRaw(packet(t, Header{Prog: testProg, Vers: 1, Proc: proc}, body))
		if h, _ := c.recv(); h.Status != StatusOK {
			t.Fatalf("call %d: %v", proc, h)
		}
	}
	big(1, 'a')
	big(1, 'b')
	big(2, 'c')
	big(1, 'd')
	for _, want := range []byte{'a', 'b', 'd'} {
		if got := <-kept; strings.Trim(got, string(want)) != "" {
			t.Errorf("a handler's copy of %q changed after the buffer was reused", want)
		}
	}
	if got := <-raw; !bytes.Contains(got, []byte("cccc")) || bytes.Contains(got, []byte("dddd")) {
		t.Error("a Raw procedure's payload was read into again")
	}
	b := newRecvBudget(DefaultMaxReceiving, time.Second)
	buf := b.buffer(bulkPayload + 1)
	b.recycle(buf)
	if again := b.buffer(bulkPayload + 1); &again[0] != &buf[0] {
		t.Error("a recycled buffer was not reused")
	}
	if small := b.buffer(1024); cap(small) > bulkPayload {
		t.Error("a small packet got a large buffer")
	}
}

// TestAcceptsArePaced: a listener accepts at its pace after the burst;
// the connections past it wait in the backlog and are served in turn.
func TestAcceptsArePaced(t *testing.T) {
	f := start(t, nil)
	const n = acceptBurst + acceptRate/4 // the burst, then a quarter second's worth
	conns := make([]net.Conn, 0, n)
	t.Cleanup(func() {
		for _, c := range conns {
			c.Close()
		}
	})
	start := time.Now()
	for range n {
		c, err := net.Dial("unix", f.path)
		if err != nil {
			t.Fatal(err)
		}
		conns = append(conns, c)
	}
	waitFor(t, "every connection accepted", func() bool { return f.srv.NumClients() == n })
	if took, least := time.Since(start), time.Duration(n-acceptBurst-1)*time.Second/acceptRate; took < least {
		t.Errorf("%d connections accepted in %v, under the %v the pace allows", n, took, least)
	}
}

// TestCutLargePacketBufferIsKept: the buffer of a large packet whose
// client went away half-way is the next large packet's.
func TestCutLargePacketBufferIsKept(t *testing.T) {
	f := start(t, nil)
	f.srv.budget.mu.Lock()
	f.srv.budget.quiet = time.Hour // the spares stay while the test looks
	f.srv.budget.mu.Unlock()
	cut := f.dial(t)
	pkt := packet(t, Header{Prog: remoteProg, Vers: 1, Proc: 23}, &libvirt.DomainLookupByNameArgs{Name: strings.Repeat("e", 2<<20)})
	cut.sendRaw(pkt[:len(pkt)/2])
	cut.conn.Close()
	waitFor(t, "the cut packet's buffer kept", func() bool { return spareBytes(f.srv.budget) >= len(pkt)-28 })
}

// TestSpareBuffersGo: the spares of a few large calls, under a burst's
// worth, go a second after the last, as a burst's garbage does.
func TestSpareBuffersGo(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.sendRaw(packet(t, Header{Prog: remoteProg, Vers: 1, Proc: 23}, &libvirt.DomainLookupByNameArgs{Name: strings.Repeat("f", 2<<20)}))
	c.recvErr()
	waitFor(t, "the spare buffer gone", func() bool { return spareBytes(f.srv.budget) == 0 })
}

func spareBytes(b *recvBudget) int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.spareBytes
}

// TestClosedConnectionsHandBack: a burst of connections closed (what
// their buffers and stacks leave) has the heap handed back, as a burst of
// large packets does, once no connection has closed for a while.
func TestClosedConnectionsHandBack(t *testing.T) {
	f := start(t, nil)
	for range burstBytes/closedConnBytes + 1 {
		c := f.dial(t)
		c.call(157, 1, nil)
		c.recv()
		c.conn.Close()
	}
	waitFor(t, "the heap handed back", func() bool {
		f.srv.budget.mu.Lock()
		defer f.srv.budget.mu.Unlock()
		return !f.srv.budget.lastFree.IsZero() && f.srv.budget.burst == 0
	})
}
