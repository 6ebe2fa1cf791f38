package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/caller"
	"virtxend/internal/domxml"
	"virtxend/internal/hostname"
	"virtxend/internal/job"
	"virtxend/internal/migration"
)

// Migration follows libvirt's Xen driver (libxlDomainMigrate*3Params in
// libxl_driver.c, libxl_migration.c): version 3 of the protocol with
// typed parameters, its cookie and flags in internal/migration.

// MigrateBegin is virDomainMigrateBegin3Params on the source
// (libxlDomainMigrateBegin3Params, libxlDomainMigrationSrcBegin): it
// checks that the guest can go and returns the definition the destination
// is to use (the live one, or the destination XML given, which must keep
// the guest's identity) and the cookie naming the guest, this host and
// the stream version. The destination name is Prepare's business.
func (drv *Driver) MigrateBegin(ctx context.Context, dom Domain, params []libvirt.TypedParam, flags uint32) (string, []byte, error) {
	if err := migration.CheckFlags(flags, "libxlDomainMigrateBegin3Params"); err != nil {
		return "", nil, err
	}
	p, err := migration.ParseParams(params)
	if err != nil {
		return "", nil, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return "", nil, err
	}
	if d.isDom0() {
		return "", nil, libxlErr(libvirt.ErrOperationInvalid, "Domain-0 cannot be migrated")
	}
	if !d.snap().active() {
		return "", nil, errNotRunning()
	}
	// The job is held until Confirm ends the migration, or until a
	// failed Perform or the caller's going away does.
	a, err := drv.beginAsync(ctx, d, job.OpMigrationOut)
	if err != nil {
		return "", nil, err
	}
	xml, cookie, err := drv.beginOutgoing(ctx, d, a, p.DestXML, flags)
	if err != nil {
		a.End(err)
		return "", nil, err
	}
	return xml, cookie, nil
}

// beginOutgoing is Begin with d's migration job held: on success d has
// the outgoing migration a runs.
func (drv *Driver) beginOutgoing(ctx context.Context, d *domain, a *job.Async, xmlin string, flags uint32) (string, []byte, error) {
	a.SetPhase("begin3")
	xml, cookie, err := drv.migrateBegin(ctx, d, xmlin)
	if err != nil {
		return "", nil, err
	}
	d.mu.Lock()
	d.outgoing = &outgoing{a: a, flags: flags, owner: caller.From(ctx).Client}
	d.mu.Unlock()
	return xml, cookie, nil
}

// migrateBegin is libxlDomainMigrationSrcBegin, with the domain's job held.
func (drv *Driver) migrateBegin(ctx context.Context, d *domain, xmlin string) (string, []byte, error) {
	s := d.snap()
	// The guest may have stopped while we waited for the job; libvirt
	// would send a stopped guest's definition on.
	if !s.active() {
		return "", nil, errNotRunning()
	}
	// qemuMigrationSrcIsAllowed's rule, libvirt's for a driver with
	// snapshots: their metadata would stay behind, and a revert here
	// would write to disks the guest then runs on elsewhere.
	if n := d.snapshotCount(); n > 0 {
		return "", nil, libxlErr(libvirt.ErrOperationInvalid, "cannot migrate domain with %d snapshots", n)
	}
	if err := noBlockJobs(d); err != nil {
		return "", nil, err
	}
	host, err := drv.hostname(ctx)
	if err != nil {
		return "", nil, err
	}
	cookie := migration.Cookie{Name: s.ref.Name, UUID: s.ref.UUID, Hostname: host, StreamVersion: migration.StreamVersion}
	def, id, ports := s.def.parsed(), s.ref.ID, s.netPorts
	if xmlin != "" {
		tmp, uuid, err := parseDef(xmlin, false)
		if err != nil {
			return "", nil, err
		}
		if err := checkABI(s.def.parsed(), s.ref.UUID, tmp, uuid); err != nil {
			return "", nil, err
		}
		// libvirt parses it as an inactive definition: it has no id,
		// nor the actual devices behind network ports.
		def, id, ports = tmp, -1, nil
	}
	if err := migrationAllowed(def); err != nil {
		return "", nil, err
	}
	xml, err := formatLive(def, id, domxml.FormatSecure, ports)
	if err != nil {
		return "", nil, err
	}
	return xml, cookie.Encode(), nil
}

// migrationAllowed is libxlDomainMigrationIsAllowed: a guest with a host
// device assigned cannot leave its host.
func migrationAllowed(def *libvirtxml.Domain) error {
	if def.Devices != nil && len(def.Devices.Hostdevs) > 0 {
		return libxlErr(libvirt.ErrOperationInvalid, "domain has assigned host devices")
	}
	return nil
}

// hostname is virGetHostname, or the name Options gives.
func (drv *Driver) hostname(ctx context.Context) (string, error) {
	if drv.opts.Hostname != nil {
		return drv.opts.Hostname()
	}
	return hostname.Get(ctx)
}
