package remote

import (
	"context"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/libvirtd"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// The secondary drivers (storage, network, node devices, secrets, nwfilter,
// host interfaces) are not this daemon's: as libvirt's virtxend does, it
// passes their calls on to libvirt's own daemon for each driver, over one
// connection per client and driver, opened on first use with the URI
// libvirt's remoteDispatchConnectOpen gives a system hypervisor driver's
// clients, read-only when the client is, and closed with the client.

// secondaries are one client's connections to libvirt's daemons.
type secondaries struct {
	mu    sync.Mutex
	conns map[libvirtDriver]*rpc.Conn
}

// secondary returns the client's connection to the daemon of drv, opening
// it on first use and again after it ended.
func (p *program) secondary(ctx context.Context, c *rpc.Client, drv libvirtDriver) (*rpc.Conn, error) {
	cn := connOf(c)
	if !cn.isOpen() {
		return nil, errSecondaryNotOpen()
	}
	sec := &cn.secondaries
	sec.mu.Lock()
	defer sec.mu.Unlock()
	if up := sec.conns[drv]; up != nil {
		select {
		case <-up.Done():
		default:
			return up, nil
		}
	}
	up, err := p.openSecondary(ctx, c, drv)
	if err != nil {
		return nil, err
	}
	if sec.conns == nil {
		sec.conns = map[libvirtDriver]*rpc.Conn{}
		c.OnClose(sec.closeAll)
	}
	sec.conns[drv] = up
	return up, nil
}

func (sec *secondaries) closeAll() {
	sec.mu.Lock()
	defer sec.mu.Unlock()
	for _, up := range sec.conns {
		up.Close()
	}
	sec.conns = nil
}

// openSecondary connects to the daemon of drv and opens its driver with
// the client's identity as it is now: its peer's, or the one a proxy
// forwarded (remoteOpenConn with preserveIdentity sends
// virIdentityGetCurrent, the client's during its call). A connection
// already open keeps the identity it was opened with, as in libvirt.
func (p *program) openSecondary(ctx context.Context, c *rpc.Client, drv libvirtDriver) (*rpc.Conn, error) {
	// The daemon's events go to the client as they came: the callback ids
	// in them are the ones that daemon gave the client.
	relay := func(h rpc.Header, body []byte) {
		c.SendMessage(h.Prog, h.Vers, h.Proc, h.Serial, rpc.RawBody(body))
	}
	return libvirtd.Dial(ctx, p.socketDir, drv.String(), c.ReadOnly(), identityParams(c.Identity()), p.log, relay)
}

// errSecondaryNotOpen is remoteOpenConn's error for a secondary driver's
// call before CONNECT_OPEN: the daemon has no URI for it yet.
func errSecondaryNotOpen() error {
	return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "connection not open")
}
