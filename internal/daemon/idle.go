package daemon

import (
	"sync"
	"time"
)

// idleTimer implements -t: it fires once the daemon has been idle for the
// timeout, where idle means every activity count is zero: the clients of
// each server (admin included) and the running guests, as libvirt's
// shutdown inhibitions. It starts afresh when the last activity ends.
type idleTimer struct {
	mu         sync.Mutex
	timeout    time.Duration
	activity   map[string]int // e.g. "clients/virtxend", "clients/admin", "guests"
	timer      *time.Timer
	generation int // which arming of the timer is current
	fired      chan struct{}
}

func newIdleTimer(timeout time.Duration) *idleTimer {
	t := &idleTimer{timeout: timeout, activity: map[string]int{}, fired: make(chan struct{}, 1)}
	t.update()
	return t
}

// set records the current count of one kind of activity.
func (t *idleTimer) set(kind string, n int) { t.change(func() { t.activity[kind] = n }) }

// setTimeout changes the timeout at run time (0 disables).
func (t *idleTimer) setTimeout(d time.Duration) { t.change(func() { t.timeout = d }) }

func (t *idleTimer) change(f func()) {
	t.mu.Lock()
	defer t.mu.Unlock()
	f()
	t.update()
}

func (t *idleTimer) update() {
	busy := false
	for _, n := range t.activity {
		busy = busy || n > 0
	}
	if t.timer != nil {
		t.timer.Stop()
		t.timer = nil
	}
	t.generation++
	if !busy && t.timeout > 0 {
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

// Timeout is the timeout in force (-t, or as virt-admin last set it).
func (t *idleTimer) Timeout() time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.timeout
}

// C is signalled when the daemon has been idle for the whole timeout.
func (t *idleTimer) C() <-chan struct{} { return t.fired }
