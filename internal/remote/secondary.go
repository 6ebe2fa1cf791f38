package remote

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// The secondary drivers (storage, network, node devices, secrets, nwfilter,
// host interfaces) are not this daemon's: as libvirt's virtxend does, it
// passes their calls on to libvirt's own daemon for each driver, over one
// connection per client and driver, opened on first use with the URI
// libvirt's remoteDispatchConnectOpen gives a system hypervisor driver's
// clients, read-only when the client is, and closed with the client.

// secondaryURIs are the URIs libvirt's daemon opens for the secondary
// drivers of a root hypervisor daemon.
var secondaryURIs = [...]string{
	driverInterface: "interface:///system",
	driverNetwork:   "network:///system",
	driverNodeDev:   "nodedev:///system",
	driverNWFilter:  "nwfilter:///system",
	driverSecret:    "secret:///system",
	driverStorage:   "storage:///system",
}

// secondaries are one client's connections to libvirt's daemons.
type secondaries struct {
	mu    sync.Mutex
	conns map[libvirtDriver]*rpc.Conn
}

// daemonSocket is the socket of libvirt's daemon for drv, found as
// libvirt's client finds it (remoteGetUNIXSocket, mode auto, as Debian
// builds it): the modular daemon's (virtstoraged-sock, ...) if it exists,
// else libvirtd's libvirt-sock, which is also what is named when neither
// exists. dir is the run directory's libvirt/; ro picks the -ro sockets.
func daemonSocket(dir string, drv libvirtDriver, ro bool) string {
	suffix := "-sock"
	if ro {
		suffix = "-sock-ro"
	}
	direct := filepath.Join(dir, "virt"+drv.String()+"d"+suffix)
	if _, err := os.Stat(direct); err == nil {
		return direct
	}
	return filepath.Join(dir, "libvirt"+suffix)
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
	ro := c.ReadOnly()
	path := daemonSocket(p.socketDir, drv, ro)
	up, err := rpc.Dial(ctx, path, p.log, func(h rpc.Header, body []byte) {
		// The daemon's events go to the client as they came: the callback
		// ids in them are the ones that daemon gave the client.
		c.SendMessage(h.Prog, h.Vers, h.Proc, h.Serial, rpc.RawBody(body))
	})
	if err != nil {
		return nil, errConnectSocket(path, err)
	}
	flags := libvirt.ConnectFlags(0)
	if ro {
		flags = libvirt.ConnectRo
	}
	steps := []struct {
		proc uint32
		args any
	}{
		{procConnectOpen.Proc.Number, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{secondaryURIs[drv]}, Flags: flags}},
		{procConnectSetIdentity.Proc.Number, &libvirt.ConnectSetIdentityArgs{Params: identityParams(c.Identity())}},
	}
	for _, s := range steps {
		body, err := xdr.Marshal(s.args)
		if err == nil {
			_, err = up.Call(ctx, ProgramNumber, ProgramVersion, s.proc, body)
		}
		if err != nil {
			up.Close()
			return nil, err
		}
	}
	return up, nil
}

// errSecondaryNotOpen is remoteOpenConn's error for a secondary driver's
// call before CONNECT_OPEN: the daemon has no URI for it yet.
func errSecondaryNotOpen() error {
	return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "connection not open")
}

// errConnectSocket is virNetSocketNewConnectUNIX's system error.
func errConnectSocket(path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.ECONNREFUSED
	}
	return virerr.System(virerr.FromRPC, errno, "Failed to connect socket to '%s'", path)
}
