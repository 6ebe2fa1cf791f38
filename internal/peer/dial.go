package peer

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/driver"
	"virtxend/internal/remoteclient"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// Dialer opens connections to migration destinations. The daemon makes
// one with its paths and libxl.conf's keepalive settings.
type Dialer struct {
	// SocketDir is the run directory's libvirt/ (/run/libvirt, or
	// VIRTXEND_ROOT's): where a local URI's socket is, as
	// virtxend-sock for xen:///system.
	SocketDir string
	// KeepaliveInterval and KeepaliveCount are libxl.conf's
	// keepalive_interval and keepalive_count: the connection PINGs a
	// destination silent for an interval and gives it up after count
	// unanswered PINGs. An interval <= 0 sends none.
	KeepaliveInterval time.Duration
	KeepaliveCount    int
	// Log receives connection events; nil discards them.
	Log *slog.Logger
}

// Dial opens the destination named by uri (the migration's dconnuri), as
// libvirt's virConnectOpenAuth does from inside a daemon, sets keepalive
// on it, and checks that the destination's driver takes migration
// parameters (VIR_DRV_FEATURE_MIGRATION_PARAMS), failing with libxl's
// error otherwise.
func (d *Dialer) Dial(ctx context.Context, uri string) (driver.MigrationPeer, error) {
	t, err := parseURI(uri, d.SocketDir)
	if err != nil {
		return nil, err
	}
	conn, err := d.connect(ctx, t)
	if err != nil {
		return nil, err
	}
	if err := d.open(ctx, conn, t.name); err != nil {
		conn.Close()
		return nil, err
	}
	d.log().Debug("connected to the migration's destination", "uri", uri, "name", t.name)
	return &Peer{conn: conn}, nil
}

func (d *Dialer) log() *slog.Logger {
	if d.Log == nil {
		return slog.New(slog.DiscardHandler)
	}
	return d.Log
}

// open is doRemoteOpen's calls once connected: authentication, the
// keepalive feature, CONNECT_OPEN; then libxl's keepalive and parameter
// checks.
func (d *Dialer) open(ctx context.Context, conn *rpc.Conn, name string) error {
	if err := remoteclient.Authenticate(ctx, conn); err != nil {
		return err
	}
	keepalive, err := remoteclient.SupportsFeature(ctx, conn, featureProgramKeepalive)
	if err != nil {
		return err
	}
	if err := remoteclient.Open(ctx, conn, name, 0); err != nil {
		return err
	}
	if keepalive {
		conn.StartKeepalive(d.KeepaliveInterval, d.KeepaliveCount)
	}
	params, err := remoteclient.SupportsFeature(ctx, conn, featureMigrationParams)
	if err != nil {
		return err
	}
	if !params {
		return virerr.New(virerr.FromLibxl, libvirt.ErrOperationFailed, "Destination libvirt does not support migration with extensible parameters")
	}
	return nil
}

// connect reaches the server the target names, over its transport.
func (d *Dialer) connect(ctx context.Context, t *target) (*rpc.Conn, error) {
	log := d.log()
	switch t.transport {
	case "unix":
		return remoteclient.DialUnix(ctx, t.socket, log, nil)
	case "tcp":
		nc, err := dialTCP(ctx, t.host, t.port)
		if err != nil {
			return nil, err
		}
		return rpc.NewConn(nc, log.With("peer", nc.RemoteAddr().String()), nil), nil
	case "ssh", "ext":
		name, args, err := t.commandLine()
		if err != nil {
			return nil, err
		}
		cc, err := startCommand(name, args)
		if err != nil {
			return nil, err
		}
		return rpc.NewConn(cc, log.With("peer", t.host, "command", name), nil), nil
	}
	// tls, libssh2, libssh: as libvirt built without them says it.
	return nil, virerr.System(virerr.FromRPC, syscall.ENOSYS, "%s transport support was not enabled", t.transport)
}

// dialTCP is virNetSocketNewConnectTCP, with its errors.
func dialTCP(ctx context.Context, host, port string) (net.Conn, error) {
	var nd net.Dialer
	nc, err := nd.DialContext(ctx, "tcp", net.JoinHostPort(host, port))
	if err == nil {
		return nc, nil
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return nil, err
	}
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		return nil, virerr.Wrap(err, virerr.FromRPC, libvirt.ErrSystemError,
			"Unable to resolve address '%s' service '%s': %s", host, port, gaiText(dnsErr))
	}
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.ECONNREFUSED
	}
	return nil, virerr.System(virerr.FromRPC, errno, "unable to connect to server at '%s:%s'", host, port)
}

// gaiText is gai_strerror's text for a failed lookup.
func gaiText(e *net.DNSError) string {
	switch {
	case e.IsNotFound:
		return "Name or service not known"
	case e.IsTemporary, e.IsTimeout:
		return "Temporary failure in name resolution"
	}
	return e.Err
}
