package rpc

import (
	"encoding/binary"
	"runtime"
	"testing"
	"time"
)

// bigCall is a call packet whose payload is n zero bytes.
func bigCall(prog, proc, serial uint32, status Status, n int) []byte {
	buf := startPacket(make([]byte, 0, lenSize+HeaderSize+n), Header{Prog: prog, Vers: 1, Proc: proc, Serial: serial, Status: status})
	buf = append(buf, make([]byte, n)...)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)))
	return buf
}

// A payload that no procedure will read (unknown program or procedure, a
// call with a status) is read past, not buffered: 8 MiB of it allocate
// next to nothing, the error comes as before and the connection goes on.
func TestUnusedPayloadIsReadPast(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	for _, tc := range []struct {
		name string
		pkt  []byte
		msg  string
	}{
		{"unknown program", bigCall(0x0badf00d, 1, 1, StatusOK, 8<<20), "Cannot find program 195948557 version 1"},
		{"unknown procedure", bigCall(remoteProg, 4242, 2, StatusOK, 8<<20), "unknown procedure: 4242"},
		{"status set", bigCall(remoteProg, 157, 3, StatusError, 8<<20), "Unexpected message status 1"},
	} {
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		c.sendRaw(tc.pkt)
		_, e := c.recvErr()
		runtime.ReadMemStats(&after)
		if e.Message == nil || *e.Message != tc.msg {
			t.Errorf("%s: error %v", tc.name, e.Message)
		}
		if got := after.TotalAlloc - before.TotalAlloc; got > 2<<20 {
			t.Errorf("%s: reading past 8 MiB allocated %d bytes", tc.name, got)
		}
	}
	c.call(157, 4, nil)
	if h, _ := c.recv(); h.Serial != 4 || h.Status != StatusOK {
		t.Fatalf("after the unused payloads: %v", h)
	}
}

// claim sends the start of a packet claiming libvirt's largest size.
func (r *rawConn) claim(sent int) {
	r.t.Helper()
	pkt := bigCall(remoteProg, 23, 1, StatusOK, sent)
	binary.BigEndian.PutUint32(pkt, MessageMax+lenSize)
	r.sendRaw(pkt)
}

// The receive budget: packets being received hold at most MaxReceiving
// between them; one more waits, without being read, while small calls go
// on; once the holder has received nothing for the stall limit it is
// dropped and the waiting packet is received.
func TestReceiveBudget(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxReceiving, s.recvStall = MessageMax, 300*time.Millisecond })
	claimed := MessageMax + lenSize - lenSize - HeaderSize
	a := f.dial(t)
	a.claim(1000)
	waitFor(t, "a's reservation", func() bool { n, k := f.srv.budget.receiving(); return n == claimed && k == 1 })
	b := f.dial(t)
	b.claim(1000)
	small := f.dial(t)
	small.call(157, 1, nil)
	if h, _ := small.recv(); h.Status != StatusOK {
		t.Fatalf("small call while the budget is held: %v", h)
	}
	if n, k := f.srv.budget.receiving(); n != claimed || k != 1 {
		t.Fatalf("budget %d bytes in %d packets while b waits, want a's alone", n, k)
	}
	a.expectClosed() // stalled past the limit while b waited
	waitFor(t, "b's reservation", func() bool { n, k := f.srv.budget.receiving(); return n == claimed && k == 1 })
	b.conn.Close()
	waitFor(t, "the budget given back", func() bool { n, k := f.srv.budget.receiving(); return n == 0 && k == 0 })
}

// A holder that goes on receiving is never dropped, however long it takes.
func TestReceiveBudgetKeepsProgressingHolder(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxReceiving, s.recvStall = MessageMax, time.Second })
	a := f.dial(t)
	a.claim(1000)
	waitFor(t, "a's reservation", func() bool { _, k := f.srv.budget.receiving(); return k == 1 })
	b := f.dial(t)
	b.claim(1000)
	for range 50 { // 2.5 s, two and a half stall limits, with bytes every 50 ms
		time.Sleep(50 * time.Millisecond)
		a.sendRaw(make([]byte, 100))
	}
	a.call(157, 9, nil) // not yet read: a's packet is unfinished
	if n, k := f.srv.budget.receiving(); k != 1 || n == 0 {
		t.Fatalf("budget %d in %d packets", n, k)
	}
	a.conn.Close()
	waitFor(t, "b's reservation", func() bool { _, k := f.srv.budget.receiving(); return k == 1 })
}

// A client that sends PINGs and never reads the PONGs stops being read
// once max_client_requests PONGs wait to be written: the server's queue
// for it stays that short, however many PINGs it sends.
func TestUnreadPongsHoldRequestSlots(t *testing.T) {
	f := start(t, func(s *Server) { s.MaxClientRequests = 3 })
	c := f.dial(t)
	ping := keepalivePacket(keepalivePing)
	go func() {
		batch := make([]byte, 0, 1000*len(ping))
		for range 1000 {
			batch = append(batch, ping...)
		}
		for range 200 { // 200,000 PINGs, 5.6 MB: far beyond the socket buffers
			if _, err := c.conn.Write(batch); err != nil {
				return
			}
		}
	}()
	sc := f.onlyClient(t)
	waitFor(t, "the reader to stop", sc.readerBlocked)
	sc.mu.Lock()
	queued, inflight := len(sc.out), sc.inflight
	sc.mu.Unlock()
	if queued > 3 || inflight > 3 {
		t.Fatalf("%d PONGs queued, %d in flight, with max_client_requests 3", queued, inflight)
	}
}

// The worker pool forgets a job once a worker takes it: the slot it
// leaves in the queue's array held the job, and with it its call's
// payload, until another call came to overwrite it.
func TestWorkerQueueForgetsTakenJobs(t *testing.T) {
	p := newPool(0, 1, 0)
	defer p.stop()
	p.mu.Lock()
	p.jobs = append(p.jobs, job{run: func() {}}, job{run: func() {}})
	p.mu.Unlock()
	for range 2 {
		if _, ok := p.next(false); !ok {
			t.Fatal("no job")
		}
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for i, j := range p.jobs[:cap(p.jobs)] {
		if j.run != nil {
			t.Fatalf("slot %d of the queue's array still holds a taken job", i)
		}
	}
}
