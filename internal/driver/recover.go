package driver

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/store"
)

// recover rebuilds the domain list at start-up, in libvirt's order: live
// status first, Domain-0, reconnection to running guests, then the
// persistent configs.
func (drv *Driver) recover(ctx context.Context) error {
	live, numeric, err := drv.loadStatuses()
	if err != nil {
		return err
	}
	if err := drv.addDom0(ctx); err != nil {
		return err
	}
	guests, err := drv.be.Guests(ctx)
	if err != nil {
		return fmt.Errorf("cannot list guests: %w", err)
	}
	// A dying domain is one being destroyed (Xen lists it until the last
	// of its pages is released): it never runs again, so it is neither
	// reconnected nor adopted.
	guests = slices.DeleteFunc(guests, func(g backend.GuestInfo) bool { return g.State == backend.StateDying })
	byID := map[backend.DomID]backend.GuestInfo{}
	for _, g := range guests {
		byID[g.DomID] = g
	}
	// Guests whose reconnect hook refused them stay unmanaged, as in
	// libvirt: they are not adopted below either.
	refused := map[backend.UUID]bool{}
	for _, d := range live {
		if !drv.reconnect(ctx, d, byID, numeric[d]) {
			refused[d.uuid] = true
		}
	}
	if err := drv.loadConfigs(map[backend.UUID]bool{}); err != nil {
		return err
	}
	drv.loadAllSnapshots()
	drv.adoptOrphans(ctx, slices.DeleteFunc(guests, func(g backend.GuestInfo) bool { return refused[g.UUID] }))
	drv.releaseOrphanHostdevs()
	return nil
}

// loadStatuses reads every status file into an active domain; numeric
// are those read from an earlier virtxend's layout.
func (drv *Driver) loadStatuses() (live []*domain, numeric map[*domain]bool, err error) {
	names, err := store.ListNames(drv.paths.StateDir(), ".xml")
	if err != nil {
		return nil, nil, err
	}
	type read struct {
		st  *statusFile
		def *libvirtxml.Domain
		err error
	}
	reads := inParallel(names, func(name string) read {
		st, def, err := readStatus(drv.statusPath(name))
		return read{st, def, err}
	})
	numeric = map[*domain]bool{}
	for i, name := range names {
		st, def, err := reads[i].st, reads[i].def, reads[i].err
		if err == nil && def.Name != name {
			err = fmt.Errorf("status file %s.xml holds domain %q", name, def.Name)
		}
		var uuid backend.UUID
		if err == nil {
			uuid, err = backend.ParseUUID(def.UUID)
		}
		if err == nil && drv.lookupUUID(uuid) != nil {
			err = fmt.Errorf("unexpected domain %s already exists", name)
		}
		if err != nil || st.id <= 0 {
			drv.log.Error("Failed to load status for domain", "domain", name, "err", err)
			continue
		}
		d := newDomain(def.Name, liveDef(def), uuid)
		d.id, d.state, d.reason = st.id, st.state, st.reason
		d.netPorts = st.ports()
		d.hotplug, d.saving, d.migrating = st.Hotplug, st.Saving, st.Migrating
		d.blockJobRecs = st.BlockJobs
		drv.mu.Lock()
		drv.addLocked(d)
		drv.mu.Unlock()
		live = append(live, d)
		numeric[d] = st.numeric
	}
	return live, numeric, nil
}

// addDom0 adds (or refreshes) Domain-0: id 0, all-zero uuid, persistent,
// running, sized as the hypervisor reports it (libxlAddDom0). Its XML is
// libvirt's for a definition made of nothing but those: PV ("linux"), the
// default vCPU placement, clock and lifecycle actions, no devices. Its
// state reason is "unknown": libvirt adds it as booted, then reconnects to
// it with every running domain (libxlReconnectDomain).
func (drv *Driver) addDom0(ctx context.Context) error {
	info, err := drv.be.Guest(ctx, backend.Dom0)
	if err != nil {
		return fmt.Errorf("unable to get Domain-0 information: %w", err)
	}
	host, err := drv.be.HostInfo(ctx)
	if err != nil {
		return fmt.Errorf("unable to get host information: %w", err)
	}
	maxMem := host.Dom0MaxMemKiB
	if maxMem == 0 {
		maxMem = info.CurrentMemKiB
	}
	def := &libvirtxml.Domain{
		Type: "xen", Name: Dom0Name, UUID: backend.UUID{}.String(),
		Memory:        &libvirtxml.DomainMemory{Value: uint(maxMem), Unit: "KiB"},
		CurrentMemory: &libvirtxml.DomainCurrentMemory{Value: uint(info.CurrentMemKiB), Unit: "KiB"},
		VCPU:          vcpuElem(info.VCPUsMax, info.VCPUsOnline),
		OS:            &libvirtxml.DomainOS{Type: &libvirtxml.DomainOSType{Type: "linux"}},
		Clock:         &libvirtxml.DomainClock{Offset: "utc"},
		OnPoweroff:    "destroy", OnReboot: "destroy", OnCrash: "destroy",
		Devices: &libvirtxml.DomainDeviceList{},
	}
	def.VCPU.Placement = "static"
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if d := drv.byUUID[backend.UUID{}]; d != nil {
		d.mu.Lock()
		d.def = liveDef(def)
		d.mu.Unlock()
		return nil
	}
	d := newDomain(def.Name, liveDef(def), backend.UUID{})
	d.id, d.persistent = 0, true
	d.state, d.reason = libvirt.DomainRunning, int32(libvirt.DomainRunningUnknown)
	drv.addLocked(d)
	return nil
}

// vcpuElem builds <vcpu>, omitting current when all are online as libvirt
// formats it.
func vcpuElem(maxVCPUs, online int) *libvirtxml.DomainVCPU {
	v := &libvirtxml.DomainVCPU{Value: uint(maxVCPUs)}
	if online > 0 && online < maxVCPUs {
		v.Current = uint(online)
	}
	return v
}

// reconnect re-attaches a domain whose status file says it runs
// (libxlReconnectDomain): the guest must still exist with its uuid and be
// ours or libvirt's (started by libvirt's own Xen daemon, which left it
// running for this one). Otherwise it vanished while we were away: clean
// up and report it stopped. A status file in an earlier virtxend's layout
// (numeric) is written anew, in libvirt's. It reports false when the
// reconnect hook refused a guest that runs.
func (drv *Driver) reconnect(ctx context.Context, d *domain, guests map[backend.DomID]backend.GuestInfo, numeric bool) bool {
	s := d.snap()
	g, ok := guests[backend.DomID(s.ref.ID)]
	if !ok || (g.Marker != Marker && g.Marker != backend.LibvirtMarker) || g.UUID != d.uuid {
		drv.log.Info("domain vanished while the daemon was down", "domain", s.ref.Name, "id", s.ref.ID)
		d.setState(libvirt.DomainShutoff, int32(libvirt.DomainShutoffDestroyed))
		ref := s.ref
		drv.cleanup(d)
		drv.emit(ref, libvirt.DomainEventStopped, int32(libvirt.DomainEventStoppedDestroyed))
		drv.forgetTransient(d)
		return true
	}
	g = drv.recoverSave(ctx, d, g)
	g, gone := drv.recoverMigration(ctx, d, g)
	if gone {
		return true
	}
	drv.dropStaleManagedSave(d)
	// A shut-down guest is handled by the shutdown event the backend
	// delivers for it; until then it counts as running.
	switch {
	case d.snap().reason == int32(libvirt.DomainPausedMigration) && d.snap().state == libvirt.DomainPaused:
		// suspended by a migration whose end is unknown (recoverMigration)
	case g.State == backend.StateShutdown && g.ShutdownReason == backend.ReasonSuspend:
		d.setState(libvirt.DomainPmsuspended, int32(libvirt.DomainPmsuspendedUnknown))
	case g.State == backend.StatePaused && s.state != libvirt.DomainPaused:
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUnknown))
	case g.State != backend.StatePaused && s.state != libvirt.DomainRunning:
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningUnknown))
	}
	drv.settleHotplug(ctx, d)
	drv.adoptHostdevs(d)
	drv.holdFor(d)
	drv.reservePorts(d)
	ports := drv.reclaimNetPorts(s.def.parsed(), s.netPorts)
	d.mu.Lock()
	d.netPorts = ports
	d.mu.Unlock()
	drv.nameReconnected(d, s.ref.ID)
	drv.resumeBlockJobs(d)
	// Rewriting a status file that would come out the same costs a
	// format and an fsync a guest: most of a start with 1,000 running.
	if now := d.snap(); !sameStatus(s, now) || numeric {
		if err := drv.writeStatus(now); err != nil {
			drv.log.Warn("Cannot update XML for running Xen guest", "domain", s.ref.Name, "err", err)
		}
	}
	return drv.reconnectHook(d)
}

// forgetTransient removes a domain found stopped at start that has no
// config to keep it (a transient one's status file was all there was).
func (drv *Driver) forgetTransient(d *domain) {
	if s := d.snap(); !s.persistent && !drv.hasConfig(s.ref.Name, d.uuid) {
		drv.remove(d)
	}
}

func (drv *Driver) hasConfig(name string, uuid backend.UUID) bool {
	_, _, u, err := loadSaved(drv.configPath(name))
	return err == nil && u == uuid
}

// loadConfigs reads every persistent config (virDomainObjListLoadAllConfigs
// with live=false). A config whose uuid is known updates that domain;
// loaded reports each domain loaded (for Reload's bookkeeping).
func (drv *Driver) loadConfigs(loaded map[backend.UUID]bool) error {
	names, err := store.ListNames(drv.paths.DomainConfigDir(), ".xml")
	if err != nil {
		return err
	}
	saved := inParallel(names, func(name string) savedConfig {
		var c savedConfig
		path := drv.configPath(name)
		c.def, c.name, c.uuid, c.err = loadSaved(path)
		c.autostart = c.err == nil && store.LinkPointsTo(drv.autostartPath(name), path)
		return c
	})
	for i, name := range names {
		if err := drv.loadConfig(name, saved[i], loaded); err != nil {
			drv.log.Error("Failed to load config for domain", "domain", name, "err", err)
		}
	}
	return nil
}

// savedConfig is what loadSaved read of a config file, and whether its
// autostart link points at it.
type savedConfig struct {
	def       *definition
	name      string
	uuid      backend.UUID
	autostart bool
	err       error
}

func (drv *Driver) loadConfig(name string, c savedConfig, loaded map[backend.UUID]bool) error {
	if c.err != nil {
		return c.err
	}
	if c.name != name {
		return fmt.Errorf("config file %s holds domain %q", drv.configPath(name), c.name)
	}
	def, uuid, autostart := c.def, c.uuid, c.autostart
	drv.mu.Lock()
	d := drv.byUUID[uuid]
	if d == nil {
		if other := drv.byName[name]; other != nil {
			drv.mu.Unlock()
			return fmt.Errorf("domain '%s' already exists with uuid %s", name, other.uuid)
		}
		d = newDomain(name, def, uuid)
		d.persistent, d.autostart = true, autostart
		drv.addLocked(d)
		drv.mu.Unlock()
		loaded[uuid] = true
		return nil
	}
	drv.mu.Unlock()
	// A known domain: update it between its operations.
	if err := drv.beginJob(context.Background(), d); err != nil {
		return err
	}
	defer drv.endJob(d)
	if d.snap().ref.Name != name {
		return drv.keepNewerConfig(d, name, c)
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.activeLocked() {
		d.newDef = def
	} else {
		d.def = def
	}
	d.persistent, d.autostart = true, autostart
	loaded[uuid] = true
	return nil
}

// keepNewerConfig settles a domain's config found under a second name: a
// rename killed between writing the new config and removing the old
// (moveConfig). Of a shut-off domain, the newer config is kept, with its
// autostart link; the other goes, with its own. Anything else is refused
// as libvirt refuses a second config of a known uuid. The caller holds
// d's job.
func (drv *Driver) keepNewerConfig(d *domain, name string, c savedConfig) error {
	s := d.snap()
	if s.active() || !s.persistent {
		return fmt.Errorf("domain '%s' is already defined with uuid %s", s.ref.Name, s.ref.UUID)
	}
	keep, drop := s.ref.Name, name
	if newerFile(drv.configPath(name), drv.configPath(s.ref.Name)) {
		keep, drop = name, s.ref.Name
	}
	if keep == name {
		// the name first: should it be taken, nothing is removed
		if err := drv.claimName(d, name); err != nil {
			return err
		}
	}
	drv.log.Warn("a rename was interrupted: keeping the newer config", "domain", keep, "removed", drop)
	if err := drv.deleteConfig(drop); err != nil {
		drv.releaseName(name, d)
		return err
	}
	if keep == s.ref.Name {
		return nil
	}
	drv.renamed(d, name, c.def)
	d.mu.Lock()
	d.autostart = c.autostart
	d.mu.Unlock()
	return nil
}

// newerFile reports whether a was modified after b.
func newerFile(a, b string) bool {
	fa, errA := os.Stat(a)
	fb, errB := os.Stat(b)
	return errA == nil && errB == nil && fa.ModTime().After(fb.ModTime())
}

// packLoaded deflates the texts of the configs loaded at start (pack.go),
// in the background: before READY it would cost a start with 10,000
// domains a few tenths of a second.
func (drv *Driver) packLoaded() {
	for _, d := range drv.all() {
		select {
		case <-drv.stop:
			return
		default:
		}
		d.mu.Lock()
		def, newDef := d.def, d.newDef
		d.mu.Unlock()
		def.pack()
		newDef.pack()
	}
}

// adoptOrphans handles guests carrying our marker that no status file
// describes: the daemon died between creating one and recording it, so its
// start was never acknowledged. A guest of a persistent domain that has
// run is adopted as it is; any other, or one restored from a managed save
// image that is still there, is destroyed, the start undone.
func (drv *Driver) adoptOrphans(ctx context.Context, guests []backend.GuestInfo) {
	for _, g := range guests {
		if g.DomID == backend.Dom0 || g.Marker != Marker {
			continue
		}
		drv.mu.RLock()
		known, d := drv.byID[int32(g.DomID)] != nil, drv.byUUID[g.UUID]
		drv.mu.RUnlock()
		if known {
			continue
		}
		// A managed save image still there means the start restoring it
		// did not finish (it goes once the guest is recorded): the image
		// is the domain's state, the guest half a start.
		if d == nil || d.snap().active() || d.isDom0() || neverRan(g) || drv.hasManagedSave(d.ref().Name) {
			drv.log.Warn("destroying unrecorded guest", "domid", g.DomID, "name", g.Name)
			if err := drv.be.Destroy(ctx, g.DomID); err != nil {
				drv.log.Warn("cannot destroy unrecorded guest", "domid", g.DomID, "err", err)
			}
			continue
		}
		drv.log.Info("adopting unrecorded guest", "domid", g.DomID, "name", g.Name)
		if err := drv.prepareLiveDef(d); err != nil {
			continue
		}
		drv.setID(d, int32(g.DomID))
		if g.State == backend.StatePaused {
			d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUnknown))
		} else {
			d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningUnknown))
		}
		drv.adoptHostdevs(d)
		drv.holdFor(d)
		if err := drv.writeStatus(d.snap()); err != nil {
			drv.log.Warn("Cannot update XML for running Xen guest", "domain", g.Name, "err", err)
		}
	}
}

// neverRan reports a guest whose start stopped before it was unpaused:
// the backend creates every guest paused and start unpauses it, so such a
// guest is paused with no CPU time. Adopting it would leave paused a
// guest whose client asked it to run (or, with --paused, whose start it
// never saw succeed), a state no start ends in.
func neverRan(g backend.GuestInfo) bool {
	return g.State == backend.StatePaused && g.CPUTime == 0
}

// autostart starts every autostart domain once per host boot: the marker
// file records the boot (libvirt's virDriverShouldAutostart). The marker is
// written first so that a crash mid-way never starts guests twice. An
// empty marker is libvirt's (its daemon only creates the file, in /run,
// which a boot empties): its daemon autostarted this boot's guests before
// it left them to this one.
func (drv *Driver) autostart(ctx context.Context) {
	host, err := drv.be.HostInfo(ctx)
	if err != nil {
		drv.log.Error("cannot read host information for autostart", "err", err)
		return
	}
	marker := drv.paths.AutostartMarker()
	if b, err := os.ReadFile(marker); err == nil {
		if id := strings.TrimSpace(string(b)); id == "" || id == host.BootID {
			return
		}
	}
	if err := store.WriteFile(marker, []byte(host.BootID+"\n"), 0o644); err != nil {
		drv.log.Error("cannot write autostart marker", "path", marker, "err", err)
		return
	}
	for _, d := range drv.all() {
		s := d.snap()
		if !s.autostart || s.active() {
			continue
		}
		if err := drv.beginJob(ctx, d); err != nil {
			continue
		}
		if !d.snap().active() {
			if err := drv.start(ctx, d, false); err != nil {
				drv.log.Error(fmt.Sprintf("Failed to autostart VM '%s': %v", s.ref.Name, err))
			}
		}
		drv.endJob(d)
	}
}

// Reload re-reads persistent configs and autostart links (SIGHUP), as
// libxlStateReload: new configs are added, known ones updated; nothing is
// removed and no event is emitted.
func (drv *Driver) Reload(ctx context.Context) error {
	return drv.loadConfigs(map[backend.UUID]bool{})
}
