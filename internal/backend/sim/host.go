// Package sim is the simulated Xen host, the embedded default backend.
//
// The simulated hypervisor outlives the daemon, as Xen does: its whole state
// lives in host.json under paths.SimHostDir() (written atomically after each
// change), guarded by an flock on a lock file so that several processes
// (a daemon, a test harness) can share one host without racing. Everything
// that depends on time is computed from stored timestamps, so CPU time
// accrues and delayed shutdowns and crash-after faults happen while no
// daemon runs; the next daemon finds the guests with the same domids and
// receives the events they produced meanwhile.
//
// A guest arrives as libxl's domain configuration (libxltypes), exactly
// what real Xen would receive; the host takes its name, uuid and sizing
// from it and keeps it with the guest in host.json. The host's shape
// (Shape) comes from libxl.conf's sim_* keys, mapped by the daemon.
// Per-guest faults are set in the domain XML's metadata (see Namespace),
// which the driver passes along in backend.CreateOptions. Devices plugged
// into a running guest join its kept configuration (devices.go).
//
// Every guest has consoles on real ptys (ConsoleTTY), held by a console
// daemon of the host's own, as xenconsoled holds real Xen's (console.go):
// the simulated guest prints a boot banner there, echoes what is typed and
// powers off or reboots itself when told to (guesttty.go).
package sim

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"virtxend/internal/backend"
	"virtxend/internal/store"
)

// Defaults for Options fields left zero.
const (
	DefaultShutdownDelay = time.Second
	DefaultPollInterval  = 250 * time.Millisecond
	// Dom0MinMemKiB is the least Domain-0 balloons down to.
	Dom0MinMemKiB = 512 * 1024
)

// Shape is the simulated machine: libxl.conf's sim_* keys.
type Shape struct {
	CPUs          int    // sim_cpus: physical CPUs
	MemoryMiB     uint64 // sim_memory_mib: host RAM
	Dom0MemoryMiB uint64 // sim_dom0_memory_mib: Domain-0's initial allocation
	XenVersion    string // sim_xen_version, "major.minor.micro"
	CPUMHz        int    // sim_cpu_mhz
	// Scheduler is sim_scheduler: the name of the scheduler the host runs
	// (SchedulerNames; "" is DefaultScheduler).
	Scheduler string
	// PCISysfs is sim_pci_sysfs: the sysfs PCI tree whose devices the
	// host has (the real /sys/bus/pci by default, or a fixture), read
	// once and never written; "" means no PCI devices.
	PCISysfs string
}

// Options configure a simulated host.
type Options struct {
	// Dir holds host.json and its lock (paths.SimHostDir()).
	Dir  string
	Host Shape
	// ShutdownDelay is how long a guest takes to act on a shutdown or
	// reboot request. Negative means at once (zero picks the default).
	ShutdownDelay time.Duration
	// PollInterval is how often the host looks for changes made by time
	// or by another process. Negative disables polling (tests call Poll).
	PollInterval time.Duration
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// KernelBootID identifies the real machine's boot; when it differs
	// from the one stored, the host starts empty. Read from
	// /proc/sys/kernel/random/boot_id when empty.
	KernelBootID string
	// ConsoleCommand is the executable that runs the console daemon
	// (ConsoledMain) when started as ConsoledName: the daemon's own
	// binary. Empty, guests have no consoles (ConsoleTTY fails).
	ConsoleCommand string
	Logger         *slog.Logger
}

// Host is a simulated Xen host. It implements backend.Backend,
// backend.GuestActions and backend.ConsoleTTYs.
type Host struct {
	opts     Options
	path     string
	lockFile *os.File

	mu sync.Mutex // serialises this process's access; the flock others'
	// seen is what this Host last reported per domid: present, and
	// whether it was shut down. Events are the differences.
	seen map[backend.DomID]bool
	// reads counts the reads of host.json, so tests can tell that a batch
	// call costs one.
	reads atomic.Int64

	// pci is the host's PCI bus, made on first use (pci.go).
	pci simPCI

	q       *eventQueue
	stop    chan struct{}
	stopped sync.WaitGroup
	closeMu sync.Once
}

var _ backend.Backend = (*Host)(nil)
var _ backend.GuestActions = (*Host)(nil)
var _ backend.ConsoleTTYs = (*Host)(nil)
var _ backend.ConsoleServers = (*Host)(nil)
var _ backend.VCPUPinner = (*Host)(nil)
var _ backend.Scheduling = (*Host)(nil)
var _ backend.NodeAffinity = (*Host)(nil)
var _ backend.PMSuspender = (*Host)(nil)

// Open attaches to (or boots) the simulated host in opts.Dir.
func Open(opts Options) (*Host, error) {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.ShutdownDelay == 0 {
		opts.ShutdownDelay = DefaultShutdownDelay
	} else if opts.ShutdownDelay < 0 {
		opts.ShutdownDelay = 0
	}
	if opts.PollInterval == 0 {
		opts.PollInterval = DefaultPollInterval
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.KernelBootID == "" {
		b, _ := os.ReadFile("/proc/sys/kernel/random/boot_id")
		opts.KernelBootID = strings.TrimSpace(string(b))
	}
	if err := validateShape(opts.Host); err != nil {
		return nil, err
	}
	if err := store.MkdirAll(opts.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("simulated host: %w", err)
	}
	lf, err := os.OpenFile(filepath.Join(opts.Dir, "lock"), os.O_RDWR|os.O_CREATE|syscall.O_CLOEXEC, 0o600)
	if err != nil {
		return nil, fmt.Errorf("simulated host: %w", err)
	}
	h := &Host{
		opts: opts, path: filepath.Join(opts.Dir, "host.json"), lockFile: lf,
		seen: map[backend.DomID]bool{}, q: newEventQueue(), stop: make(chan struct{}),
	}
	// Every guest counts as seen running, so those that shut down while
	// no driver watched are reported by the first refresh. Under the same
	// lock no other process is saving host.json, so a temporary of it is
	// one a process killed mid-save left: remove it. The console daemon's
	// files are its own (it may be saving one now).
	err = h.mutate(func(st *hostState) (bool, error) {
		for _, g := range st.Guests {
			h.seen[g.DomID] = false
		}
		if err := store.CleanTempOf(opts.Dir, filepath.Base(h.path)); err != nil {
			return false, err
		}
		if len(st.Guests) > 0 {
			h.ensureConsoled() // it may have died, or predate consoles
		}
		return false, nil
	})
	if err != nil {
		h.q.close()
		lf.Close()
		return nil, err
	}
	if opts.PollInterval > 0 {
		h.stopped.Add(1)
		go h.pollLoop()
	}
	return h, nil
}

func validateShape(s Shape) error {
	switch {
	case s.CPUs <= 0:
		return fmt.Errorf("simulated host: sim_cpus must be positive, not %d", s.CPUs)
	case s.MemoryMiB == 0 || s.Dom0MemoryMiB == 0 || s.Dom0MemoryMiB > s.MemoryMiB:
		return fmt.Errorf("simulated host: need 0 < sim_dom0_memory_mib (%d) <= sim_memory_mib (%d)",
			s.Dom0MemoryMiB, s.MemoryMiB)
	}
	if _, ok := SchedulerNames[s.Scheduler]; !ok && s.Scheduler != "" {
		return fmt.Errorf("simulated host: sim_scheduler: unknown scheduler %q", s.Scheduler)
	}
	if _, _, _, err := splitVersion(s.XenVersion); err != nil {
		return fmt.Errorf("simulated host: sim_xen_version: %w", err)
	}
	return nil
}

// boot returns the state of a freshly booted host: only Domain-0.
func (h *Host) boot() *hostState {
	id := make([]byte, 16)
	rand.Read(id)
	return &hostState{
		Version: stateVersion, BootID: hex.EncodeToString(id), KernelBootID: h.opts.KernelBootID,
		NextDomID: 1, Dom0MemKiB: h.opts.Host.Dom0MemoryMiB * 1024,
	}
}

// mutate runs fn on the current state under both locks, after applying
// what time has made due, saves the result if anything changed and queues
// the events the change produced. fn reports whether it changed the state.
func (h *Host) mutate(fn func(st *hostState) (bool, error)) error {
	h.mu.Lock()
	defer h.mu.Unlock()
	if err := syscall.Flock(int(h.lockFile.Fd()), syscall.LOCK_EX); err != nil {
		return fmt.Errorf("simulated host lock: %w", err)
	}
	defer syscall.Flock(int(h.lockFile.Fd()), syscall.LOCK_UN)
	h.reads.Add(1)
	st, err := loadState(h.path)
	if err != nil {
		return fmt.Errorf("simulated host: %w", err)
	}
	changed := false
	if st == nil || st.KernelBootID != h.opts.KernelBootID {
		st, changed = h.boot(), true
	}
	now := h.opts.Now()
	for _, g := range st.Guests {
		if g.advance(now) {
			changed = true
		}
	}
	if st.bury(now) {
		changed = true
	}
	fnChanged, ferr := fn(st)
	if changed || fnChanged {
		if err := saveState(h.path, st); err != nil {
			return fmt.Errorf("simulated host: %w", err)
		}
	}
	h.diffLocked(st)
	return ferr
}

// diffLocked queues events for what changed since this Host last looked.
func (h *Host) diffLocked(st *hostState) {
	present := make(map[backend.DomID]bool, len(st.Guests))
	for _, g := range st.Guests {
		present[g.DomID] = true
		was, known := h.seen[g.DomID]
		if g.Shutdown && (!known || !was) {
			h.q.push(backend.Event{Kind: backend.EventShutdown, DomID: g.DomID, UUID: g.UUID, Reason: g.Reason})
		}
		h.seen[g.DomID] = g.Shutdown
	}
	for id := range h.seen {
		if !present[id] {
			delete(h.seen, id)
			h.q.push(backend.Event{Kind: backend.EventDeath, DomID: id})
		}
	}
}

// forget drops id from what this Host reports on, so that its own destroy
// produces no death event.
func (h *Host) forgetLocked(id backend.DomID) { delete(h.seen, id) }

func (h *Host) pollLoop() {
	defer h.stopped.Done()
	t := time.NewTicker(h.opts.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-h.stop:
			return
		case <-t.C:
			if err := h.Poll(); err != nil {
				h.opts.Logger.Warn("simulated host poll failed", "err", err)
			}
		}
	}
}

// Poll brings the host up to date now: due shutdowns and crashes happen
// and changes by other processes are noticed, producing their events.
func (h *Host) Poll() error {
	return h.mutate(func(*hostState) (bool, error) { return false, nil })
}

// Events implements backend.Backend.
func (h *Host) Events() <-chan backend.Event { return h.q.out }

// Close stops polling and the event stream; the guests keep running.
func (h *Host) Close() error {
	h.closeMu.Do(func() {
		close(h.stop)
		h.stopped.Wait()
		h.q.close()
		h.lockFile.Close()
	})
	return nil
}

// Capabilities implements backend.Backend.
func (h *Host) Capabilities() backend.Capabilities {
	return backend.Capabilities{Persistent: true, ACPIShutdown: true, GuestInitiated: true}
}

// eventQueue is an unbounded queue in front of a channel, so that the host
// never blocks on a slow reader.
type eventQueue struct {
	mu     sync.Mutex
	cond   *sync.Cond
	items  []backend.Event
	closed bool
	out    chan backend.Event
	done   chan struct{}
}

func newEventQueue() *eventQueue {
	q := &eventQueue{out: make(chan backend.Event), done: make(chan struct{})}
	q.cond = sync.NewCond(&q.mu)
	go q.pump()
	return q
}

func (q *eventQueue) push(ev backend.Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.items = append(q.items, ev)
		q.cond.Signal()
	}
}

func (q *eventQueue) pump() {
	defer close(q.out)
	for {
		q.mu.Lock()
		for len(q.items) == 0 && !q.closed {
			q.cond.Wait()
		}
		if q.closed {
			q.mu.Unlock()
			return
		}
		ev := q.items[0]
		q.items = q.items[1:]
		q.mu.Unlock()
		select {
		case q.out <- ev:
		case <-q.done:
			return
		}
	}
}

func (q *eventQueue) close() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.closed {
		q.closed = true
		close(q.done)
		q.cond.Broadcast()
	}
}
