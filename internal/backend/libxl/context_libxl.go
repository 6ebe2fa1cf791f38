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
// use, as libxl_ctx is.
type Context struct {
	ctx    *C.libxl_ctx
	lg     *C.xentoollog_logger
	handle cgo.Handle
	sink   *logSink
	sigc   chan os.Signal
	done   chan struct{}
	wg     sync.WaitGroup
	once   sync.Once

	pump    *eventPump
	watchMu sync.Mutex
	watches map[uint32]*C.libxl_evgen_domain_death
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
	c := &Context{sink: &logSink{log: log}, done: make(chan struct{})}
	c.handle = cgo.NewHandle(c.sink)
	c.lg = C.vx_logger_new(C.uintptr_t(c.handle), xtlDetail)
	if c.lg == nil {
		c.handle.Delete()
		return nil, &Error{Op: "xentoollog", Code: errNoMem, Name: "NOMEM"}
	}
	if rc := C.libxl_ctx_alloc(&c.ctx, C.LIBXL_VERSION, 0, c.lg); rc != 0 {
		err := c.fail("libxl_ctx_alloc", rc)
		C.xtl_logger_destroy(c.lg)
		c.handle.Delete()
		return nil, err
	}
	// Before anything can fork.
	C.vx_childproc_mainloop(c.ctx)
	c.sigc = make(chan os.Signal, 8)
	signal.Notify(c.sigc, syscall.SIGCHLD)
	c.wg.Add(1)
	go c.reap()
	if err := c.startEvents(); err != nil {
		c.Close()
		return nil, err
	}
	return c, nil
}

func (c *Context) reap() {
	defer c.wg.Done()
	for {
		select {
		case <-c.sigc:
			C.libxl_childproc_sigchld_occurred(c.ctx)
		case <-c.done:
			return
		}
	}
}

// Close frees the context. No call may be in progress or follow.
func (c *Context) Close() error {
	c.once.Do(func() {
		if c.pump != nil {
			c.stopEvents()
		}
		signal.Stop(c.sigc)
		close(c.done)
		c.wg.Wait()
		C.libxl_ctx_free(c.ctx)
		C.xtl_logger_destroy(c.lg)
		c.handle.Delete()
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
