package rpc

import "testing"

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
