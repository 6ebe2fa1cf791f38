package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

// MigrationCallerGone ends the migrations a client left half-way when its
// connection closed, as libvirt's QEMU driver does with its close
// callbacks (qemuMigrationSrcCleanup, qemuMigrationDstPrepareCleanup):
// a destination drops the guest it was receiving or holds paused; a
// source whose guest had not gone yet keeps it running. A source whose
// guest's state went cannot know whether the destination runs it: its
// guest stays suspended (paused, reason migration) for the admin to
// resume or destroy, so that it never runs twice. Peer-to-peer
// migrations run inside one call and end by themselves.
func (drv *Driver) MigrationCallerGone(client uint64) {
	for _, d := range drv.allDomains() {
		d.mu.Lock()
		in, out := d.incoming, d.outgoing
		if in != nil && in.owner == client {
			d.incoming = nil
		} else {
			in = nil
		}
		d.mu.Unlock()
		if in != nil {
			drv.abortIncoming(d, in)
		}
		if out != nil && out.owner == client && out.flags&(migratePeer2Peer|migrateTunnelled) == 0 {
			drv.abandonOutgoing(d, out)
		}
	}
}

// allDomains is every domain object, for a walk outside the list lock.
func (drv *Driver) allDomains() []*domain {
	drv.mu.RLock()
	defer drv.mu.RUnlock()
	all := make([]*domain, 0, len(drv.byUUID))
	for _, d := range drv.byUUID {
		all = append(all, d)
	}
	return all
}

// abortIncoming drops an incoming migration no Finish will end.
func (drv *Driver) abortIncoming(d *domain, in *incoming) {
	drv.log.Warn("the client of an incoming migration went away; dropping the guest", "domain", d.ref().Name)
	in.halt()
	<-in.done
	if in.port != 0 {
		drv.migrationPorts.Release(in.port)
	}
	drv.dropIncoming(context.Background(), d, in)
	drv.endJob(d)
}

// abandonOutgoing ends an outgoing migration no Confirm will end.
func (drv *Driver) abandonOutgoing(d *domain, out *outgoing) {
	if sent, _ := d.sentState(out); sent {
		drv.log.Warn("Migration finished but we don't know if the domain was successfully started on destination or not; it stays paused here",
			"domain", d.ref().Name)
	}
	drv.endOutgoing(d, out, libxlErr(libvirt.ErrOperationFailed, "the migration's client went away"))
}

// resumeSuspended gives the run back to a guest a migration left
// suspended (paused, reason migration, no migration under way): Unpause
// cannot, as the guest is not paused but suspended.
func (drv *Driver) resumeSuspended(ctx context.Context, d *domain, s snapshot) (bool, error) {
	if s.state != libvirt.DomainPaused || s.reason != int32(libvirt.DomainPausedMigration) || d.migrationOut() != nil {
		return false, nil
	}
	if err := drv.resumeGuest(ctx, backend.DomID(s.ref.ID), false); err != nil {
		return false, err
	}
	d.mu.Lock()
	d.migrating = nil
	d.mu.Unlock()
	return true, nil
}
