package rpc

import (
	"runtime/debug"
	"slices"
	"sync"
	"sync/atomic"
	"time"
)

// DefaultMaxReceiving is the default of Server.MaxReceiving: two packets
// of libvirt's largest size being received at once.
const DefaultMaxReceiving = 2 * MessageMax

// defaultReceiveStall is how long a packet may go without receiving a
// byte, while holding receive budget another packet waits for, before its
// client is dropped.
const defaultReceiveStall = 10 * time.Second

// recvBudget bounds the memory of the packets being received, server-wide.
// A packet longer than firstChunk reserves its whole length before its
// buffer grows, and gives it back once read: a packet is either read or
// waits, and never holds part of what it needs while waiting for the rest,
// so two packets cannot each wait for the other's bytes. Clients that
// claim 32 MiB, send part of it and stop then hold at most the budget, not
// 32 MiB each (with libvirt, as here before, a thousand of them held
// 32 GiB); a client whose packet waits for the budget is simply not read.
// When a packet waits, the holder whose packet has received nothing for
// the longest, if that is longer than the stall limit, is dropped: a
// hostile client cannot keep the budget from the others for good.
type recvBudget struct {
	limit int
	stall time.Duration

	mu      sync.Mutex
	cond    *sync.Cond
	used    int
	holders map[*reservation]struct{}
	// burst is the bytes reserved since the heap was last handed back to
	// the system (see release); freeing is set while that is scheduled.
	burst       int
	freeing     bool
	lastFree    time.Time
	lastRelease time.Time
	// spare are the buffers of large calls already decoded (recycle),
	// at most limit bytes of them, for the next large packets.
	spare      [][]byte
	spareBytes int
	// quiet is freeDelay (tests lengthen it).
	quiet time.Duration
}

// reservation is one packet's share of the budget.
type reservation struct {
	c       *Client
	n       int
	last    atomic.Int64 // unix nanoseconds of the last bytes received
	dropped bool         // its client is being closed; b.mu guards it
}

func (r *reservation) touch() { r.last.Store(time.Now().UnixNano()) }

func newRecvBudget(limit int, stall time.Duration) *recvBudget {
	b := &recvBudget{limit: max(limit, MessageMax), stall: stall, holders: map[*reservation]struct{}{}, quiet: freeDelay}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// reserve waits until n bytes are free and takes them for c's packet;
// false if c closed meanwhile.
func (b *recvBudget) reserve(c *Client, n int) (*reservation, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for b.used+n > b.limit {
		if c.isClosed() {
			return nil, false
		}
		b.dropStalled()
		wake := time.AfterFunc(b.stall/4, b.wake)
		b.cond.Wait()
		wake.Stop()
	}
	r := &reservation{c: c, n: n}
	r.touch()
	b.used += n
	b.burst += n
	b.holders[r] = struct{}{}
	return r, true
}

func (b *recvBudget) release(r *reservation) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.used -= r.n
	delete(b.holders, r)
	b.cond.Broadcast()
	b.lastRelease = time.Now()
	// A large packet's buffer becomes a spare (recycle): those go too.
	b.scheduleFree(r.n > bulkPayload)
}

// closed counts what a closed connection left for the collector into the
// burst after which the heap is handed back: a storm of connections left
// 10 MB resident, of read buffers and stacks, long after it.
func (b *recvBudget) closed() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.burst += closedConnBytes
	b.lastRelease = time.Now()
	b.scheduleFree(false)
}

// scheduleFree schedules freeAfterBurst once a burst's worth was received
// (or one packet over bulkPayload, large) and nothing is being received.
func (b *recvBudget) scheduleFree(large bool) {
	if b.used == 0 && (b.burst >= burstBytes || large) && !b.freeing {
		b.freeing = true
		time.AfterFunc(max(b.quiet, time.Until(b.lastFree.Add(freeEvery))), b.freeAfterBurst)
	}
}

// After a burst of large packets (burstBytes reserved, or one packet over
// bulkPayload, whose buffer is kept as a spare) or of connections closed
// (closedConnBytes each), once none is being received or closed for
// freeDelay, the spares are dropped, the garbage they left is
// collected and the heap's free pages handed back to the system at once,
// at most once per freeEvery. Left to itself the runtime keeps them until its next
// collection, which an idle daemon makes only every two minutes: a flood
// of 32 MiB packets left 90 MB resident for as long, against 16 MB before
// it. A forced collection of the daemon's heap costs a few milliseconds;
// a memory limit (debug.SetMemoryLimit) would also return them, but any
// limit low enough to matter here is one a host with ten thousand domains
// exceeds, and then the collector runs without pause.
const (
	burstBytes = MessageMax / 4
	freeDelay  = time.Second
	freeEvery  = 5 * time.Second
	// closedConnBytes is about what a closed connection leaves: its read
	// buffer (readBufSize) and its reader's and writer's stacks.
	closedConnBytes = readBufSize + 2*8<<10
)

func (b *recvBudget) freeAfterBurst() {
	b.mu.Lock()
	// Quiet for freeDelay since the last packet (which its call has
	// finished with by then) or close: else look again when it will have been.
	if wait := time.Until(b.lastRelease.Add(b.quiet)); wait > 0 || b.used > 0 {
		time.AfterFunc(max(wait, b.quiet/4), b.freeAfterBurst)
		b.mu.Unlock()
		return
	}
	b.burst, b.lastFree, b.freeing = 0, time.Now(), false
	b.spare, b.spareBytes = nil, 0
	b.mu.Unlock()
	debug.FreeOSMemory()
}

// buffer is a buffer of n bytes for a packet's payload: a spare one if
// one is large enough, else a new one. Its bytes are not zeroed: the
// packet fills it. A payload over bulkPayload made new each time had the
// collector run for each, and zero it, which is what made a flood of 32
// MiB calls delay the other clients.
func (b *recvBudget) buffer(n int) []byte {
	if n > bulkPayload {
		b.mu.Lock()
		defer b.mu.Unlock()
		for i, buf := range b.spare {
			if cap(buf) >= n {
				b.spare = slices.Delete(b.spare, i, i+1)
				b.spareBytes -= cap(buf)
				return buf[:n]
			}
		}
	}
	return make([]byte, n)
}

// recycle takes back the buffer of a large call whose arguments are
// decoded (a copy of every byte they keep): the next large packet is read
// into it. The spares are dropped after a burst (freeAfterBurst).
func (b *recvBudget) recycle(buf []byte) {
	if cap(buf) <= bulkPayload {
		return
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.spareBytes+cap(buf) <= b.limit {
		b.spare = append(b.spare, buf[:0])
		b.spareBytes += cap(buf)
	}
}

// wake makes waiting packets look again (a client closed, time passed).
func (b *recvBudget) wake() {
	b.mu.Lock()
	b.cond.Broadcast()
	b.mu.Unlock()
}

// dropStalled closes the client of the holder that has received nothing
// for the longest, if for longer than the stall limit; b.mu is held. Its
// read then fails and gives the reservation back.
func (b *recvBudget) dropStalled() {
	var worst *reservation
	for r := range b.holders {
		if !r.dropped && (worst == nil || r.last.Load() < worst.last.Load()) {
			worst = r
		}
	}
	if worst == nil {
		return
	}
	if idle := time.Since(time.Unix(0, worst.last.Load())); idle > b.stall {
		worst.dropped = true
		worst.c.log.Warn("dropping client: its packet stalled while others wait to be received",
			"received_nothing_for", idle.Round(time.Millisecond), "reserved", worst.n)
		go worst.c.Close()
	}
}

// receiving reports the bytes reserved and the packets holding them.
func (b *recvBudget) receiving() (bytes, packets int) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.used, len(b.holders)
}
