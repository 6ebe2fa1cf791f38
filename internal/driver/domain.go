package driver

import (
	"context"
	"errors"
	"sync"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/events"
	"virtxend/internal/job"
	dsnap "virtxend/internal/snapshot"
)

// Domain identifies a domain to callers as remote_nonnull_domain does:
// name, uuid and id (-1 when inactive).
type Domain = events.Domain

// Dom0Name is the name libvirt gives the control domain.
const Dom0Name = "Domain-0"

// domain is one domain object. job serialises operations on it (libvirt's
// per-domain job object); mu guards the fields for short reads and writes
// and is never held across a backend call or file write.
type domain struct {
	job job.Object

	mu   sync.Mutex
	uuid backend.UUID
	name string
	// def is the live definition while active, else the persistent one.
	def *definition
	// newDef is the persistent definition while active (nil for a
	// transient domain or an inactive one).
	newDef *definition
	id     int32 // -1 when inactive
	state  libvirt.DomainState
	reason int32
	// stateGen counts the changes of state: a look at the hypervisor
	// taken before the last one is stale (watch.go).
	stateGen   uint64
	persistent bool
	autostart  bool
	updated    bool
	// held: the domain counts toward the running-guest inhibitor.
	held bool
	// consoleServer names the console daemon that gave the live
	// definition's ptys (console_refresh.go); "" when unknown.
	consoleServer string
	// ports are the graphics ports the driver chose for the live
	// definition, returned when the domain stops.
	ports []int
	// netPorts are the network ports of the live definition's interfaces
	// (netports.go), deleted when the domain stops. The map is replaced,
	// never changed.
	netPorts domxml.Ports
	// hotplug is a live disk hotplug under way, which the status file
	// records while the backend acts (devices_inflight.go).
	hotplug *hotplugInFlight
	// saving is the save under way, which the status file records
	// (save.go).
	saving *saveInFlight
	// incoming is the migration the domain is arriving by, between
	// Prepare and Finish (migrate_in.go); outgoing the one it leaves by,
	// between Begin and Confirm (migrate_out.go).
	incoming *incoming
	outgoing *outgoing
	// migSpeed is the most MiB a second its migrations send
	// (migrate_speed.go).
	migSpeed uint64
	// migrating is what the status file records of either
	// (migrate_recover.go).
	migrating *migrationInFlight
	// removed is set once the object left the driver's list; an operation
	// that waited for the job on it then reports "no domain".
	removed bool
	// blockJobs are the block jobs of its disks, by target (blockjob.go);
	// blockJobRecs what the status file records of them
	// (blockjob_status.go), replaced, never changed.
	blockJobs    map[string]*blockJob
	blockJobRecs []blockJobRecord
	// snaps is the domain's snapshot tree (snapshot_meta.go), changed
	// only under the domain's job; nil until its first use
	// (snapshotsLocked).
	snaps *dsnap.Tree
	// xml is the last dumpxml answer. Definitions are never changed in
	// place, so the definition, id and flags it was made from fix its text.
	xml formattedXML
}

// formattedXML is one formatted definition and what it was made from.
type formattedXML struct {
	def   *libvirtxml.Domain
	id    int32
	flags domxml.FormatFlag
	ports domxml.Ports
	text  string
}

// formatCached is formatLive through d's one-entry cache.
func (d *domain) formatCached(def *libvirtxml.Domain, id int32, flags domxml.FormatFlag, ports domxml.Ports) (string, error) {
	key := formattedXML{def: def, id: id, flags: flags, ports: ports}
	d.mu.Lock()
	c := d.xml
	d.mu.Unlock()
	if c.def == key.def && c.id == key.id && c.flags == key.flags && samePorts(c.ports, key.ports) {
		return c.text, nil
	}
	text, err := formatLive(def, id, flags, ports)
	if err != nil {
		return "", err
	}
	key.text = text
	d.mu.Lock()
	d.xml = key
	d.mu.Unlock()
	return text, nil
}

func newDomain(name string, def *definition, uuid backend.UUID) *domain {
	return &domain{
		uuid: uuid, name: name, def: def, id: -1,
		state: libvirt.DomainShutoff, reason: int32(libvirt.DomainShutoffUnknown),
		migSpeed: migrateSpeedMax,
	}
}

// ref returns the public identity; the caller holds d.mu.
func (d *domain) refLocked() Domain {
	return Domain{Name: d.name, UUID: d.uuid, ID: d.id}
}

func (d *domain) ref() Domain {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.refLocked()
}

func (d *domain) activeLocked() bool { return d.id >= 0 }

func (d *domain) isDom0() bool { return d.name == Dom0Name }

// setDefLocked makes def the domain's definition (d.def). saved, when
// def was just written as its config, is kept instead while the domain
// is inactive: d.def is then the persistent definition.
func (d *domain) setDefLocked(def *libvirtxml.Domain, saved *definition) {
	if saved != nil && !d.activeLocked() {
		d.def = saved
		return
	}
	d.def = liveDef(def)
}

// persistentDefLocked is virDomainObjGetPersistentDef: newDef while
// active, def otherwise.
func (d *domain) persistentDefLocked() *libvirtxml.Domain {
	if d.activeLocked() && d.newDef != nil {
		return d.newDef.parsed()
	}
	if !d.persistent {
		return nil
	}
	return d.def.parsed()
}

func (d *domain) setState(state libvirt.DomainState, reason int32) {
	d.mu.Lock()
	d.state, d.reason = state, reason
	d.stateGen++
	d.mu.Unlock()
}

func (d *domain) stateGeneration() uint64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.stateGen
}

// snapshot is a consistent copy of the fields callers read.
type snapshot struct {
	ref       Domain
	def       *definition
	newDef    *definition
	netPorts  domxml.Ports
	hotplug   *hotplugInFlight
	saving    *saveInFlight
	migrating *migrationInFlight
	// blockJobRecs are the block jobs the status file records.
	blockJobRecs []blockJobRecord
	state        libvirt.DomainState
	reason       int32
	persistent   bool
	autostart    bool
	updated      bool
}

func (d *domain) snap() snapshot {
	d.mu.Lock()
	defer d.mu.Unlock()
	return snapshot{
		ref: d.refLocked(), def: d.def, newDef: d.newDef, netPorts: d.netPorts, hotplug: d.hotplug, saving: d.saving, migrating: d.migrating, blockJobRecs: d.blockJobRecs, state: d.state, reason: d.reason,
		persistent: d.persistent, autostart: d.autostart, updated: d.updated,
	}
}

func (s snapshot) active() bool { return s.ref.ID >= 0 }

// beginJob takes the domain's job for a change of its state (a modify
// job); it fails if the wait runs out, the context ends first or the
// domain left the list while we waited.
func (drv *Driver) beginJob(ctx context.Context, d *domain) error {
	return drv.beginJobOf(ctx, d, job.Modify)
}

// beginJobOf takes the domain's job of kind.
func (drv *Driver) beginJobOf(ctx context.Context, d *domain, kind job.Kind) error {
	if err := d.job.Begin(ctx, kind, drv.jobWait()); err != nil {
		var te *job.TimeoutError
		if errors.As(err, &te) {
			drv.log.Warn("Cannot start job for domain; another job holds it",
				"domain", d.ref().Name, "job", kind, "holder", te.Blocker)
			return errJobTimeout(te)
		}
		return err
	}
	d.mu.Lock()
	removed, uuid, name := d.removed, d.uuid, d.name
	d.mu.Unlock()
	if removed {
		d.job.End()
		return errNoDomainUUID(uuid, name)
	}
	return nil
}

// jobWait is how long a call waits for the job in its way.
func (drv *Driver) jobWait() time.Duration {
	if drv.opts.JobWait > 0 {
		return drv.opts.JobWait
	}
	return DefaultJobWait
}

func (drv *Driver) endJob(d *domain) { d.job.End() }
