package sim

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"slices"
	"sync/atomic"
	"syscall"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/pty"
	"virtxend/internal/store"
)

// How often the console daemon looks at host.json for guests created,
// paused or gone; it rereads the file at least every consoledReread even
// if it did not change, for what time alone makes happen (a crash-after).
const (
	consoledPoll   = 100 * time.Millisecond
	consoledReread = time.Second
)

// ConsoledMain runs the simulated host's console daemon. args are the
// host's directory and the kernel boot id the host was opened with. It
// returns the process's exit code.
func ConsoledMain(args []string) int {
	if len(args) != 2 {
		fmt.Fprintf(os.Stderr, "usage: %s HOSTDIR KERNEL-BOOT-ID\n", ConsoledName)
		return 2
	}
	signal.Ignore(syscall.SIGHUP)
	log := slog.New(slog.NewTextHandler(os.Stderr, nil)).With("pid", os.Getpid())
	s, err := startConsoled(args[0], args[1], log)
	if err != nil {
		log.Error("console daemon cannot start", "err", err)
		return 1
	}
	if s == nil {
		return 0 // another one runs
	}
	log.Info("console daemon running", "dir", args[0])
	s.run()
	log.Info("console daemon exits: no guest left")
	return 0
}

// consoled is the console daemon's state.
type consoled struct {
	dir, kernelBootID string
	log               *slog.Logger
	lock              *os.File // console.lock, flocked while it runs
	consoles          map[consoleKey]*guestConsole
	// previous is the file a console daemon before this one left: which
	// consoles of which host boot had their banner.
	previous *consoleFile
	bootID   string
	seen     hostFileStamp
	readAt   time.Time
}

// hostFileStamp tells whether host.json changed since the last look.
type hostFileStamp struct {
	ino   uint64
	mtime time.Time
	size  int64
}

// startConsoled takes the console lock; nil (and no error) if another
// console daemon holds it.
func startConsoled(dir, kernelBootID string, log *slog.Logger) (*consoled, error) {
	lock, err := lockConsoled(dir)
	if lock == nil || err != nil {
		return nil, err
	}
	// Holding the lock, no other process writes consoles.json: a
	// temporary of it is a killed console daemon's.
	if err := store.CleanTempOf(dir, consoleFileName); err != nil {
		lock.Close()
		return nil, err
	}
	prev, err := loadConsoleFile(filepath.Join(dir, consoleFileName))
	if err != nil {
		log.Warn("ignoring the previous console file", "err", err)
		prev = nil
	}
	s := &consoled{dir: dir, kernelBootID: kernelBootID, log: log, lock: lock,
		consoles: map[consoleKey]*guestConsole{}, previous: prev}
	// The file now names this process, none of whose consoles exist yet.
	if err := s.save(); err != nil {
		s.releaseLock()
		return nil, err
	}
	return s, nil
}

// lockConsoled flocks console.lock, retrying briefly: a host probing
// whether a console daemon runs holds it for an instant.
func lockConsoled(dir string) (*os.File, error) {
	f, err := os.OpenFile(filepath.Join(dir, consoleLockName), os.O_RDONLY|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, err
	}
	for try := 0; ; try++ {
		err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB)
		if err == nil {
			return f, nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) || try == 20 {
			f.Close()
			if errors.Is(err, syscall.EWOULDBLOCK) {
				return nil, nil
			}
			return nil, err
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (s *consoled) run() {
	defer s.retire()
	t := time.NewTicker(consoledPoll)
	defer t.Stop()
	for {
		more, err := s.sync()
		if err != nil {
			s.log.Warn("cannot read the simulated host", "err", err)
		}
		if !more {
			return
		}
		<-t.C
	}
}

// guestView is what the console daemon needs of a guest.
type guestView struct {
	uuid    backend.UUID
	name    string
	state   int32
	nmis    int
	console []consoleKey
}

// Guest states as a console sees them.
const (
	guestPaused int32 = iota
	guestRunning
	guestDown // shut down: it reads and prints nothing more
)

// sync brings the consoles in line with host.json; false once no guest is
// left, when the console lock has been given up.
func (s *consoled) sync() (bool, error) {
	guests, changed, err := s.readGuests()
	if err != nil || !changed {
		return true, err
	}
	if guests == nil {
		return false, nil
	}
	dirty := false
	for k, c := range s.consoles {
		if _, ok := guests[k.id]; !ok {
			c.close()
			delete(s.consoles, k)
			dirty = true
		}
	}
	for id, g := range guests {
		for _, k := range g.console {
			c := s.consoles[k]
			if c == nil {
				if c = s.open(k, id, g); c == nil {
					continue
				}
				s.consoles[k] = c
				dirty = true
			}
			c.state.Store(g.state)
			if g.state == guestRunning && !c.greeted {
				c.greeted, dirty = true, true
				c.say(c.tty.banner(id, g.uuid))
			}
			for ; g.state == guestRunning && c.nmis < g.nmis; c.nmis++ {
				c.say(c.tty.nmi())
				dirty = true
			}
		}
	}
	if dirty {
		return true, s.save()
	}
	return true, nil
}

// readGuests reads host.json under the host's lock if it changed. With no
// guest left it gives up the console lock before the host lock, so that a
// host creating a guest meanwhile sees no console daemon and starts one.
// guests is nil then; changed is false when there was nothing to read.
func (s *consoled) readGuests() (guests map[backend.DomID]guestView, changed bool, err error) {
	path := filepath.Join(s.dir, "host.json")
	stamp := statHostFile(path)
	if stamp == s.seen && stamp != (hostFileStamp{}) && time.Since(s.readAt) < consoledReread {
		return nil, false, nil
	}
	hostLock, err := os.OpenFile(filepath.Join(s.dir, "lock"), os.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		s.retire() // the host is gone
		return nil, true, nil
	}
	defer hostLock.Close()
	if err := syscall.Flock(int(hostLock.Fd()), syscall.LOCK_SH); err != nil {
		return nil, false, err
	}
	defer syscall.Flock(int(hostLock.Fd()), syscall.LOCK_UN)
	s.seen, s.readAt = statHostFile(path), time.Now()
	st, err := loadState(path)
	if err != nil {
		return nil, false, err
	}
	if st == nil || st.KernelBootID != s.kernelBootID || len(st.Guests) == 0 {
		s.retire()
		return nil, true, nil
	}
	s.bootID = st.BootID
	guests = make(map[backend.DomID]guestView, len(st.Guests))
	now := time.Now()
	for _, g := range st.Guests {
		g.advance(now) // what time alone has made happen, not saved
		v := guestView{uuid: g.UUID, name: g.Name, state: guestRunning, nmis: g.NMIs, console: consolesOf(g.DomID, g.Config)}
		switch {
		case g.Shutdown:
			v.state = guestDown
		case g.Paused:
			v.state = guestPaused
		}
		guests[g.DomID] = v
	}
	return guests, true, nil
}

func statHostFile(path string) hostFileStamp {
	var st syscall.Stat_t
	if err := syscall.Stat(path, &st); err != nil {
		return hostFileStamp{}
	}
	return hostFileStamp{ino: st.Ino, mtime: time.Unix(st.Mtim.Unix()), size: st.Size}
}

func (s *consoled) releaseLock() {
	if s.lock != nil {
		s.lock.Close()
		s.lock = nil
	}
}

// open makes console k of guest id; nil if no pty can be had, which is
// logged and retried at the next change.
func (s *consoled) open(k consoleKey, id backend.DomID, g guestView) *guestConsole {
	p, err := pty.Open()
	if err != nil {
		s.log.Error("cannot open a pty for a guest console", "domid", id, "console", k.devName(), "err", err)
		return nil
	}
	c := &guestConsole{key: k, uuid: g.uuid, pair: p, tty: guestTTY{name: g.name, dev: k.devName()},
		out: make(chan []byte, 64), done: make(chan struct{})}
	if prev := s.previous; prev != nil && prev.BootID == s.bootID {
		if i := slices.IndexFunc(prev.Consoles, func(e consoleEntry) bool { return e.key() == k }); i >= 0 {
			c.greeted, c.nmis = prev.Consoles[i].Greeted, prev.Consoles[i].NMIs
		}
	}
	c.state.Store(g.state)
	go c.writeLoop()
	go c.readLoop(s)
	s.log.Info("guest console ready", "domid", id, "console", k.devName(), "pty", p.Path)
	return c
}

// save writes consoles.json for the hosts to read.
func (s *consoled) save() error {
	cf := &consoleFile{Version: consoleFileVersion, BootID: s.bootID, Pid: os.Getpid(), Consoles: []consoleEntry{}}
	for k, c := range s.consoles {
		cf.Consoles = append(cf.Consoles, consoleEntry{DomID: k.id, Serial: k.serial, Port: k.port, Path: c.pair.Path, Greeted: c.greeted, NMIs: c.nmis})
	}
	slices.SortFunc(cf.Consoles, func(a, b consoleEntry) int {
		return cmpKeys(a.key(), b.key())
	})
	return saveConsoleFile(filepath.Join(s.dir, consoleFileName), cf)
}

func cmpKeys(a, b consoleKey) int {
	switch {
	case a.id != b.id:
		return int(a.id) - int(b.id)
	case a.serial != b.serial:
		if a.serial {
			return 1
		}
		return -1
	}
	return a.port - b.port
}

// retire ends this console daemon's term: its consoles hang up and its
// file goes before the lock does, so that the next console daemon (which
// a host creating a guest meanwhile starts) finds neither, and a host that
// sees the lock free finds no stale file.
func (s *consoled) retire() {
	for k, c := range s.consoles {
		c.close()
		delete(s.consoles, k)
	}
	if s.lock != nil {
		os.Remove(filepath.Join(s.dir, consoleFileName))
		s.releaseLock()
	}
}

// shutdownGuest makes guest id shut itself down for reason, as its own
// poweroff or reboot would: the hosts attached see it at their next look.
func (s *consoled) shutdownGuest(id backend.DomID, uuid backend.UUID, reason backend.ShutdownReason) error {
	hostLock, err := os.OpenFile(filepath.Join(s.dir, "lock"), os.O_RDONLY|syscall.O_CLOEXEC, 0)
	if err != nil {
		return err
	}
	defer hostLock.Close()
	if err := syscall.Flock(int(hostLock.Fd()), syscall.LOCK_EX); err != nil {
		return err
	}
	defer syscall.Flock(int(hostLock.Fd()), syscall.LOCK_UN)
	path := filepath.Join(s.dir, "host.json")
	st, err := loadState(path)
	if err != nil || st == nil || st.KernelBootID != s.kernelBootID {
		return err
	}
	g, err := st.find(id)
	if err != nil || g.UUID != uuid {
		return err
	}
	now := time.Now()
	changed := g.advance(now)
	if !g.Shutdown && !g.Paused {
		g.shutDown(now, reason)
		changed = true
	}
	if !changed {
		return nil
	}
	return saveState(path, st)
}

// guestConsole is one console of a guest: its pty and the guest's side.
type guestConsole struct {
	key     consoleKey
	uuid    backend.UUID
	pair    *pty.Pair
	tty     guestTTY // the reading goroutine's alone
	greeted bool
	nmis    int // the NMIs reported here
	state   atomic.Int32
	out     chan []byte
	done    chan struct{}
}

// say queues output; when nobody has read the console for long enough to
// fill the queue, output is dropped, as xenconsoled drops a full buffer.
func (c *guestConsole) say(b []byte) {
	if len(b) == 0 {
		return
	}
	select {
	case c.out <- b:
	default:
	}
}

func (c *guestConsole) writeLoop() {
	for {
		select {
		case b := <-c.out:
			c.pair.Master.Write(b)
		case <-c.done:
			return
		}
	}
}

// readLoop is the guest reading what is typed on its console.
func (c *guestConsole) readLoop(s *consoled) {
	buf := make([]byte, 1024)
	for {
		n, err := c.pair.Master.Read(buf)
		if err != nil {
			return
		}
		if !c.waitRunning() {
			continue
		}
		out, reason, act := c.tty.input(buf[:n])
		c.say(out)
		if act {
			c.state.Store(guestDown)
			if err := s.shutdownGuest(c.key.id, c.uuid, reason); err != nil {
				s.log.Error("guest cannot shut down", "domid", c.key.id, "err", err)
			}
		}
	}
}

// waitRunning holds typed input while the guest is paused; false if it is
// shut down (or its console closed) and will read nothing.
func (c *guestConsole) waitRunning() bool {
	for {
		switch c.state.Load() {
		case guestRunning:
			return true
		case guestDown:
			return false
		}
		select {
		case <-c.done:
			return false
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// close hangs the console up: its clients read EOF.
func (c *guestConsole) close() {
	close(c.done)
	c.pair.Close()
}
