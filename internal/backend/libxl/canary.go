package libxl

import (
	"net"
	"os"
	"sync"
)

// xenstoredSocket is where xenstored listens, as libxenstore finds it
// (xs_daemon_socket): $XENSTORED_PATH, else XEN_RUN_STORED/socket, which
// is /run/xenstored on Debian.
func xenstoredSocket() string {
	if p := os.Getenv("XENSTORED_PATH"); p != "" {
		return p
	}
	return "/run/xenstored/socket"
}

// xsCanary is a connection of our own to xenstored, opened beside each
// libxl_ctx, that sends nothing: xenstored closes it when it exits, which
// tells that the libxl_ctx's connection, made to the same xenstored, is
// dead too. It costs nothing while xenstored lives (no polling), and it
// sees xenstored go even when libxl has no watch whose failure would
// report it. A nil *xsCanary (no socket: xenstored elsewhere, or not
// running) sees nothing; libxl's disaster callback is then the only word.
type xsCanary struct {
	conn   net.Conn
	mu     sync.Mutex
	closed bool
}

// openCanary connects to the socket at path; dead runs once when
// xenstored ends the connection, never after Close.
func openCanary(path string, dead func()) *xsCanary {
	conn, err := net.Dial("unix", path)
	if err != nil {
		return nil
	}
	k := &xsCanary{conn: conn}
	go k.watch(dead)
	return k
}

func (k *xsCanary) watch(dead func()) {
	var b [64]byte
	for {
		if _, err := k.conn.Read(b[:]); err != nil {
			break // xenstored sends nothing unasked: only its end comes
		}
	}
	k.mu.Lock()
	closed := k.closed
	k.mu.Unlock()
	if !closed {
		dead()
	}
}

// Close ends the connection without a call to dead.
func (k *xsCanary) Close() {
	if k == nil {
		return
	}
	k.mu.Lock()
	k.closed = true
	k.mu.Unlock()
	k.conn.Close()
}
