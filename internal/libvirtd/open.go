package libvirtd

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// SocketPath is the socket of libvirt's daemon for the driver named drv
// ("storage", "network", ...), found as libvirt's client finds it
// (remoteGetUNIXSocket, mode auto, as Debian builds it): the modular
// daemon's (virtstoraged-sock, ...) if it exists, else libvirtd's
// libvirt-sock, which is also what is named when neither exists. dir is
// the run directory's libvirt/; ro picks the -ro sockets.
func SocketPath(dir, drv string, ro bool) string {
	suffix := "-sock"
	if ro {
		suffix = "-sock-ro"
	}
	direct := filepath.Join(dir, "virt"+drv+"d"+suffix)
	if _, err := os.Stat(direct); err == nil {
		return direct
	}
	return filepath.Join(dir, "libvirt"+suffix)
}

// ConnectError is virNetSocketNewConnectUNIX's system error for a socket
// that could not be reached.
func ConnectError(path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.ECONNREFUSED
	}
	return virerr.System(virerr.FromRPC, errno, "Failed to connect socket to '%s'", path)
}

// open connects to d's daemon and opens its driver as libvirt's client
// does: AUTH_LIST (which lets root through on a polkit socket), then
// CONNECT_OPEN of the system URI and CONNECT_SET_IDENTITY with the
// daemon's own identity.
func (c *Client) open(ctx context.Context, d Driver) (*rpc.Conn, error) {
	path := SocketPath(c.dir, string(d), false)
	// The daemon's events are not ours: this connection registers none.
	conn, err := rpc.Dial(ctx, path, c.log, nil)
	if err != nil {
		return nil, ConnectError(path, err)
	}
	if err := c.handshake(ctx, conn, d); err != nil {
		conn.Close()
		return nil, err
	}
	c.log.Debug("connected to libvirt's daemon", "driver", string(d), "socket", path)
	return conn, nil
}

func (c *Client) handshake(ctx context.Context, conn *rpc.Conn, d Driver) error {
	var auth libvirt.AuthListRet
	if err := invoke(ctx, conn, procAuthList, nil, &auth); err != nil {
		return err
	}
	if len(auth.Types) > 0 && auth.Types[0] != authNone {
		return virerr.New(fromRemote, libvirt.ErrAuthFailed, "unsupported authentication type %d", auth.Types[0])
	}
	open := &libvirt.ConnectOpenArgs{Name: libvirt.OptString{d.uri()}}
	if err := invoke(ctx, conn, procConnectOpen, open, nil); err != nil {
		return err
	}
	params, err := c.systemIdentity()
	if err != nil {
		return err
	}
	return invoke(ctx, conn, procConnectSetIdentity, &libvirt.ConnectSetIdentityArgs{Params: params}, nil)
}

// callError is a failed call's error as libvirt's client reports it: the
// daemon's own error as it came, a connection that ended as
// virNetSocketReadWire's end of file.
func callError(err error) error {
	var e *virerr.Error
	if errors.As(err, &e) || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	if errors.Is(err, rpc.ErrConnClosed) {
		return virerr.System(virerr.FromRPC, syscall.EIO, "End of file while reading data")
	}
	return virerr.System(virerr.FromRPC, err, "Cannot write data")
}
