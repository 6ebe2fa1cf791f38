package driver

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/job"
	"virtxend/internal/migration"
)

// migratePeer2Peer is a peer-to-peer migration, the whole of it run by
// this daemon (libxlDomainMigrationSrcPerformP2P, libxlDoMigrateSrcP2P):
// Begin here, Prepare on the destination's daemon at dconnuri, the data
// sent directly or through the connection (VIR_MIGRATE_TUNNELLED),
// Finish there and Confirm here.
func (drv *Driver) migratePeer2Peer(ctx context.Context, d *domain, dconnuri string, p migration.Params, flags uint32) error {
	if drv.opts.DialPeer == nil {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainMigratePerform3Params")
	}
	if d.isDom0() {
		return libxlErr(libvirt.ErrOperationInvalid, "Domain-0 cannot be migrated")
	}
	peer, err := drv.opts.DialPeer(ctx, dconnuri)
	if err != nil {
		return err
	}
	defer peer.Close()
	a, err := drv.beginAsync(ctx, d, job.OpMigrationOut)
	if err != nil {
		return err
	}
	xml, cookie, err := drv.beginOutgoing(ctx, d, a, p.DestXML, flags)
	if err != nil {
		a.End(err)
		return err
	}
	out := d.migrationOut()
	d.startSpeed(out, p.Bandwidth)
	dparams := []libvirt.TypedParam{stringParam(libvirt.MigrateParamDestXML, xml)}
	if p.DestName != "" {
		dparams = append(dparams, stringParam(libvirt.MigrateParamDestName, p.DestName))
	}
	if p.URI != "" {
		dparams = append(dparams, stringParam(libvirt.MigrateParamURI, p.URI))
	}
	// The destination need not know it is peer-to-peer.
	destFlags := flags &^ migratePeer2Peer
	prepared, err := drv.sendToPeer(d, out, peer, dparams, cookie, destFlags)
	cancelled := err != nil
	if prepared {
		if p.DestName == "" {
			dparams = append(dparams, stringParam(libvirt.MigrateParamDestName, d.ref().Name))
		}
		out.a.SetPhase("finish3")
		// Finish is not aborted: its answer alone says whether the
		// destination runs the guest, and the source must know before it
		// resumes its own.
		if ferr := peer.Finish(context.WithoutCancel(out.a.Context()), dparams, destFlags, cancelled); ferr != nil && err == nil {
			err, cancelled = ferr, true
		}
	}
	if cerr := drv.confirmOutgoing(d, out, flags, cancelled); cerr != nil && err == nil {
		err = cerr
	}
	return err
}

// sendToPeer prepares the destination and sends the guest's state there;
// prepared says the destination took the domain, so that Finish is due.
func (drv *Driver) sendToPeer(d *domain, out *outgoing, peer MigrationPeer, params []libvirt.TypedParam, cookie []byte, flags uint32) (prepared bool, err error) {
	ctx := out.a.Context()
	out.a.SetPhase("prepare3")
	if flags&migrateTunnelled != 0 {
		tun, err := peer.PrepareTunnel(ctx, params, cookie, flags)
		if err != nil {
			return false, drv.jobFailed(out.a, err, "migration out", "the destination did not prepare the migration")
		}
		return true, drv.sendTunnelled(d, out, tun)
	}
	uri, err := peer.Prepare(ctx, params, cookie, flags)
	if err != nil {
		return false, drv.jobFailed(out.a, err, "migration out", "the destination did not prepare the migration")
	}
	if uri == "" {
		return true, libxlErr(libvirt.ErrInternalError, "domainMigratePrepare3 did not set uri")
	}
	return true, drv.sendDirect(d, out, uri)
}

// sendTunnelled sends the guest's state on the connection's stream
// (libxlMigrationSrcStartTunnel): sendState's pipe feeds it.
func (drv *Driver) sendTunnelled(d *domain, out *outgoing, tun Tunnel) error {
	out.a.SetPhase("perform3")
	// An abort gives the stream up, which ends a write blocked on it,
	// and with it the backend's writes.
	stop := context.AfterFunc(out.a.Context(), tun.Abort)
	defer stop()
	if err := drv.sendState(d, out, tun); err != nil {
		tun.Abort()
		return err
	}
	return tun.Finish()
}

func stringParam(field, value string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueString(value)}
}
