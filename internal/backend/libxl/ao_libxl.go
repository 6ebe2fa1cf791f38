//go:build libxl

package libxl

/*
#include <libxl.h>
#include "xl_ao.h"
*/
import "C"

import (
	"context"
	"runtime/cgo"
)

// goLibxlAODone is the completion callback of libxl's asynchronous calls
// (xl_ao.c): rc goes to the channel whose handle the call was given.
//
//export goLibxlAODone
func goLibxlAODone(h C.uintptr_t, rc C.int) {
	cgo.Handle(h).Value().(chan int) <- int(rc)
}

// asyncOp runs one of libxl's asynchronous calls, named name, which start
// makes with the how vx_ao_how builds from the handle it is given, and
// waits for its completion callback. When ctx ends first libxl is asked
// to abort the call (once abortable is closed, when it is not nil), and
// the wait goes on: libxl may use the call's memory until its callback.
func (c *Context) asyncOp(ctx context.Context, name string, abortable <-chan struct{}, start func(h C.uintptr_t) C.int) error {
	done := make(chan int, 1)
	h := cgo.NewHandle(done)
	defer h.Delete()
	if rc := start(C.uintptr_t(h)); rc != 0 {
		return c.fail(name, rc)
	}
	var rc int
	select {
	case rc = <-done:
	case <-ctx.Done():
		if abortable != nil {
			select {
			case <-abortable:
			case rc = <-done:
				return c.check(name, C.int(rc))
			}
		}
		C.vx_ao_abort(c.ctx, C.uintptr_t(h))
		rc = <-done
	}
	return c.check(name, C.int(rc))
}
