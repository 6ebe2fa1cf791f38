//go:build libxl

package libxl

import "testing"

// TestEventPumpOrderAndNoBlocking: events queue while nobody reads, come
// out in order, and stopping leaves the channel open, for the pump of a
// renewed context.
func TestEventPumpOrderAndNoBlocking(t *testing.T) {
	p := newEventPump(make(chan DomainEvent))
	p.wg.Add(1)
	go p.deliver()
	const n = 1000
	for i := 0; i < n; i++ {
		p.push(DomainEvent{DomID: uint32(i), Death: i%2 == 1})
	}
	for i := 0; i < n; i++ {
		ev := <-p.out
		if ev.DomID != uint32(i) || ev.Death != (i%2 == 1) {
			t.Fatalf("event %d: %+v", i, ev)
		}
	}
	close(p.stop)
	p.wg.Wait()
	select {
	case ev, ok := <-p.out:
		t.Errorf("after stop: %+v, %v", ev, ok)
	default:
	}
}
