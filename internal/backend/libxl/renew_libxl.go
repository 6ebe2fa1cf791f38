//go:build libxl

package libxl

/*
#include <libxl.h>
*/
import "C"

import (
	"runtime/cgo"
	"time"
)

// renewRetry is how often the renewer tries again while xenstored is not
// back.
const renewRetry = time.Second

//export goLibxlDisaster
func goLibxlDisaster(h C.uintptr_t, typ C.int, msg *C.char, errnoval C.int) {
	c := cgo.Handle(h).Value().(*Context)
	// libxl logged it already (XTL_CRITICAL); only the first one counts
	if !c.disaster.Swap(true) {
		c.log.Warn("libxl's event loop broke: the context will be renewed", "msg", C.GoString(msg), "errno", int(errnoval))
	}
	c.markStale()
}

// markStale tells the renewer that the libxl_ctx's xenstore connection
// died; it never blocks, and tokens sent before the renewer takes one
// make one renewal.
func (c *Context) markStale() {
	select {
	case c.stale <- struct{}{}:
	default:
	}
}

// Renewals is how many times the libxl context was renewed since Open.
func (c *Context) Renewals() int64 { return c.renewals.Load() }

// renewLoop renews the context once for each death of its xenstore
// connection, trying every renewRetry until xenstored is back.
func (c *Context) renewLoop() {
	defer c.wg.Done()
	for {
		select {
		case <-c.stale:
		case <-c.done:
			return
		}
		c.log.Warn("xenstored went away: libxl calls fail until it is back and the libxl context renewed")
		for !c.tryRenew() {
			select {
			case <-time.After(renewRetry):
			case <-c.done:
				return
			}
		}
	}
}

// tryRenew replaces the libxl_ctx by a new one, connected to the
// xenstored running now, and watches the same domains on it. The new one
// is made before the old is let go, so that while xenstored is away calls
// fail on the old one (libvirt's error for the client) rather than wait;
// the swap waits for the calls in flight.
func (c *Context) tryRenew() bool {
	var canary *xsCanary
	if c.canary != nil {
		// Where xenstored has a socket, libxenstore falls back to
		// /dev/xen/xenbus when it is down, whose calls would wait for it:
		// the socket must answer first.
		if canary = openCanary(xenstoredSocket(), c.markStale); canary == nil {
			return false
		}
	}
	ctx, err := c.alloc()
	if err != nil {
		canary.Close()
		c.log.Debug("libxl context not renewed yet", "err", err)
		return false
	}
	c.mu.Lock()
	ids := c.stopEvents()
	old, oldCanary := c.ctx, c.canary
	c.ctx, c.canary = ctx, canary
	c.disaster.Store(false)
	C.libxl_ctx_free(old)
	err = c.startEvents()
	c.mu.Unlock()
	oldCanary.Close()
	if err != nil {
		c.log.Error("libxl context renewed without events", "err", err)
	}
	lost := 0
	for _, id := range ids {
		if err := c.Watch(id); err != nil {
			lost++
			c.log.Warn("domain not watched after the libxl context's renewal", "domid", id, "err", err)
		}
	}
	n := c.renewals.Add(1)
	c.log.Warn("libxl context renewed: xenstored is back", "renewal", n, "watched", len(ids)-lost)
	return true
}
