package daemon

import (
	"testing"
	"time"
)

// armed reports whether the idle timer is counting down.
func (t *idleTimer) armed() bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	return t.timer != nil
}

func TestIdleTimerArmsOnlyWhenIdle(t *testing.T) {
	it := newIdleTimer(time.Hour)
	if !it.armed() {
		t.Fatal("not armed with no activity")
	}
	it.set("clients/virtxend", 1)
	it.set("guests", 2)
	if it.armed() {
		t.Fatal("armed with a client and guests")
	}
	it.set("clients/virtxend", 0)
	if it.armed() {
		t.Fatal("armed while guests run")
	}
	it.set("guests", 0)
	if !it.armed() {
		t.Fatal("not re-armed once the last activity ended")
	}
	it.setTimeout(0)
	if it.armed() || it.Timeout() != 0 {
		t.Fatal("timeout 0 must disable the timer")
	}
	disabled := newIdleTimer(0)
	if disabled.armed() {
		t.Fatal("armed without -t")
	}
}

func TestIdleTimerFires(t *testing.T) {
	it := newIdleTimer(time.Millisecond)
	<-it.C() // no bound needed: the test's own timeout catches a timer that never fires
}

func TestIdleTimerIgnoresAStaleFiring(t *testing.T) {
	it := newIdleTimer(time.Hour)
	it.mu.Lock()
	stale := it.generation
	it.mu.Unlock()
	it.set("clients/admin", 1) // a client arrived: that arming is over
	it.fire(stale)
	select {
	case <-it.C():
		t.Fatal("a timer from before the client arrived stopped the daemon")
	default:
	}
	it.set("clients/admin", 0) // it left: a new arming
	it.mu.Lock()
	current := it.generation
	it.mu.Unlock()
	it.fire(current)
	select {
	case <-it.C():
	default:
		t.Fatal("the current arming did not fire")
	}
}
