package daemon

import (
	"sync"
	"time"
)

// idleTimer implements -t: it fires once the daemon has been idle for the
// timeout, where idle means no client on any server (admin included) and
// no inhibition (running guests, driver start-up). Any activity stops it;
// it starts afresh when the last activity ends.
type idleTimer struct {
	mu          sync.Mutex
	timeout     time.Duration
	clients     map[string]int // per server
	inhibitions int
	timer       *time.Timer
	generation  int // which arming of the timer is current
	fired       chan struct{}
}

func newIdleTimer(timeout time.Duration) *idleTimer {
	t := &idleTimer{timeout: timeout, clients: map[string]int{}, fired: make(chan struct{}, 1)}
	t.update()
	return t
}

// setClients records how many clients server has now.
func (t *idleTimer) setClients(server string, n int) { t.change(func() { t.clients[server] = n }) }

// inhibit records an inhibition taken (+1) or released (-1).
func (t *idleTimer) inhibit(d int) { t.change(func() { t.inhibitions += d }) }

// setTimeout changes the timeout at run time (0 disables).
func (t *idleTimer) setTimeout(d time.Duration) { t.change(func() { t.timeout = d }) }

func (t *idleTimer) change(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
	t.update()
}

func (t *idleTimer) update() {
	total := 0
	for _, n := range t.clients {
		total += n
	}
	idle := total == 0 && t.inhibitions == 0 && t.timeout > 0
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.generation++
	if idle {
		gen := t.generation
		t.timer = time.AfterFunc(t.timeout, func() { t.fire(gen) })
	}
}

// fire ignores a timer that went off just as activity began.
func (t *idleTimer) fire(gen int) {
	t.mu.Lock()
	stale := gen != t.generation
	t.mu.Unlock()
	if stale {
		return
	}
	select {
	case t.fired <- struct{}{}:
	default:
	}
}

// C is signalled when the daemon has been idle for the whole timeout.
func (t *idleTimer) C() <-chan struct{} { return t.fired }
