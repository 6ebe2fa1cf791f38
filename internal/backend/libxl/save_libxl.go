//go:build libxl

package libxl

/*
#include <stdint.h>
#include <libxl.h>
#include "xl_ao.h"

static int vx_suspend(libxl_ctx *ctx, uint32_t domid, int fd, int flags, uintptr_t handle)
{
	libxl_asyncop_how how = vx_ao_how(handle);

	return libxl_domain_suspend(ctx, domid, fd, flags, &how);
}

static int vx_restore(libxl_ctx *ctx, const char *json, int fd, uint32_t version,
		      uint32_t *domid, int *parse_rc)
{
	libxl_domain_config cfg;
	libxl_domain_restore_params params;
	int rc;

	libxl_domain_config_init(&cfg);
	*parse_rc = libxl_domain_config_from_json(ctx, &cfg, json);
	if (*parse_rc) {
		libxl_domain_config_dispose(&cfg);
		return *parse_rc;
	}
	libxl_domain_restore_params_init(&params);
	params.stream_version = version;
	rc = libxl_domain_create_restore(ctx, &cfg, domid, fd, -1, &params, NULL, NULL);
	libxl_domain_restore_params_dispose(&params);
	libxl_domain_config_dispose(&cfg);
	return rc;
}
*/
import "C"

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

var _ backend.Saver = (*Backend)(nil)
var _ backend.Migrator = (*Backend)(nil)
var _ backend.CoreDumper = (*Backend)(nil)

// SuspendToFD saves domain domid to fd (libxl_domain_suspend). Not live,
// the guest suspends first, then its memory is written; live
// (LIBXL_SUSPEND_LIVE), its memory is sent while it runs, then what it
// dirtied meanwhile, in rounds, and it is suspended for the last one.
// When ctx ends first libxl is asked to abort (its save helper is
// stopped) once started is closed, when libxl has handed the stream to
// its save helper: libxl crashes when aborted before (stream.go).
func (c *Context) SuspendToFD(ctx context.Context, domid uint32, fd int, live bool, started <-chan struct{}) error {
	defer c.hold()()
	var flags C.int
	if live {
		flags = C.LIBXL_SUSPEND_LIVE
	}
	return c.asyncOp(ctx, "libxl_domain_suspend", started, func(h C.uintptr_t) C.int {
		return C.vx_suspend(c.ctx, C.uint32_t(domid), C.int(fd), flags, h)
	})
}

// RestoreFromJSON creates a domain, paused, from libxl_domain_config JSON
// and the save stream of the given version read from fd
// (libxl_domain_create_restore).
func (c *Context) RestoreFromJSON(js []byte, fd int, version uint32) (uint32, error) {
	defer c.hold()()
	cs, free := cstring(string(js))
	defer free()
	var domid C.uint32_t
	var parseRC C.int
	if rc := C.vx_restore(c.ctx, cs, C.int(fd), C.uint32_t(version), &domid, &parseRC); rc != 0 {
		if parseRC != 0 {
			return 0, c.fail("libxl_domain_config_from_json", rc)
		}
		return 0, c.fail("libxl_domain_create_restore", rc)
	}
	return uint32(domid), nil
}

// CoreDumpTo writes domain domid's memory to path as an ELF core
// (libxl_domain_core_dump).
func (c *Context) CoreDumpTo(domid uint32, path string) error {
	defer c.hold()()
	cs, free := cstring(path)
	defer free()
	return c.check("libxl_domain_core_dump", C.libxl_domain_core_dump(c.ctx, C.uint32_t(domid), cs, nil))
}

// Save implements backend.Saver.
func (b *Backend) Save(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress) error {
	return b.save(ctx, id, f, progress, false)
}

// SaveLive implements backend.Migrator: Save with LIBXL_SUSPEND_LIVE.
func (b *Backend) SaveLive(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress) error {
	return b.save(ctx, id, f, progress, true)
}

// Resume implements backend.Migrator: what Wakeup does for a guest
// suspended to RAM, libxl_domain_resume with suspend_cancel, is what
// continues one a save left suspended (xl migrate does it when the
// destination failed).
func (b *Backend) Resume(ctx context.Context, id backend.DomID) error {
	return b.Wakeup(ctx, id)
}

// save is Save, live or not. libxl suspends the guest co-operatively, so
// a paused guest is unpaused for it and paused again if the save fails;
// a failed or aborted save resumes the suspended guest
// (libxl_domain_resume with suspend_cancel, as xl does). libxl writes
// the stream into a saveOutput, which keeps libxl out of its crash and
// reports the progress against the guest's memory (a live save sends
// more, pages the guest dirtied being sent again).
func (b *Backend) save(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress, live bool) error {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return b.guestErr(id, err)
	}
	if live && info.PV {
		if err := b.canSavePVLive(id); err != nil {
			return err
		}
	}
	out, err := newSaveOutput(ctx, f, info.CurrentKiB*1024, progress)
	if err != nil {
		return err
	}
	if info.Paused {
		if err := b.c.Unpause(uint32(id)); err != nil {
			out.End(ctx, false)
			return b.guestErr(id, err)
		}
	}
	watched, stop := context.WithCancelCause(ctx)
	defer stop(nil)
	go b.watchSaved(watched, id, stop)
	err = b.c.SuspendToFD(watched, uint32(id), out.FD(), live, out.Started())
	if eerr := out.End(ctx, err == nil); err == nil {
		err = eerr
	}
	if err == nil {
		return nil
	}
	if cause := context.Cause(watched); errors.Is(cause, errShutDownInSave) {
		err = cause
	}
	if now, ierr := b.c.Info(uint32(id)); ierr == nil && now.Shutdown &&
		backend.ShutdownReason(now.ShutdownCode) == backend.ReasonSuspend {
		if rerr := b.resumeSuspended(id); rerr != nil {
			err = errors.Join(err, rerr)
		}
	}
	if info.Paused {
		b.c.Pause(uint32(id))
	}
	return b.guestErr(id, err)
}

// errShutDownInSave is a save aborted because its guest shut down for
// another reason than the suspend the save asked for.
var errShutDownInSave = fmt.Errorf("%w: the guest shut down during its save", backend.ErrFailed)

// savedWatch is how often a guest being saved is looked at.
const savedWatch = 500 * time.Millisecond

// watchSaved aborts, through stop, the save of guest id that ctx governs
// when the guest shuts down for another reason than a suspend: a guest
// that crashed or reset itself (under QEMU's emulated CPU, a PVH guest
// triple-faulted during its live save now and then) never answers the
// suspend request, and libxl waits a fixed 60 s for it before failing.
func (b *Backend) watchSaved(ctx context.Context, id backend.DomID, stop context.CancelCauseFunc) {
	t := time.NewTicker(savedWatch)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		info, err := b.c.Info(uint32(id))
		if err != nil {
			return
		}
		if r := backend.ShutdownReason(info.ShutdownCode); info.Shutdown && r != backend.ReasonSuspend {
			b.log.Warn("the guest shut down during its save; aborting the save", "domid", id, "reason", r)
			stop(fmt.Errorf("%w (domain %d: %s)", errShutDownInSave, id, r))
			return
		}
	}
}

// canSavePVLive refuses a live save of PV guest id on a Xen built without
// shadow paging (Debian's): Xen tracks the pages a PV guest dirties with
// it, and without it libxc fails to enable log-dirty mode (EOPNOTSUPP),
// which libxl reports as the guest not answering the suspend request. A
// save that is not live needs no log-dirty mode.
func (b *Backend) canSavePVLive(id backend.DomID) error {
	p, err := b.c.PhysInfo()
	if err != nil || p.Shadow {
		return nil
	}
	return fmt.Errorf("%w: domain %d is PV, and this Xen cannot save a PV domain live: it was built without shadow paging, "+
		"which tracks the pages a PV domain dirties; save or migrate it offline", backend.ErrUnsupported, id)
}

// resumeSuspended resumes a guest that suspended itself. libxl reports a
// domain's shutdown once: as libvirt does, the watch is made anew after
// the resume, so that the guest's next shutdown is reported.
func (b *Backend) resumeSuspended(id backend.DomID) error {
	if err := b.c.ResumeCancel(uint32(id)); err != nil {
		return err
	}
	b.mu.Lock()
	_, ours := b.known[id]
	b.mu.Unlock()
	if ours {
		b.c.Unwatch(uint32(id))
		return b.c.Watch(uint32(id))
	}
	return nil
}

// Restore implements backend.Saver as Create does, from the stream in f,
// which restoreInput looks at first.
func (b *Backend) Restore(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, f *os.File, version uint32) (backend.DomID, error) {
	in, done, err := restoreInput(ctx, f, version)
	if err != nil {
		return 0, err
	}
	defer done()
	return b.makeGuest(cfg, opts, func(js []byte) (uint32, []byte, error) {
		domid, err := b.c.RestoreFromJSON(js, int(in.Fd()), version)
		return domid, nil, err
	})
}

// CoreDump implements backend.CoreDumper; the progress is the core
// file's growth against the guest's memory.
func (b *Backend) CoreDump(ctx context.Context, id backend.DomID, path string, progress backend.Progress) error {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return b.guestErr(id, err)
	}
	var stop func()
	if progress != nil {
		stop = watchPathGrowth(path, info.CurrentKiB*1024, progress)
		defer stop()
	}
	return b.guestErr(id, b.c.CoreDumpTo(uint32(id), path))
}
