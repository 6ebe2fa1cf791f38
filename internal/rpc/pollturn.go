package rpc

import (
	"os"
	"sync"
)

// pollTurn lets a goroutine that has work it could go on with forever
// wait for the runtime's next poll of the network first.
//
// Go's scheduler polls the network only when it has nothing else to run
// (or every 10 ms from its monitor). A goroutine whose input never runs
// dry never blocks: an accept loop under a storm of connections, or the
// reader of a client that streams PINGs or calls of unknown programs. While
// one runs, the connections already served are read at most every 10 ms:
// under 13,000 connections a second the lookups of a well-behaved client
// waited seconds. Such a goroutine waits here after each accept, or each
// yieldEvery packets, and goes on at the next poll, with every other
// connection that has input by then: a turn each, as libvirt's event loop
// handles one accept and one message per socket an iteration. When the
// daemon is idle the next poll is at once.
//
// The waiters of one turn share one byte on a pipe, read by a goroutine
// parked in the poller: the runtime wakes it only from a poll.
type pollTurn struct {
	w *os.File

	mu      sync.Mutex
	waiting chan struct{} // closed at the next poll; nil while no one waits
	ended   bool
}

// newPollTurn starts the parked goroutine; nil if the pipe cannot be made
// (then no one waits).
func newPollTurn() *pollTurn {
	r, w, err := os.Pipe()
	if err != nil {
		return nil
	}
	t := &pollTurn{w: w}
	go t.pass(r)
	return t
}

// pass reads the turns' bytes, parked in the poller between them, and
// lets each turn's waiters go; it ends when the write end is closed.
func (t *pollTurn) pass(r *os.File) {
	defer r.Close()
	var b [1]byte
	for {
		_, err := r.Read(b[:])
		t.mu.Lock()
		if ch := t.waiting; ch != nil {
			close(ch)
			t.waiting = nil
		}
		t.ended = err != nil
		t.mu.Unlock()
		if err != nil {
			return
		}
	}
}

// wait returns after the runtime's next network poll.
func (t *pollTurn) wait() {
	if t == nil {
		return
	}
	t.mu.Lock()
	if t.ended {
		t.mu.Unlock()
		return
	}
	ch := t.waiting
	if ch == nil {
		if _, err := t.w.Write([]byte{0}); err != nil {
			t.mu.Unlock()
			return
		}
		ch = make(chan struct{})
		t.waiting = ch
	}
	t.mu.Unlock()
	<-ch
}

// close ends the parked goroutine, letting any waiter go.
func (t *pollTurn) close() {
	if t != nil {
		t.w.Close()
	}
}
