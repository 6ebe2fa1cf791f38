//go:build libxl

package libxl

/*
#include <libxl.h>
#include "xl_logger.h"
*/
import "C"

import (
	"os"
	"runtime/cgo"
	"sync"
	"time"
)

// disasterPace is how often the event loop goes round once libxl has
// reported a disaster, until the context is renewed.
const disasterPace = 100 * time.Millisecond

// libxl_event_type values this package passes on.
const (
	eventShutdown = 1 // LIBXL_EVENT_TYPE_DOMAIN_SHUTDOWN
	eventDeath    = 2 // LIBXL_EVENT_TYPE_DOMAIN_DEATH
)

// DomainEvent is a watched domain shutting down (Death false, Reason is
// libxl_shutdown_reason) or vanishing (Death true).
type DomainEvent struct {
	DomID  uint32
	Death  bool
	Reason int
}

// eventPump runs libxl's poll loop in its own goroutine and queues the
// events, so that a slow reader never holds libxl up.
type eventPump struct {
	handle cgo.Handle
	wakeR  *os.File
	wakeW  *os.File
	out    chan DomainEvent
	mu     sync.Mutex
	queue  []DomainEvent
	more   chan struct{} // a token when queue grew
	stop   chan struct{}
	wg     sync.WaitGroup
	failed error // the loop's error, if it stopped on one
}

//export goLibxlEvent
func goLibxlEvent(h C.uintptr_t, typ C.int, domid C.uint32_t, reason C.int) {
	p := cgo.Handle(h).Value().(*eventPump)
	var ev DomainEvent
	switch typ {
	case eventShutdown:
		ev = DomainEvent{DomID: uint32(domid), Reason: int(reason)}
	case eventDeath:
		ev = DomainEvent{DomID: uint32(domid), Death: true}
	default:
		return
	}
	p.push(ev)
}

// push queues an event; it never blocks.
func (p *eventPump) push(ev DomainEvent) {
	p.mu.Lock()
	p.queue = append(p.queue, ev)
	p.mu.Unlock()
	select {
	case p.more <- struct{}{}:
	default:
	}
}

func newEventPump(out chan DomainEvent) *eventPump {
	return &eventPump{out: out, more: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (c *Context) startEvents() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	p := newEventPump(c.events)
	p.wakeR, p.wakeW = r, w
	p.handle = cgo.NewHandle(p)
	c.pump = p
	p.wg.Add(2)
	go c.pollLoop(p, c.ctx)
	go p.deliver()
	return nil
}

// pollLoop runs libxl's event loop on the context it started with: a
// renewal stops it (stopEvents) before it frees that context. After a
// disaster it goes on, slowly: xenstore's fd stays readable at its end,
// and asynchronous calls in flight still need the loop for their
// timeouts, without which they would hold the context, and the renewal,
// forever.
func (c *Context) pollLoop(p *eventPump, ctx *C.libxl_ctx) {
	defer p.wg.Done()
	fd := C.int(p.wakeR.Fd())
	for {
		rc := C.vx_poll_once(ctx, fd, C.uintptr_t(p.handle))
		if rc < 0 {
			p.mu.Lock()
			p.failed = c.fail("libxl event loop", rc)
			p.mu.Unlock()
			return
		}
		if rc == 1 {
			return // woken by stopEvents
		}
		if c.disaster.Load() {
			select {
			case <-p.stop:
				return
			case <-time.After(disasterPace):
			}
		}
	}
}

// deliver hands queued events to the reader in order.
func (p *eventPump) deliver() {
	defer p.wg.Done()
	for {
		p.mu.Lock()
		var ev DomainEvent
		have := len(p.queue) > 0
		if have {
			ev = p.queue[0]
			p.queue = p.queue[1:]
		}
		p.mu.Unlock()
		if !have {
			select {
			case <-p.more:
				continue
			case <-p.stop:
				return
			}
		}
		select {
		case p.out <- ev:
		case <-p.stop:
			return
		}
	}
}

// Events delivers the shutdown and death events of watched domains,
// until Close, across renewals of the context.
func (c *Context) Events() <-chan DomainEvent { return c.events }

// Watch asks for a domain's shutdown and death events.
func (c *Context) Watch(domid uint32) error {
	defer c.hold()()
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if _, ok := c.watches[domid]; ok {
		return nil
	}
	var gen *C.libxl_evgen_domain_death
	if rc := C.libxl_evenable_domain_death(c.ctx, C.uint32_t(domid), C.libxl_ev_user(domid), &gen); rc != 0 {
		return c.fail("libxl_evenable_domain_death", rc)
	}
	c.watches[domid] = gen
	return nil
}

// Unwatch stops a domain's events (after its death, or before destroying
// it so that no death event follows).
func (c *Context) Unwatch(domid uint32) {
	defer c.hold()()
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if gen, ok := c.watches[domid]; ok {
		C.libxl_evdisable_domain_death(c.ctx, gen)
		delete(c.watches, domid)
	}
}

// stopEvents ends the loop and the delivery, and drops every watch; it
// returns the domains that were watched. Events still queued are lost: a
// renewal watches the domains again, and libxl reports the death of one
// that died meanwhile at once.
func (c *Context) stopEvents() []uint32 {
	p := c.pump
	if p == nil {
		return c.dropWatches() // a renewal could not start them
	}
	p.wakeW.Write([]byte{0})
	close(p.stop)
	p.wg.Wait()
	ids := c.dropWatches()
	p.handle.Delete()
	p.wakeR.Close()
	p.wakeW.Close()
	c.pump = nil
	return ids
}

// dropWatches disables every death watch, returning the domains watched.
func (c *Context) dropWatches() []uint32 {
	c.watchMu.Lock()
	ids := make([]uint32, 0, len(c.watches))
	for id, gen := range c.watches {
		C.libxl_evdisable_domain_death(c.ctx, gen)
		delete(c.watches, id)
		ids = append(ids, id)
	}
	c.watchMu.Unlock()
	return ids
}
