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
)

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

func newEventPump() *eventPump {
	return &eventPump{out: make(chan DomainEvent), more: make(chan struct{}, 1), stop: make(chan struct{})}
}

func (c *Context) startEvents() error {
	r, w, err := os.Pipe()
	if err != nil {
		return err
	}
	p := newEventPump()
	p.wakeR, p.wakeW = r, w
	p.handle = cgo.NewHandle(p)
	c.pump = p
	c.watches = map[uint32]*C.libxl_evgen_domain_death{}
	p.wg.Add(2)
	go c.pollLoop()
	go p.deliver()
	return nil
}

func (c *Context) pollLoop() {
	p := c.pump
	defer p.wg.Done()
	fd := C.int(p.wakeR.Fd())
	for {
		rc := C.vx_poll_once(c.ctx, fd, C.uintptr_t(p.handle))
		if rc < 0 {
			p.mu.Lock()
			p.failed = c.fail("libxl event loop", rc)
			p.mu.Unlock()
			return
		}
		if rc == 1 {
			return // woken by Close
		}
	}
}

// deliver hands queued events to the reader in order.
func (p *eventPump) deliver() {
	defer p.wg.Done()
	defer close(p.out)
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
// until Close.
func (c *Context) Events() <-chan DomainEvent { return c.pump.out }

// Watch asks for a domain's shutdown and death events.
func (c *Context) Watch(domid uint32) error {
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
	c.watchMu.Lock()
	defer c.watchMu.Unlock()
	if gen, ok := c.watches[domid]; ok {
		C.libxl_evdisable_domain_death(c.ctx, gen)
		delete(c.watches, domid)
	}
}

// stopEvents ends the loop and the delivery, and drops every watch.
func (c *Context) stopEvents() {
	p := c.pump
	p.wakeW.Write([]byte{0})
	close(p.stop)
	p.wg.Wait()
	c.watchMu.Lock()
	for id, gen := range c.watches {
		C.libxl_evdisable_domain_death(c.ctx, gen)
		delete(c.watches, id)
	}
	c.watchMu.Unlock()
	p.handle.Delete()
	p.wakeR.Close()
	p.wakeW.Close()
}
