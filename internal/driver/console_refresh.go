package driver

import (
	"context"
	"errors"
	"os"
	"sync"
	"syscall"
	"time"

	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
)

// consoleRefreshWait bounds the wait for a console daemon that has just
// restarted to give a running guest's consoles their new ptys.
const consoleRefreshWait = 2 * time.Second

// consoledAskEvery bounds how often a live dumpxml asks the backend for
// its console daemon: on Xen that reads xenconsoled's pid file and its
// /proc stat, which the dumpxml of a running guest, read from a cache,
// would otherwise pay on every call (virt-manager asks several times a
// second). A restart is seen within this time, or at once by a console
// open whose pty is gone.
const consoledAskEvery = time.Second

// consoledMemo is the console daemon's name as last asked, and when.
type consoledMemo struct {
	mu   sync.Mutex
	name string
	at   time.Time
}

// consoleServer names the backend's console daemon now ("" when the
// backend has no such feature, or none runs); unless fresh, as asked
// within consoledAskEvery.
func (drv *Driver) consoleServer(fresh bool) string {
	cs, ok := drv.be.(backend.ConsoleServers)
	if !ok {
		return ""
	}
	m := &drv.consoled
	m.mu.Lock()
	defer m.mu.Unlock()
	if !fresh && !m.at.IsZero() && time.Since(m.at) < consoledAskEvery {
		return m.name
	}
	name, err := cs.ConsoleServer(context.Background())
	if err != nil {
		name = ""
	}
	m.name, m.at = name, time.Now()
	return name
}

// refreshConsoles reads the console ptys of the running d again when the
// console daemon changed since they were recorded: a restarted xenconsoled
// gives every guest's console a new pty, and libvirt's record (the live
// XML's tty, what virsh ttyconsole and virsh console use) would name a
// pty that is gone or, worse, another guest's. force reads them whatever
// the daemon (the recorded pty failed to open). Unchanged, it costs the
// console daemon's name, asked of the backend at most once a second; a
// start still recording its ptys is left alone. The status file is written
// without the domain's job, so that a long job does not hold up dumpxml: a
// job that writes it meanwhile may keep the old ptys there, which the next
// daemon's first refresh mends.
func (drv *Driver) refreshConsoles(d *domain, force bool) {
	ttys, ok := drv.be.(backend.ConsoleTTYs)
	if !ok || drv.consoles.recorded(d) != nil {
		return
	}
	s := d.snap()
	if !s.active() || s.ref.ID <= 0 {
		return
	}
	chars := ptyChars(s.def.parsed())
	server := drv.consoleServer(force)
	if len(chars) == 0 || server == "" {
		return
	}
	d.mu.Lock()
	same := d.consoleServer == server
	d.mu.Unlock()
	if same && !force {
		return
	}
	paths := drv.readConsoles(ttys, chars, s.ref.ID, consoleRefreshWait)
	changed := false
	d.mu.Lock()
	if d.id == s.ref.ID && len(paths) == len(chars) {
		d.consoleServer = server
	}
	d.mu.Unlock()
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if d.id != s.ref.ID {
			return // stopped or restarted meanwhile
		}
		for i, c := range ptyChars(def) {
			if p := paths[i]; p != "" && p != c.src.Pty.Path {
				changed = true
				c.src.Pty.Path = p
				if c.tty != nil {
					*c.tty = p
				}
			}
		}
	})
	if !changed {
		return
	}
	drv.log.Info("console ptys read again: the console daemon changed", "domain", s.ref.Name, "server", server)
	if err := drv.saveStatusIfActive(d); err != nil {
		drv.log.Warn("cannot save status", "domain", s.ref.Name, "err", err)
	}
}

// readConsoles asks the backend for each pty of chars until all have one
// that exists, or wait passes; the answer is by index into chars. A pty
// that does not exist is one the console daemon before left in xenstore.
func (drv *Driver) readConsoles(ttys backend.ConsoleTTYs, chars []ptyChar, id int32, wait time.Duration) map[int]string {
	paths := drv.pollConsoles(ttys, chars, id, wait, map[int]string{})
	for i, p := range paths {
		if _, err := os.Stat(p); err != nil {
			delete(paths, i)
		}
	}
	return paths
}

// isOpenFailure tells a pty that could not be opened because it is gone
// (no such node, or its master end closed) from the other refusals.
func isOpenFailure(err error) bool {
	return errors.Is(err, syscall.ENOENT) || errors.Is(err, syscall.EIO) || errors.Is(err, syscall.ENXIO)
}
