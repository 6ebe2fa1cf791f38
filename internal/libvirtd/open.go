package libvirtd

import (
	"context"
	"errors"
	"log/slog"
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

// Dial connects to the daemon of the driver named drv ("storage",
// "network", ...) in the run directory's libvirt/ dir and opens its driver
// as libvirt's client does (remoteOpenConn): AUTH_LIST, which lets root
// through on a polkit socket, then CONNECT_OPEN of the system URI,
// read-only if ro, and CONNECT_SET_IDENTITY with identity. onMessage, if
// not nil, receives the daemon's event messages.
func Dial(ctx context.Context, dir, drv string, ro bool, identity []libvirt.TypedParam,
	log *slog.Logger, onMessage func(rpc.Header, []byte)) (*rpc.Conn, error) {
	path := SocketPath(dir, drv, ro)
	conn, err := rpc.Dial(ctx, path, log, onMessage)
	if err != nil {
		return nil, ConnectError(path, err)
	}
	if err := handshake(ctx, conn, Driver(drv), ro, identity); err != nil {
		conn.Close()
		return nil, err
	}
	return conn, nil
}

// open connects to d's daemon with the daemon's own identity. Its events
// are not ours: this connection registers none.
func (c *Client) open(ctx context.Context, d Driver) (*rpc.Conn, error) {
	params, err := c.systemIdentity()
	if err != nil {
		return nil, err
	}
	conn, err := Dial(ctx, c.dir, string(d), false, params, c.log, nil)
	if err == nil {
		c.log.Debug("connected to libvirt's daemon", "driver", string(d))
	}
	return conn, err
}

func handshake(ctx context.Context, conn *rpc.Conn, d Driver, ro bool, identity []libvirt.TypedParam) error {
	var auth libvirt.AuthListRet
	if err := invoke(ctx, conn, procAuthList, nil, &auth); err != nil {
		return err
	}
	if len(auth.Types) > 0 && auth.Types[0] != authNone {
		return virerr.New(fromRemote, libvirt.ErrAuthFailed, "unsupported authentication type %d", auth.Types[0])
	}
	open := &libvirt.ConnectOpenArgs{Name: libvirt.OptString{d.uri()}}
	if ro {
		open.Flags = libvirt.ConnectRo
	}
	if err := invoke(ctx, conn, procConnectOpen, open, nil); err != nil {
		return err
	}
	return invoke(ctx, conn, procConnectSetIdentity, &libvirt.ConnectSetIdentityArgs{Params: identity}, nil)
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
