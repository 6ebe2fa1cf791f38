package driver

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/hook"
	"virtxend/internal/job"
	"virtxend/internal/libxltypes"
)

// parseDef parses and validates a client's XML (domxml fills defaults) and
// returns it with its uuid. With schema set (the VALIDATE flags), content
// libvirt's schema does not know is refused first, as libvirt does.
func parseDef(xml string, schema bool) (*libvirtxml.Domain, backend.UUID, error) {
	if schema {
		if err := domxml.ValidateSchema(xml); err != nil {
			return nil, backend.UUID{}, err
		}
	}
	def, err := domxml.Parse(xml)
	if err != nil {
		return nil, backend.UUID{}, err
	}
	if def.Name == "" {
		return nil, backend.UUID{}, domainErr(libvirt.ErrXMLError, "missing name information")
	}
	if strings.ContainsRune(def.Name, '/') {
		return nil, backend.UUID{}, domainErr(libvirt.ErrXMLError, "name %s cannot contain '/'", def.Name)
	}
	if def.UUID == "" {
		def.UUID = newUUID().String()
	}
	uuid, err := backend.ParseUUID(def.UUID)
	if err != nil {
		return nil, backend.UUID{}, domainErr(libvirt.ErrInternalError, "malformed uuid element")
	}
	def.UUID = uuid.String()
	return def, uuid, nil
}

// addOrFind is virDomainObjListAdd's identity check under the list lock:
// a known uuid must keep its name, a new uuid must not reuse a name. A new
// domain is indexed with its job already held by the caller.
func (drv *Driver) addOrFind(ctx context.Context, def *libvirtxml.Domain, uuid backend.UUID) (d *domain, created bool, err error) {
	drv.mu.Lock()
	defer drv.mu.Unlock()
	if d := drv.byUUID[uuid]; d != nil {
		if d.name != def.Name {
			return nil, false, domainErr(libvirt.ErrOperationFailed,
				"domain '%s' is already defined with uuid %s", d.name, uuid)
		}
		return d, false, nil
	}
	if other := drv.byName[def.Name]; other != nil {
		return nil, false, domainErr(libvirt.ErrOperationFailed,
			"domain '%s' already exists with uuid %s", def.Name, other.uuid)
	}
	d = newDomain(def.Name, liveDef(def), uuid)
	d.job.Begin(ctx, job.Modify, 0) // a new object's job is free
	drv.addLocked(d)
	return d, true, nil
}

// Define defines or updates a persistent domain (virDomainDefineXMLFlags;
// flags: VIR_DOMAIN_DEFINE_VALIDATE). The config is on disk before it
// returns; DEFINED/ADDED or DEFINED/UPDATED follows.
func (drv *Driver) Define(ctx context.Context, xml string, flags uint32) (Domain, error) {
	validate := uint32(libvirt.DomainDefineValidate)
	if err := checkFlags(flags, validate, "libxlDomainDefineXMLFlags"); err != nil {
		return Domain{}, err
	}
	def, uuid, err := parseDef(xml, flags&validate != 0)
	if err != nil {
		return Domain{}, err
	}
	if err := checkNameNewline(def.Name); err != nil {
		return Domain{}, err
	}
	for {
		d, created, err := drv.addOrFind(ctx, def, uuid)
		if err != nil {
			return Domain{}, err
		}
		if created {
			return drv.defineNew(d, def)
		}
		if err := drv.beginJob(ctx, d); err != nil {
			if ctx.Err() != nil {
				return Domain{}, err
			}
			continue // undefined while we waited: define afresh
		}
		return drv.defineExisting(d, def)
	}
}

// checkNameNewline refuses a name holding a newline, as libvirt's parser
// does (virXMLCheckIllegalChars): a config with one would not load.
func checkNameNewline(name string) error {
	if strings.ContainsRune(name, '\n') {
		return domainErr(libvirt.ErrXMLDetail, "invalid char in name: \n")
	}
	return nil
}

func (drv *Driver) defineNew(d *domain, def *libvirtxml.Domain) (Domain, error) {
	defer drv.endJob(d)
	d.mu.Lock()
	d.persistent = true
	d.mu.Unlock()
	saved, err := drv.writeConfig(def)
	if err != nil {
		drv.remove(d)
		return Domain{}, err
	}
	d.mu.Lock()
	d.def = saved
	d.mu.Unlock()
	ref := d.ref()
	drv.emit(ref, libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedAdded))
	return ref, nil
}

func (drv *Driver) defineExisting(d *domain, def *libvirtxml.Domain) (Domain, error) {
	defer drv.endJob(d)
	saved, err := drv.writeConfig(def)
	if err != nil {
		return Domain{}, err
	}
	d.mu.Lock()
	hadConfig := d.persistent
	if d.activeLocked() {
		d.newDef = saved
	} else {
		d.def = saved
	}
	d.persistent = true
	ref := d.refLocked()
	d.mu.Unlock()
	detail := libvirt.DomainEventDefinedAdded
	if hadConfig {
		detail = libvirt.DomainEventDefinedUpdated
	}
	drv.emit(ref, libvirt.DomainEventDefined, int32(detail))
	return ref, nil
}

// Undefine removes a persistent config (virDomainUndefineFlags; flags:
// VIR_DOMAIN_UNDEFINE_MANAGED_SAVE). A running domain becomes transient.
func (drv *Driver) Undefine(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, uint32(libvirt.DomainUndefineManagedSave|libvirt.DomainUndefineSnapshotsMetadata), "libxlDomainUndefineFlags"); err != nil {
		return err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if !s.persistent {
		return libxlErr(libvirt.ErrOperationInvalid, "cannot undefine transient domain")
	}
	if err := drv.checkUndefineSnapshots(d, s, flags); err != nil {
		return err
	}
	if drv.hasManagedSave(s.ref.Name) {
		if flags&uint32(libvirt.DomainUndefineManagedSave) == 0 {
			return libxlErr(libvirt.ErrOperationInvalid, "Refusing to undefine while domain managed save image exists")
		}
		if err := os.Remove(drv.managedSavePath(s.ref.Name)); err != nil {
			return libxlFailed(err, "Failed to remove domain managed save image")
		}
	}
	if err := drv.deleteConfig(s.ref.Name); err != nil {
		return err
	}
	if s.active() {
		d.mu.Lock()
		d.persistent, d.autostart, d.newDef = false, false, nil
		d.mu.Unlock()
	} else {
		drv.remove(d)
	}
	drv.emit(s.ref, libvirt.DomainEventUndefined, int32(libvirt.DomainEventUndefinedRemoved))
	return nil
}

// Create starts a defined domain (virDomainCreateWithFlags; flags:
// VIR_DOMAIN_START_PAUSED; and as libvirt's QEMU driver, which its Xen
// driver refuses: _BYPASS_CACHE for the restore of a managed save image,
// _FORCE_BOOT to discard that image and boot) and returns it with its new
// id.
func (drv *Driver) Create(ctx context.Context, dom Domain, flags uint32) (Domain, error) {
	paused, bypass, force := uint32(libvirt.DomainStartPaused), uint32(libvirt.DomainStartBypassCache), uint32(libvirt.DomainStartForceBoot)
	if err := checkFlags(flags, paused|bypass|force, "libxlDomainCreateWithFlags"); err != nil {
		return Domain{}, err
	}
	d, err := drv.findForJob(ctx, dom)
	if err != nil {
		return Domain{}, err
	}
	defer drv.awaitConsoles(ctx, d) // once the job is over: recording takes it
	defer drv.endJob(d)
	if d.snap().active() {
		return Domain{}, libxlErr(libvirt.ErrOperationInvalid, "Domain is already running")
	}
	if flags&force != 0 {
		if err := drv.removeManagedSave(d); err != nil {
			return Domain{}, err
		}
	}
	if err := drv.start(ctx, d, flags&paused != 0); err != nil {
		return Domain{}, err
	}
	return d.ref(), nil
}

// CreateXML starts a transient domain from XML (virDomainCreateXML; flags:
// VIR_DOMAIN_START_PAUSED, VIR_DOMAIN_START_VALIDATE). XML naming a defined,
// inactive domain starts that domain with this definition as its live one.
func (drv *Driver) CreateXML(ctx context.Context, xml string, flags uint32) (Domain, error) {
	paused, validate := uint32(libvirt.DomainStartPaused), uint32(libvirt.DomainStartValidate)
	if err := checkFlags(flags, paused|validate, "libxlDomainCreateXML"); err != nil {
		return Domain{}, err
	}
	def, uuid, err := parseDef(xml, flags&validate != 0)
	if err != nil {
		return Domain{}, err
	}
	d, created, err := drv.addOrFind(ctx, def, uuid)
	if err != nil {
		return Domain{}, err
	}
	if !created {
		if err := drv.adoptLiveDef(ctx, d, def); err != nil {
			return Domain{}, err
		}
	}
	defer drv.awaitConsoles(ctx, d) // once the job is over: recording takes it
	defer drv.endJob(d)
	if err := drv.start(ctx, d, flags&paused != 0); err != nil {
		if !d.snap().persistent {
			drv.remove(d)
		}
		return Domain{}, err
	}
	return d.ref(), nil
}

// adoptLiveDef makes def the live definition of an inactive persistent
// domain (VIR_DOMAIN_OBJ_LIST_ADD_LIVE | CHECK_LIVE); on success the
// caller holds d's job.
func (drv *Driver) adoptLiveDef(ctx context.Context, d *domain, def *libvirtxml.Domain) error {
	s := d.snap()
	if s.active() {
		return domainErr(libvirt.ErrOperationInvalid, "domain '%s' is already active", s.ref.Name)
	}
	if !s.persistent {
		return domainErr(libvirt.ErrOperationInvalid, "domain '%s' is already being started", s.ref.Name)
	}
	if err := drv.beginJob(ctx, d); err != nil {
		return err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.activeLocked() {
		drv.endJob(d)
		return domainErr(libvirt.ErrOperationInvalid, "domain '%s' is already active", d.name)
	}
	if d.newDef == nil {
		d.newDef = d.def
	}
	d.def = liveDef(def)
	return nil
}

// prepareLiveDef gives a persistent domain a live definition of its own
// (virDomainObjSetDefTransient); newDef keeps the persistent one.
func (drv *Driver) prepareLiveDef(d *domain) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	if !d.persistent || d.newDef != nil {
		return nil
	}
	if err := d.def.parseErr(); err != nil {
		return libxlErr(libvirt.ErrInternalError, "cannot parse the config of domain '%s': %v", d.name, err)
	}
	d.newDef, d.def = d.def, liveDef(domxml.Copy(d.def.parsed()))
	return nil
}

// restoreDefs drops the live definition (virDomainObjRemoveTransientDef).
func (d *domain) restoreDefs() {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.newDef != nil {
		d.def, d.newDef = d.newDef, nil
	}
	d.updated = false
	// The live view's text would keep the live definition.
	d.xml = formattedXML{}
}

// start boots an inactive domain, or restores it from its managed save
// image when it has one (libxlDomainStartNew); the caller holds its job.
// The image is removed once the guest runs from it.
func (drv *Driver) start(ctx context.Context, d *domain, paused bool) error {
	img, err := drv.managedImage(d)
	if err != nil {
		return err
	}
	if img == nil {
		return drv.boot(ctx, d, paused, nil)
	}
	defer img.Close()
	if err := drv.boot(ctx, d, paused || img.paused, img); err != nil {
		return err
	}
	if err := os.Remove(img.f.Name()); err != nil {
		drv.log.Warn("Failed to remove the managed state", "path", img.f.Name(), "err", err)
	}
	return nil
}

// boot creates the guest of an inactive domain, from img when set (a
// restore); the caller holds its job. The definition is translated once,
// the memory made free and checked once, then the backend creates the
// guest from the translation. The status file is on disk before it
// returns.
func (drv *Driver) boot(ctx context.Context, d *domain, paused bool, img *image) error {
	if err := drv.prepareLiveDef(d); err != nil {
		return err
	}
	if img.restores() {
		drv.useImageDef(d, img)
	}
	if err := drv.runHook(d, hookPrepare, hook.Begin); err != nil {
		drv.dropLiveDef(d)
		return err
	}
	vols, err := drv.prepareDevices(ctx, d)
	if err != nil {
		drv.dropLiveDef(d)
		return err
	}
	if err := drv.prepareHostdevs(d); err != nil {
		drv.dropLiveDef(d)
		return err
	}
	cfg, host, err := drv.buildConfig(ctx, d, vols)
	if err == nil {
		err = drv.prepareUSB(d.ref().Name, cfg.USBDevs)
	}
	if err != nil {
		drv.endLive(d)
		return err
	}
	def := d.snap().def.parsed()
	if err := drv.ensureMemory(ctx, def.Name, cfg, host); err != nil {
		drv.endLive(d)
		return err
	}
	if err := drv.runHook(d, hookStart, hook.Begin); err != nil {
		drv.endLive(d)
		return err
	}
	opts := backend.CreateOptions{Paused: true, Marker: Marker, Metadata: metadataXML(def)}
	id, err := drv.create(ctx, cfg, opts, img)
	if err != nil {
		drv.log.Error("guest creation failed", "domain", def.Name, "err", err)
		drv.endLive(d)
		if img.restores() {
			return libxlErr(libvirt.ErrInternalError, "libxenlight failed to restore domain '%s'", def.Name)
		}
		return errCreate(def.Name)
	}
	drv.setID(d, int32(id))
	drv.nameDevices(d, int32(id), cfg)
	if err := drv.applyDiskThrottles(ctx, d); err != nil {
		drv.abortBoot(ctx, d, id)
		return err
	}
	if paused {
		d.setState(libvirt.DomainPaused, img.pausedReason())
	} else {
		if err := drv.be.Unpause(ctx, id); err != nil {
			drv.log.Warn("cannot unpause new guest", "domain", def.Name, "err", err)
		}
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningBooted))
	}
	drv.recordConsoles(d, int32(id))
	if err := drv.writeStatus(d.snap()); err != nil {
		drv.abortBoot(ctx, d, id)
		return err
	}
	if err := drv.runHook(d, hookStarted, hook.Begin); err != nil {
		drv.abortBoot(ctx, d, id)
		drv.removeStatus(d.ref().Name)
		return err
	}
	d.mu.Lock()
	d.updated = false
	d.mu.Unlock()
	drv.holdFor(d)
	drv.emit(d.ref(), libvirt.DomainEventStarted, int32(img.startedDetail()))
	return nil
}

// abortBoot destroys the guest boot created, whose start failed after.
func (drv *Driver) abortBoot(ctx context.Context, d *domain, id backend.DomID) {
	drv.be.Destroy(ctx, id)
	d.setState(libvirt.DomainShutoff, int32(libvirt.DomainShutoffFailed))
	drv.endLive(d)
}

// create has the backend create the guest of cfg, or restore it from img.
func (drv *Driver) create(ctx context.Context, cfg *libxltypes.DomainConfig, opts backend.CreateOptions, img *image) (backend.DomID, error) {
	if !img.restores() {
		return drv.be.Create(ctx, cfg, opts)
	}
	saver, ok := drv.be.(backend.Saver)
	if !ok {
		return 0, fmt.Errorf("%w: restore", backend.ErrUnsupported)
	}
	return saver.Restore(ctx, cfg, opts, img.f, img.hdr.Version)
}

// holdFor counts d as running once (the inhibitor), releaseFor undoes it.
func (drv *Driver) holdFor(d *domain) {
	d.mu.Lock()
	already := d.held
	d.held = true
	d.mu.Unlock()
	if !already {
		drv.hold()
	}
}

func (drv *Driver) releaseFor(d *domain) {
	d.mu.Lock()
	was := d.held
	d.held = false
	d.mu.Unlock()
	if was {
		drv.release()
	}
}

// cleanup is libxlDomainCleanup for a domain that stopped: no id, no
// status file, persistent definition back in place.
func (drv *Driver) cleanup(d *domain) {
	drv.logHook(d, hookStopped, hook.End)
	drv.setID(d, -1)
	drv.releaseFor(d)
	drv.removeStatus(d.ref().Name)
	drv.releaseLive(d)
}

// dropLiveDef ends a live definition: its graphics ports go back to the
// allocator, its PCI devices to the host, its network ports are deleted
// and the persistent definition returns.
func (drv *Driver) dropLiveDef(d *domain) {
	drv.releasePorts(d)
	d.mu.Lock()
	def, ports := d.def.parsed(), d.netPorts
	d.netPorts = nil
	d.mu.Unlock()
	drv.releaseHostdevs(d.ref().Name, def)
	drv.releaseNetPorts(def, ports)
	d.restoreDefs()
	// A transient domain keeps its live definition for its next run, but
	// not the names of this run's interfaces.
	d.mu.Lock()
	kept := d.def
	d.mu.Unlock()
	if !kept.saved() && hasGeneratedIfnames(kept.parsed()) {
		drv.editLive(d, domxml.DropGeneratedIfnames)
	}
}

// domainForOp finds a domain, refuses Domain-0 (LIBXL_CHECK_DOM0_GOTO)
// and takes the job; the domain must be active.
func (drv *Driver) activeNonDom0(ctx context.Context, dom Domain, kind job.Kind) (*domain, error) {
	d, err := drv.findNonDom0(dom)
	if err != nil {
		return nil, err
	}
	if err := drv.beginJobOf(ctx, d, kind); err != nil {
		return nil, err
	}
	if !d.snap().active() {
		drv.endJob(d)
		return nil, errNotRunning()
	}
	return d, nil
}

// Shutdown asks the guest to shut down (virDomainShutdownFlags; flags:
// VIR_DOMAIN_SHUTDOWN_ACPI_POWER_BTN, _PARAVIRT; 0 means both). It returns
// once the request is delivered; STOPPED/SHUTDOWN follows when the guest
// acts.
func (drv *Driver) Shutdown(ctx context.Context, dom Domain, flags uint32) error {
	acpi, pv := uint32(libvirt.DomainShutdownAcpiPowerBtn), uint32(libvirt.DomainShutdownParavirt)
	if err := checkFlags(flags, acpi|pv, "libxlDomainShutdownFlags"); err != nil {
		return err
	}
	if flags == 0 {
		flags = acpi | pv
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	id := d.ref().ID
	if flags&pv != 0 {
		if err = drv.be.Shutdown(ctx, backend.DomID(id), backend.ShutdownParavirt); err == nil {
			return nil
		}
	}
	if flags&acpi != 0 && drv.be.Capabilities().ACPIShutdown {
		if err = drv.be.Shutdown(ctx, backend.DomID(id), backend.ShutdownACPI); err == nil {
			return nil
		}
	}
	drv.log.Error("shutdown failed", "id", id, "err", err)
	return libxlFailed(err, "Failed to shutdown domain '%d' with libxenlight", id)
}

// Reboot asks the guest to reboot (virDomainReboot; flags:
// VIR_DOMAIN_REBOOT_PARAVIRT). The guest then shuts down for reboot and
// on_reboot decides what follows.
func (drv *Driver) Reboot(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, uint32(libvirt.DomainRebootParavirt), "libxlDomainReboot"); err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	id := d.ref().ID
	if err := drv.be.Reboot(ctx, backend.DomID(id)); err != nil {
		drv.log.Error("reboot failed", "id", id, "err", err)
		return libxlFailed(err, "Failed to reboot domain '%d' with libxenlight", id)
	}
	return nil
}

// Destroy kills the guest at once (virDomainDestroyFlags; no flags).
func (drv *Driver) Destroy(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainDestroyFlags"); err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Destroy)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	id := d.ref().ID
	if err := drv.be.Destroy(ctx, backend.DomID(id)); err != nil && !errors.Is(err, backend.ErrNoGuest) {
		drv.log.Error("destroy failed", "id", id, "err", err)
		return libxlFailed(err, "Failed to destroy domain '%d'", id)
	}
	drv.stopped(d, int32(libvirt.DomainShutoffDestroyed), int32(libvirt.DomainEventStoppedDestroyed))
	return nil
}

// stopped records that d's guest is gone: shutoff state, cleanup, removal
// of a transient domain, then the STOPPED event with the old id.
func (drv *Driver) stopped(d *domain, reason, detail int32) {
	d.setState(libvirt.DomainShutoff, reason)
	ref := d.ref()
	drv.cleanup(d)
	if !d.snap().persistent {
		drv.remove(d)
	}
	drv.emit(ref, libvirt.DomainEventStopped, detail)
}

// Suspend pauses the guest (virDomainSuspend).
func (drv *Driver) Suspend(ctx context.Context, dom Domain) error {
	d, err := drv.activeNonDom0(ctx, dom, job.Suspend)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if s.state != libvirt.DomainPaused {
		if err := drv.be.Pause(ctx, backend.DomID(s.ref.ID)); err != nil {
			return libxlFailed(err, "Failed to suspend domain '%d' with libxenlight", s.ref.ID)
		}
		d.setState(libvirt.DomainPaused, int32(libvirt.DomainPausedUser))
		defer drv.emit(s.ref, libvirt.DomainEventSuspended, int32(libvirt.DomainEventSuspendedPaused))
	}
	return drv.writeStatus(d.snap())
}

// Resume unpauses the guest (virDomainResume).
func (drv *Driver) Resume(ctx context.Context, dom Domain) error {
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if s.state == libvirt.DomainPaused {
		resumed, err := drv.resumeSuspended(ctx, d, s)
		if err == nil && !resumed {
			err = drv.be.Unpause(ctx, backend.DomID(s.ref.ID))
		}
		if err != nil {
			return libxlFailed(err, "Failed to resume domain '%d' with libxenlight", s.ref.ID)
		}
		d.setState(libvirt.DomainRunning, int32(libvirt.DomainRunningUnpaused))
		defer drv.emit(s.ref, libvirt.DomainEventResumed, int32(libvirt.DomainEventResumedUnpaused))
	}
	return drv.writeStatus(d.snap())
}

// InjectNMI sends the guest an NMI (virDomainInjectNMI; flags: none), which
// libvirt's libxl driver lacks, as libvirt's QEMU driver does for a running
// guest (qemuDomainInjectNMI); xl trigger DOMID nmi does the same. Domain-0
// is refused: the NMI would reach the host's own kernel.
func (drv *Driver) InjectNMI(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainInjectNMI"); err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	id := d.snap().ref.ID
	if err := drv.be.InjectNMI(ctx, backend.DomID(id)); err != nil {
		return libxlFailed(err, "Failed to inject NMI to domain '%d' with libxenlight", id)
	}
	return nil
}

// Reset restarts the guest at once, without its OS's part (virDomainReset;
// flags: none), which libvirt's libxl driver lacks. Xen cannot reset a
// domain in place (XEN_DOMCTL_SENDTRIGGER_RESET is not implemented on x86:
// `xl trigger DOMAIN reset` fails), so the guest is destroyed and booted
// again, as libxl restarts a guest that rebooted: from the persistent
// definition, with a new id, STOPPED/DESTROYED then STARTED/BOOTED. A
// paused guest comes back paused, as QEMU's system_reset leaves it.
func (drv *Driver) Reset(ctx context.Context, dom Domain, flags uint32) error {
	if err := checkFlags(flags, 0, "libxlDomainReset"); err != nil {
		return err
	}
	d, err := drv.activeNonDom0(ctx, dom, job.Modify)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	if err := drv.be.Destroy(ctx, backend.DomID(s.ref.ID)); err != nil && !errors.Is(err, backend.ErrNoGuest) {
		drv.log.Error("reset failed", "id", s.ref.ID, "err", err)
		return libxlFailed(err, "Failed to reset domain '%d'", s.ref.ID)
	}
	d.setState(libvirt.DomainShutoff, int32(libvirt.DomainShutoffDestroyed))
	drv.cleanup(d)
	drv.emit(s.ref, libvirt.DomainEventStopped, int32(libvirt.DomainEventStoppedDestroyed))
	if err := drv.start(ctx, d, s.state == libvirt.DomainPaused); err != nil {
		drv.log.Error(fmt.Sprintf("Failed to restart VM '%s' after reset: %v", s.ref.Name, err))
		if !s.persistent {
			drv.remove(d)
		}
		return err
	}
	return nil
}
