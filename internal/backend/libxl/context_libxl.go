//go:build libxl

package libxl

/*
#cgo LDFLAGS: -lxenlight -lxentoollog
#include <stdlib.h>
#include <libxl.h>
#include "xl_logger.h"
*/
import "C"

import (
	"context"
	"log/slog"
	"os"
	"os/signal"
	"runtime/cgo"
	"sync"
	"sync/atomic"
	"syscall"
	"unsafe"
)

// xentoollog levels (xentoollog.h).
const (
	xtlDetail = 3
	xtlInfo   = 5
	xtlWarn   = 7
	xtlError  = 8
)

// xtlLevel is the lowest xentoollog level log takes. libxl's messages
// below it are neither formatted nor handed to Go: a create alone makes a
// hundred debug messages, each a callback from C, which nobody reads at
// the daemon's default level. Errors always pass: they explain a failed
// call.
func xtlLevel(log *slog.Logger) C.int {
	ctx := context.Background()
	switch {
	case log.Enabled(ctx, slog.LevelDebug):
		return xtlDetail
	case log.Enabled(ctx, slog.LevelInfo):
		return xtlInfo
	case log.Enabled(ctx, slog.LevelWarn):
		return xtlWarn
	}
	return xtlError
}

// logSink receives libxl's log messages: they go to the slog logger, and
// the last error is kept to explain a failed call.
type logSink struct {
	log     *slog.Logger
	mu      sync.Mutex
	lastErr string
}

//export goLibxlLog
func goLibxlLog(h C.uintptr_t, level, errnoval C.int, ctxName, msg *C.char) {
	s := cgo.Handle(h).Value().(*logSink)
	text := C.GoString(msg)
	var l slog.Level
	switch {
	case level >= xtlError:
		l = slog.LevelError
		s.mu.Lock()
		s.lastErr = text
		s.mu.Unlock()
	case level >= xtlWarn:
		l = slog.LevelWarn
	case level >= xtlInfo:
		l = slog.LevelInfo
	default:
		l = slog.LevelDebug
	}
	attrs := []slog.Attr{slog.String("context", C.GoString(ctxName))}
	if errnoval >= 0 {
		attrs = append(attrs, slog.String("errno", syscall.Errno(errnoval).Error()))
	}
	s.log.LogAttrs(context.Background(), l, text, attrs...)
}

// takeLastError returns and clears the last logged error. With calls in
// parallel it may belong to another call: it is an explanation, not a
// result.
func (s *logSink) takeLastError() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	m := s.lastErr
	s.lastErr = ""
	return m
}

// Context is an open libxl context: libxl_ctx with a logger into slog, and
// the SIGCHLD arrangement a Go program needs. It is safe for concurrent
// use, as libxl_ctx is. When xenstored goes away, the libxl_ctx's
// connection to it is dead for good, so the Context renews its libxl_ctx
// once xenstored is back (renew_libxl.go): every call holds mu for
// reading, the renewal for writing.
type Context struct {
	mu      sync.RWMutex // guards ctx, pump and canary
	ctx     *C.libxl_ctx
	lg      *C.xentoollog_logger
	lgLevel atomic.Int32 // lg's minimum level (xtlLevel)
	handle  cgo.Handle   // the logSink's
	self    cgo.Handle   // this Context's, for libxl's disaster callback
	sink    *logSink
	log     *slog.Logger
	sigc    chan os.Signal
	done    chan struct{}
	wg      sync.WaitGroup
	once    sync.Once

	pump    *eventPump
	events  chan DomainEvent // every pump's output, across renewals
	watchMu sync.Mutex
	watches map[uint32]*C.libxl_evgen_domain_death

	stale    chan struct{} // a token: the libxl_ctx's xenstore connection died
	canary   *xsCanary     // our own connection to xenstored, to see it die
	renewals atomic.Int64  // libxl_ctx renewals so far
	// disaster is set by libxl's disaster callback: the event loop of
	// this libxl_ctx is broken (xenstored gone) until it is renewed.
	disaster atomic.Bool
}

// hold takes the context for one call, so that no renewal frees it
// meanwhile; the caller defers the function it returns. Only exported
// methods (and those the Backend calls) hold it, never one another: a
// second read lock behind a waiting renewal would deadlock.
//
// It also follows the logger's level, which an administrator may change
// while the daemon runs (virt-admin daemon-log-filters).
func (c *Context) hold() func() {
	c.mu.RLock()
	if l := xtlLevel(c.log); int32(l) != c.lgLevel.Load() {
		c.lgLevel.Store(int32(l))
		C.vx_logger_set_level(c.lg, l)
	}
	return c.mu.RUnlock
}

// Open allocates a libxl context. libxl logs at detail level and above go
// to log (nil: slog.Default()). Open tells libxl that the Go runtime owns
// SIGCHLD, and forwards each SIGCHLD to libxl, so that libxl's children
// (hotplug scripts, bootloaders, device models) are reaped by libxl and
// the first fork does not abort the process.
func Open(log *slog.Logger) (*Context, error) {
	if log == nil {
		log = slog.Default()
	}
	c := &Context{sink: &logSink{log: log}, log: log, done: make(chan struct{}),
		events: make(chan DomainEvent), stale: make(chan struct{}, 1),
		watches: map[uint32]*C.libxl_evgen_domain_death{}}
	c.handle = cgo.NewHandle(c.sink)
	c.self = cgo.NewHandle(c)
	l := xtlLevel(log)
	c.lgLevel.Store(int32(l))
	c.lg = C.vx_logger_new(C.uintptr_t(c.handle), l)
	if c.lg == nil {
		c.handle.Delete()
		c.self.Delete()
		return nil, &Error{Op: "xentoollog", Code: errNoMem, Name: "NOMEM"}
	}
	// The canary first: a xenstored that dies after it connected is seen.
	c.canary = openCanary(xenstoredSocket(), c.markStale)
	ctx, err := c.alloc()
	if err != nil {
		c.canary.Close()
		C.xtl_logger_destroy(c.lg)
		c.handle.Delete()
		c.self.Delete()
		return nil, err
	}
	c.ctx = ctx
	c.sigc = make(chan os.Signal, 8)
	signal.Notify(c.sigc, syscall.SIGCHLD)
	c.wg.Add(2)
	go c.reap()
	go c.renewLoop()
	if err := c.startEvents(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

// alloc makes a libxl_ctx set up as this package needs it, before
// anything can fork or enable an event: the Go runtime owns SIGCHLD, and
// libxl reports a broken event loop (xenstored gone) to goLibxlDisaster
// rather than calling exit(-1), its default.
func (c *Context) alloc() (*C.libxl_ctx, error) {
	var ctx *C.libxl_ctx
	if rc := C.libxl_ctx_alloc(&ctx, C.LIBXL_VERSION, 0, c.lg); rc != 0 {
		return nil, c.fail("libxl_ctx_alloc", rc)
	}
	C.vx_childproc_mainloop(ctx)
	C.vx_event_hooks(ctx, C.uintptr_t(c.self))
	return ctx, nil
}

func (c *Context) reap() {
	defer c.wg.Done()
	for {
		select {
		case <-c.sigc:
			release := c.hold()
			C.libxl_childproc_sigchld_occurred(c.ctx)
			release()
		case <-c.done:
			return
		}
	}
}

// Close frees the context. No call may be in progress or follow.
func (c *Context) Close() error {
	c.once.Do(func() {
		signal.Stop(c.sigc)
		close(c.done)
		c.wg.Wait() // the renewer included: c.ctx is the last one
		c.stopEvents()
		close(c.events)
		c.canary.Close()
		C.libxl_ctx_free(c.ctx)
		C.xtl_logger_destroy(c.lg)
		c.handle.Delete()
		c.self.Delete()
	})
	return nil
}

// fail builds the Error for a libxl call that returned rc.
func (c *Context) fail(op string, rc C.int) error {
	return newError(op, int(rc), c.sink.takeLastError())
}

func newError(op string, rc int, msg string) *Error {
	e := &Error{Op: op, Code: rc, Message: msg}
	if s := C.libxl_error_to_string(C.libxl_error(rc)); s != nil {
		e.Name = C.GoString(s)
	}
	return e
}

// cstring is C.CString with its free.
func cstring(s string) (*C.char, func()) {
	p := C.CString(s)
	return p, func() { C.free(unsafe.Pointer(p)) }
}
