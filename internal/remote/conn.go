package remote

import (
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// conn is one client's hypervisor connection: what CONNECT_OPEN set up and
// what the client registered since.
type conn struct {
	mu      sync.Mutex
	open    bool
	uri     string
	closeCB bool // the client registered a close callback
	events  *eventRegistrations
	// secondaries are the client's connections to libvirt's daemons for
	// the secondary drivers.
	secondaries secondaries
}

type connKey struct{}

// connOf returns the client's connection state, creating it on first use.
func connOf(c *rpc.Client) *conn {
	if v, ok := c.Value(connKey{}).(*conn); ok {
		return v
	}
	cn := &conn{events: newEventRegistrations()}
	c.SetValue(connKey{}, cn)
	return cn
}

func (cn *conn) isOpen() bool {
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return cn.open
}

// errNotOpen is libvirt's answer to a driver call before CONNECT_OPEN.
func errNotOpen() error {
	return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "hypervisor connection not open")
}
