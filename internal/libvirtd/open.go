package libvirtd

import (
	"context"
	"log/slog"
	"os"
	"path/filepath"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/remoteclient"
	"virtxend/internal/rpc"
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

// Dial connects to the daemon of the driver named drv ("storage",
// "network", ...) in the run directory's libvirt/ dir and opens its driver
// as libvirt's client does (remoteOpenConn): AUTH_LIST, which lets root
// through on a polkit socket, then CONNECT_OPEN of the system URI,
// read-only if ro, and CONNECT_SET_IDENTITY with identity. onMessage, if
// not nil, receives the daemon's event messages.
func Dial(ctx context.Context, dir, drv string, ro bool, identity []libvirt.TypedParam,
	log *slog.Logger, onMessage func(rpc.Header, []byte)) (*rpc.Conn, error) {
	conn, err := remoteclient.DialUnix(ctx, SocketPath(dir, drv, ro), log, onMessage)
	if err != nil {
		return nil, err
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
	if err := remoteclient.Authenticate(ctx, conn); err != nil {
		return err
	}
	var flags libvirt.ConnectFlags
	if ro {
		flags = libvirt.ConnectRo
	}
	if err := remoteclient.Open(ctx, conn, d.uri(), flags); err != nil {
		return err
	}
	return remoteclient.Invoke(ctx, conn, procConnectSetIdentity, &libvirt.ConnectSetIdentityArgs{Params: identity}, nil)
}
