package migration

import (
	"errors"
	"net"
	"strconv"
	"sync"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Ports hands out the ports of a range to incoming migrations, as
// libvirt's virPortAllocator does for its "migration" range: the first
// port neither handed out nor in use by anyone else. A port is taken by
// listening on it, so nothing can take it between the choice and the
// listen.
type Ports struct {
	Min, Max int

	mu    sync.Mutex
	inUse map[int]bool
}

// Listen listens on host (all addresses when "") at port, or, when port
// is 0, at the first free port of the range. Release gives a port of the
// range back once its listener is closed.
func (p *Ports) Listen(host string, port int) (net.Listener, int, error) {
	if port != 0 {
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if err != nil {
			return nil, 0, listenErr(err)
		}
		return l, port, nil
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	for port := p.Min; port <= p.Max; port++ {
		if p.inUse[port] {
			continue
		}
		l, err := net.Listen("tcp", net.JoinHostPort(host, strconv.Itoa(port)))
		if errors.Is(err, syscall.EADDRINUSE) {
			continue
		}
		if err != nil {
			return nil, 0, listenErr(err)
		}
		if p.inUse == nil {
			p.inUse = map[int]bool{}
		}
		p.inUse[port] = true
		return l, port, nil
	}
	return nil, 0, virerr.New(virerr.FromNone, libvirt.ErrInternalError,
		"Unable to find an unused port in range '%s' (%d-%d)", "migration", p.Min, p.Max)
}

// Release gives port back to the range.
func (p *Ports) Release(port int) {
	p.mu.Lock()
	delete(p.inUse, port)
	p.mu.Unlock()
}

// listenErr is libvirt's failure to listen for the incoming data.
func listenErr(err error) error {
	return virerr.Wrap(err, virerr.FromLibxl, libvirt.ErrOperationFailed, "Fail to create socket for incoming migration")
}
