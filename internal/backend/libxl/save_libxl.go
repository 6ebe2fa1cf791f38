//go:build libxl

package libxl

/*
#include <stdint.h>
#include <libxl.h>
#include "xl_ao.h"

static int vx_suspend(libxl_ctx *ctx, uint32_t domid, int fd, uintptr_t handle)
{
	libxl_asyncop_how how = vx_ao_how(handle);

	return libxl_domain_suspend(ctx, domid, fd, 0, &how);
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
	"io"
	"os"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/libxltypes"
)

var _ backend.Saver = (*Backend)(nil)
var _ backend.CoreDumper = (*Backend)(nil)

// SuspendToFD saves domain domid to fd (libxl_domain_suspend, not live:
// the guest suspends first, then its memory is written). When ctx ends
// first libxl is asked to abort (its save helper is stopped) and the wait
// goes on for its callback.
func (c *Context) SuspendToFD(ctx context.Context, domid uint32, fd int) error {
	return c.asyncOp(ctx, "libxl_domain_suspend", func(h C.uintptr_t) C.int {
		return C.vx_suspend(c.ctx, C.uint32_t(domid), C.int(fd), h)
	})
}

// RestoreFromJSON creates a domain, paused, from libxl_domain_config JSON
// and the save stream of the given version read from fd
// (libxl_domain_create_restore).
func (c *Context) RestoreFromJSON(js []byte, fd int, version uint32) (uint32, error) {
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
	cs, free := cstring(path)
	defer free()
	return c.check("libxl_domain_core_dump", C.libxl_domain_core_dump(c.ctx, C.uint32_t(domid), cs, nil))
}

// Save implements backend.Saver. libxl suspends the guest co-operatively,
// so a paused guest is unpaused for it and paused again if the save
// fails; a failed or aborted save resumes the suspended guest
// (libxl_domain_resume with suspend_cancel, as xl does).
func (b *Backend) Save(ctx context.Context, id backend.DomID, f *os.File, progress backend.Progress) error {
	info, err := b.c.Info(uint32(id))
	if err != nil {
		return b.guestErr(id, err)
	}
	if info.Paused {
		if err := b.c.Unpause(uint32(id)); err != nil {
			return b.guestErr(id, err)
		}
	}
	stop := watchGrowth(f, info.CurrentKiB*1024, progress)
	err = b.c.SuspendToFD(ctx, uint32(id), int(f.Fd()))
	stop()
	if err == nil {
		return nil
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

// Restore implements backend.Saver as Create does, from the stream in f.
func (b *Backend) Restore(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, f *os.File, version uint32) (backend.DomID, error) {
	return b.makeGuest(cfg, opts, func(js []byte) (uint32, error) {
		return b.c.RestoreFromJSON(js, int(f.Fd()), version)
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

// progressEvery is how often a save's or dump's file is looked at.
const progressEvery = 200 * time.Millisecond

// watchGrowth reports, until stopped, how much f has grown from its
// current offset against total (raised if the file outgrows it): libxl
// has no progress callback for a save, its helper just writes the fd.
func watchGrowth(f *os.File, total uint64, progress backend.Progress) (stop func()) {
	if progress == nil {
		return func() {}
	}
	start, _ := f.Seek(0, io.SeekCurrent)
	return poll(func() (int64, error) {
		st, err := f.Stat()
		if err != nil {
			return 0, err
		}
		return st.Size() - start, nil
	}, total, progress)
}

func watchPathGrowth(path string, total uint64, progress backend.Progress) (stop func()) {
	return poll(func() (int64, error) {
		st, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		return st.Size(), nil
	}, total, progress)
}

func poll(size func() (int64, error), total uint64, progress backend.Progress) (stop func()) {
	quit, done := make(chan struct{}), make(chan struct{})
	go func() {
		defer close(done)
		t := time.NewTicker(progressEvery)
		defer t.Stop()
		for {
			select {
			case <-quit:
				return
			case <-t.C:
			}
			if n, err := size(); err == nil && n > 0 {
				progress(uint64(n), max(total, uint64(n)))
			}
		}
	}()
	return func() { close(quit); <-done }
}
