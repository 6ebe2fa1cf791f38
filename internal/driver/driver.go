// Package driver is the Xen driver: the daemon's domains, their persistence,
// per-domain jobs, lifecycle and events, on top of a backend.Backend. It
// follows libvirt's libxl driver (src/libxl/libxl_driver.c, libxl_domain.c)
// in behaviour, errors and events.
//
// # Calling conventions (for the RPC remote program)
//
// Methods take a context first. Domains are passed by UUID, as libvirt's
// daemon resolves remote_nonnull_domain by uuid alone; the name, when a
// method takes one, only decorates the "no domain" error. Flags are the
// libvirt API's flags, checked as libvirt checks them. Every error is a
// *virerr.Error carrying libvirt's code, domain and message.
//
// # Concurrency
//
// Operations on one domain are serialised by its job lock; different
// domains proceed in parallel. The list lock guards only the name/uuid/id
// indexes and is never held across a backend call or a job wait.
//
// # Durability
//
// Persistent configs live in paths.DomainConfigDir()/NAME.xml, autostart
// links in paths.AutostartDir(), live status of running domains in
// paths.StateDir()/NAME.xml. Every file is written atomically (internal/
// store) before the operation returns, so an acknowledged define, undefine
// or state change survives a kill -9; New recovers from whatever a crash
// left (reconnecting to guests the backend still runs).
package driver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"sync"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/config"
	"virtxend/internal/events"
	"virtxend/internal/hook"
	"virtxend/internal/hostdev"
	"virtxend/internal/migration"
	"virtxend/internal/paths"
	"virtxend/internal/pci"
	"virtxend/internal/qemuimg"
	"virtxend/internal/store"
)

// Marker is stored with every guest this driver starts (the backend's
// userdata), so that after a restart it reconnects to exactly those.
const Marker = "virtxend/libxl-driver/1"

// Options are hooks the daemon passes to the driver.
type Options struct {
	// OnActiveChange is called with the number of running guests
	// (Domain-0 excluded) whenever it changes: the daemon holds a shutdown
	// inhibition (for --timeout) while it is above zero. It must not call
	// back into the driver.
	OnActiveChange func(active int)
	// JobWait is how long an operation waits for another one on the same
	// domain before it fails, as libvirt's LIBXL_JOB_WAIT_TIME; 0 means
	// DefaultJobWait.
	JobWait time.Duration
	// Broker carries the driver's events; nil makes a new one. A caller
	// that subscribes before New sees the events of the recovery too
	// (guests that stopped while no daemon ran).
	Broker *events.Broker
	// WatchInterval is how often the driver looks for guests paused or
	// unpaused behind its back; 0 means DefaultWatchInterval, negative
	// never.
	WatchInterval time.Duration
	// Networks, Storage and Secrets are libvirt's network, storage and
	// secret drivers (libvirtd.go); nil fails what needs them as libvirt
	// fails with no driver for their URI.
	Networks NetworkDriver
	Storage  StorageDriver
	Secrets  SecretDriver
	// NodeDevices is libvirt's node device driver, which names the PCI
	// devices of the node device procedures.
	NodeDevices NodeDevDriver
	// DeviceRemoveTimeout is how long a detach waits for the guest to let
	// the device go before it fails; 0 means DefaultDeviceRemoveTimeout,
	// libxl's. Tests shorten it.
	DeviceRemoveTimeout time.Duration
	// Hostname names this host in migration cookies; nil means libvirt's
	// virGetHostname (internal/hostname). Tests and two daemons on one
	// machine set their own.
	Hostname func() (string, error)
	// DialPeer opens a connection to the destination daemon of a
	// peer-to-peer migration, named by its libvirt URI (dconnuri), as
	// libvirt's virConnectOpenAuth does; nil refuses peer-to-peer
	// migration.
	DialPeer func(ctx context.Context, uri string) (MigrationPeer, error)
	// Hooks are libvirt's hook scripts, of which the driver runs the
	// libxl hook (hooks.go); nil runs none.
	Hooks *hook.Hooks
}

// DefaultJobWait is libvirt's LIBXL_JOB_WAIT_TIME.
const DefaultJobWait = 30 * time.Second

// Driver is the Xen driver. Create it with New; call Close when done.
type Driver struct {
	cfg    *config.Libxl
	paths  paths.Paths
	be     backend.Backend
	log    *slog.Logger
	opts   Options
	broker *events.Broker
	lock   *store.PidFile

	mu     sync.RWMutex // the list lock
	byUUID map[backend.UUID]*domain
	byName map[string]*domain
	byID   map[int32]*domain
	// view is the list in list order (list.go), nil after a change.
	view atomic.Pointer[listView]

	activeMu sync.Mutex
	active   int

	ports portAllocator
	// migrationPorts are the ports incoming migrations listen on.
	migrationPorts *migration.Ports
	// consoles are the console sessions clients have open.
	consoles chrdevs
	// consoled is the backend's console daemon as last named.
	consoled consoledMemo
	// hostCPU is the host CPU decoded from the hypervisor's CPUID words.
	hostCPU hostCPUCache
	// packs are the saved texts to deflate a moment after their define.
	packs pendingPacks
	// images are the disk images' sizes bulk statistics read.
	images imageCache
	// hostdevs keeps the host PCI devices guests use; nil when the
	// backend has no PCI bus.
	hostdevs *hostdev.Manager
	// qemuImg makes and changes the disk images of snapshots.
	qemuImg qemuimg.Tool
	// hooks are libvirt's hook scripts (Options.Hooks).
	hooks *hook.Hooks

	// handlers tracks backend-event handlers so Close can wait for them.
	handlers sync.WaitGroup
	stop     chan struct{}
	loopDone chan struct{}
	closed   sync.Once
}

// ErrAnotherInstance is wrapped by New's error when another driver holds
// the driver lock on the same root.
var ErrAnotherInstance = errors.New("another instance of the libxl driver is running")

// New starts the driver: it takes the driver lock, loads live status and
// persistent configs, reconnects to the guests the backend still runs,
// cleans up those that vanished, and runs autostart once per host boot. The
// driver owns be from then on and closes it in Close.
func New(cfg *config.Libxl, p paths.Paths, be backend.Backend, log *slog.Logger, opts Options) (*Driver, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	drv := &Driver{
		cfg: cfg, paths: p, be: be, log: log, opts: opts, broker: opts.Broker, hooks: opts.Hooks,
		byUUID: map[backend.UUID]*domain{}, byName: map[string]*domain{}, byID: map[int32]*domain{},
		stop: make(chan struct{}), loopDone: make(chan struct{}),
	}
	drv.ports.probe = be.Capabilities().LocalDeviceModels
	drv.migrationPorts = &migration.Ports{Min: cfg.MigrationPortMin, Max: cfg.MigrationPortMax}
	if drv.broker == nil {
		drv.broker = events.NewBroker()
	}
	if err := drv.makeDirs(); err != nil {
		return nil, err
	}
	lock, err := store.AcquirePidFile(p.DriverLock(), os.Getpid())
	if errors.Is(err, store.ErrLocked) {
		return nil, fmt.Errorf("%w: cannot lock %s", ErrAnotherInstance, p.DriverLock())
	}
	if err != nil {
		return nil, fmt.Errorf("libxl driver lock: %w", err)
	}
	drv.lock = lock
	if h, ok := be.(backend.PCIHost); ok {
		drv.hostdevs = hostdev.New(pci.Host{Bus: h.PCIBus(), Log: log}, p.HostdevState(), log)
	}
	// Only the lock holder may clean up: another daemon's temp files are
	// writes in flight.
	if err := drv.cleanTemp(); err != nil {
		lock.Release()
		return nil, err
	}
	ctx := context.Background()
	if err := drv.recover(ctx); err != nil {
		lock.Release()
		return nil, err
	}
	go drv.eventLoop()
	if w := opts.WatchInterval; w >= 0 {
		if w == 0 {
			w = DefaultWatchInterval
		}
		drv.handlers.Add(1)
		go drv.watchLoop(w)
	}
	drv.autostart(ctx)
	// Two pieces of the start run in the background, side by side: the
	// texts of the configs read are packed, and the host CPU is decoded
	// from its CPUID words once, so the first client asking for the
	// capabilities (every virt-manager and virt-install) does not wait for
	// it. Their garbage and the start's (every config read, CPU models
	// parsed) is several times what stays: once both are done it is given
	// back, rather than kept resident until the scavenger gets to it
	// (1.8 MB of the 7 MB anonymous memory of an idle daemon).
	var background sync.WaitGroup
	background.Add(2)
	go func() {
		defer background.Done()
		drv.packLoaded()
	}()
	go func() {
		defer background.Done()
		if _, _, err := drv.HostCPU(ctx); err != nil {
			drv.log.Debug("cannot decode the host CPU yet", "err", err)
		}
	}()
	drv.handlers.Add(1)
	go func() {
		defer drv.handlers.Done()
		background.Wait()
		debug.FreeOSMemory()
	}()
	return drv, nil
}

func (drv *Driver) dirs() []string {
	return []string{
		drv.paths.StateDir(), drv.paths.DomainConfigDir(), drv.paths.AutostartDir(),
		drv.paths.LibDir(), drv.paths.SaveDir(), drv.paths.DumpDir(),
	}
}

func (drv *Driver) makeDirs() error {
	for _, dir := range drv.dirs() {
		if err := store.MkdirAll(dir, 0o755); err != nil {
			return fmt.Errorf("failed to create directory '%s': %w", dir, err)
		}
	}
	return nil
}

// cleanTemp removes what a killed driver left behind: temporary files, and
// the autostart link of an undefine killed half-way.
func (drv *Driver) cleanTemp() error {
	for _, dir := range drv.dirs() {
		if err := store.CleanTemp(dir); err != nil {
			return err
		}
	}
	return drv.removeStaleLinks()
}

// Close stops event handling, releases the driver lock and closes the
// backend. Guests keep running: the next driver reconnects to them.
func (drv *Driver) Close() error {
	drv.closed.Do(func() {
		close(drv.stop)
		<-drv.loopDone
		drv.handlers.Wait()
		drv.broker.Close()
		drv.be.Close()
		drv.lock.Release()
	})
	return nil
}

// Events is the event broker clients subscribe to.
func (drv *Driver) Events() *events.Broker { return drv.broker }

// Backend returns the hypervisor backend (for host capabilities).
func (drv *Driver) Backend() backend.Backend { return drv.be }

// Active returns how many guests run (Domain-0 excluded).
func (drv *Driver) Active() int {
	drv.activeMu.Lock()
	defer drv.activeMu.Unlock()
	return drv.active
}

// hold and release count running guests, as libvirt's virInhibitor does.
func (drv *Driver) hold()    { drv.adjustActive(1) }
func (drv *Driver) release() { drv.adjustActive(-1) }

func (drv *Driver) adjustActive(delta int) {
	drv.activeMu.Lock()
	defer drv.activeMu.Unlock()
	drv.active += delta
	if drv.opts.OnActiveChange != nil {
		drv.opts.OnActiveChange(drv.active)
	}
}

// emit publishes a lifecycle event about d.
func (drv *Driver) emit(ref Domain, ev libvirt.DomainEventType, detail int32) {
	drv.broker.Publish(events.NewLifecycle(ref, ev, detail))
}

// find resolves a client's domain as libxlDomObjFromDomain does: by uuid
// alone; the client's name for it only goes into the "no domain" error.
func (drv *Driver) find(dom Domain) (*domain, error) {
	drv.mu.RLock()
	d := drv.byUUID[dom.UUID]
	drv.mu.RUnlock()
	if d == nil {
		return nil, errNoDomainUUID(dom.UUID, dom.Name)
	}
	return d, nil
}

// findNonDom0 is find for the calls Domain-0 refuses, because the host's
// own domain cannot be stopped, saved or changed as a guest is.
func (drv *Driver) findNonDom0(dom Domain) (*domain, error) {
	d, err := drv.find(dom)
	if err != nil {
		return nil, err
	}
	if d.isDom0() {
		return nil, errDom0()
	}
	return d, nil
}

func (drv *Driver) lookupUUID(uuid backend.UUID) *domain {
	drv.mu.RLock()
	defer drv.mu.RUnlock()
	return drv.byUUID[uuid]
}

// findForJob finds the domain and takes its job.
func (drv *Driver) findForJob(ctx context.Context, dom Domain) (*domain, error) {
	d, err := drv.find(dom)
	if err != nil {
		return nil, err
	}
	if err := drv.beginJob(ctx, d); err != nil {
		return nil, err
	}
	return d, nil
}

// addLocked indexes d; the caller holds drv.mu.
func (drv *Driver) addLocked(d *domain) {
	drv.byUUID[d.uuid] = d
	drv.byName[d.name] = d
	if d.id >= 0 {
		drv.byID[d.id] = d
	}
	drv.invalidateList()
}

// remove drops d from the list; operations waiting for its job then fail.
// Its snapshot metadata goes with it, directory and all, as libvirt's
// qemuDomainRemoveInactive drops it: a transient domain's, or an
// undefined one's (the undefine checked it may). A directory left by a
// domain whose snapshots were all deleted goes too.
func (drv *Driver) remove(d *domain) {
	if err := drv.dropSnapshotMetadata(d); err != nil {
		drv.log.Warn("cannot remove snapshot metadata", "domain", d.ref().Name, "err", err)
	}
	drv.mu.Lock()
	defer drv.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if drv.byUUID[d.uuid] == d {
		delete(drv.byUUID, d.uuid)
		delete(drv.byName, d.name)
	}
	if d.id >= 0 && drv.byID[d.id] == d {
		delete(drv.byID, d.id)
	}
	d.removed = true
	drv.invalidateList()
}

// setID changes d's domid and the id index together.
func (drv *Driver) setID(d *domain, id int32) {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.id >= 0 && drv.byID[d.id] == d {
		delete(drv.byID, d.id)
	}
	d.id = id
	if id >= 0 && !d.removed {
		drv.byID[id] = d
	}
	drv.invalidateList()
}
