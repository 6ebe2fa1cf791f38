// Package peer is the connection a peer-to-peer migration's source opens
// to the destination's daemon (virsh migrate --p2p [--tunnelled] DOM
// DESTURI): a libvirt client of the remote program, opened as libvirt's
// remote driver opens a URI from inside a daemon (libxl's
// libxlDomainMigrationSrcPerformP2P calls virConnectOpenAuth(dconnuri),
// sets keepalive and checks VIR_DRV_FEATURE_MIGRATION_PARAMS), whose
// calls are the ones libxlDoMigrateSrcP2P makes on it. It implements
// driver.MigrationPeer; the daemon hands Dialer.Dial to the driver as
// driver.Options.DialPeer.
//
// URIs: xen:///system and xen+unix:///system (the socket in the run
// directory, or ?socket=PATH), xen+tcp://HOST[:PORT]/system (no
// authentication but none), xen+ssh://[USER@]HOST[:PORT]/system (the ssh
// command, running virt-ssh-helper or nc on the remote host as libvirt's
// client does) and xen+ext:///system?command=CMD. TLS, libssh and
// libssh2 are refused as a libvirt built without them refuses them.
package peer

import (
	"context"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/remoteclient"
	"virtxend/internal/rpc"
)

// Peer is an open connection to a migration's destination.
type Peer struct {
	conn *rpc.Conn
}

var _ driver.MigrationPeer = (*Peer)(nil)

// closeTimeout bounds CONNECT_CLOSE, which a destination that stopped
// answering would otherwise hold up.
const closeTimeout = 5 * time.Second

// Prepare is DOMAIN_MIGRATE_PREPARE3_PARAMS; it returns the destination's
// uri_out, "" if it set none. The cookie it returns is dropped, as
// libxlDoMigrateSrcP2P drops it.
func (p *Peer) Prepare(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (string, error) {
	var r libvirt.DomainMigratePrepare3ParamsRet
	args := &libvirt.DomainMigratePrepare3ParamsArgs{Params: params, CookieIn: cookie, Flags: flags}
	if err := remoteclient.Invoke(ctx, p.conn, procDomainMigratePrepare3Params, args, &r); err != nil {
		return "", err
	}
	if len(r.UriOut) == 0 {
		return "", nil
	}
	return r.UriOut[0], nil
}

// PrepareTunnel is DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS: the stream the
// call opens carries the migration's data.
func (p *Peer) PrepareTunnel(ctx context.Context, params []libvirt.TypedParam, cookie []byte, flags uint32) (driver.Tunnel, error) {
	var r libvirt.DomainMigratePrepareTunnel3ParamsRet
	args := &libvirt.DomainMigratePrepareTunnel3ParamsArgs{Params: params, CookieIn: cookie, Flags: flags}
	st, err := remoteclient.InvokeStream(ctx, p.conn, procDomainMigratePrepareTunnel3Params, args, &r)
	if err != nil {
		return nil, err // not st: a nil *ClientStream would make a non-nil Tunnel
	}
	return st, nil
}

// Finish is DOMAIN_MIGRATE_FINISH3_PARAMS, without a cookie, as
// libxlDoMigrateSrcP2P calls it: nil means the guest runs on the
// destination.
func (p *Peer) Finish(ctx context.Context, params []libvirt.TypedParam, flags uint32, cancelled bool) error {
	args := &libvirt.DomainMigrateFinish3ParamsArgs{Params: params, Flags: flags}
	if cancelled {
		args.Cancelled = 1
	}
	var r libvirt.DomainMigrateFinish3ParamsRet
	return remoteclient.Invoke(ctx, p.conn, procDomainMigrateFinish3Params, args, &r)
}

// Close is virConnectClose: CONNECT_CLOSE, if the connection is still
// up, then the socket closed. Its error is the call's, which callers may
// ignore, as libvirt's migration does.
func (p *Peer) Close() error {
	defer p.conn.Close()
	select {
	case <-p.conn.Done():
		return nil
	default:
	}
	ctx, cancel := context.WithTimeout(context.Background(), closeTimeout)
	defer cancel()
	return remoteclient.Invoke(ctx, p.conn, remoteclient.ProcConnectClose, nil, nil)
}
