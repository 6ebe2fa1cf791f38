// Package libvirtd is the daemon's own client of libvirt's daemons for the
// secondary drivers the Xen driver uses itself: the network driver (ports
// for <interface type='network'>), the storage driver (the paths of
// <disk type='volume'>), the secret driver (the keys of authenticated
// network disks) and the node device driver (the PCI addresses of the
// devices nodedev-detach names), as libvirt's libxl driver reaches them
// through virGetConnectNetwork, virGetConnectStorage, virGetConnectSecret
// and virGetConnectNodeDev.
//
// Each driver's daemon gets one connection for the whole daemon, opened on
// first use with the daemon's own identity and opened again once libvirt's
// daemon has gone away (it restarted). Calls are typed: go-libvirt's
// generated argument and reply structs, encoded with internal/xdr over
// rpc.Conn. An error libvirt's daemon reports reaches the caller as it
// sent it (virerr.Relayed).
package libvirtd

import (
	"context"
	"log/slog"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/remoteclient"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// Driver names one of libvirt's secondary drivers, as its URI scheme and
// its modular daemon (virtnetworkd, ...) spell it.
type Driver string

// The drivers this client talks to.
const (
	Network Driver = "network"
	Storage Driver = "storage"
	Secret  Driver = "secret"
	NodeDev Driver = "nodedev"
)

// uri is what the daemon's connection opens: the system driver, as a
// daemon running as root opens it (virGetConnectGeneric).
func (d Driver) uri() string { return string(d) + ":///system" }

// Options configure a Client.
type Options struct {
	// SocketDir is the run directory's libvirt/ (/run/libvirt): where
	// libvirt's daemons have their sockets and the system token.
	SocketDir string
	// Log receives connection events; nil discards them.
	Log *slog.Logger
}

// Client holds the daemon's connections to libvirt's daemons. Its methods
// are safe for concurrent use.
type Client struct {
	dir string
	log *slog.Logger

	mu    sync.Mutex
	slots map[Driver]*slot
	// identity is sent with CONNECT_SET_IDENTITY on every connection;
	// made once, on the first connection.
	identity     []libvirt.TypedParam
	identityDone bool
	closed       bool
}

// slot is one driver's connection; its lock serialises opening it, so
// that concurrent first calls share one connection.
type slot struct {
	mu   sync.Mutex
	conn *rpc.Conn
}

// New returns a client; it connects on first use.
func New(o Options) *Client {
	log := o.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Client{dir: o.SocketDir, log: log, slots: map[Driver]*slot{}}
}

// Close ends every connection; later calls fail.
func (c *Client) Close() error {
	c.mu.Lock()
	c.closed = true
	slots := c.slots
	c.slots = map[Driver]*slot{}
	c.mu.Unlock()
	for _, s := range slots {
		s.mu.Lock()
		if s.conn != nil {
			s.conn.Close()
		}
		s.mu.Unlock()
	}
	return nil
}

func (c *Client) slot(d Driver) (*slot, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "client socket is closed")
	}
	s := c.slots[d]
	if s == nil {
		s = &slot{}
		c.slots[d] = s
	}
	return s, nil
}

// conn returns the open connection to d's daemon, opening one if there is
// none or the last one ended (libvirt's daemon restarted).
func (c *Client) conn(ctx context.Context, d Driver) (*rpc.Conn, error) {
	s, err := c.slot(d)
	if err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.conn != nil {
		select {
		case <-s.conn.Done():
			c.log.Info("connection to libvirt's daemon ended; reconnecting", "driver", string(d))
		default:
			return s.conn, nil
		}
	}
	conn, err := c.open(ctx, d)
	if err != nil {
		return nil, err
	}
	s.conn = conn
	return conn, nil
}

// call makes one call of procedure proc to d's daemon: args and ret are
// go-libvirt's structs for it (nil for none).
func (c *Client) call(ctx context.Context, d Driver, proc uint32, args, ret any) error {
	conn, err := c.conn(ctx, d)
	if err != nil {
		return err
	}
	return remoteclient.Invoke(ctx, conn, proc, args, ret)
}
