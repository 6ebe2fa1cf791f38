package daemon

import (
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net"
	"os"
	"os/user"
	"strconv"
	"time"

	"golang.org/x/sys/unix"
)

// socketRole says which server a socket belongs to and what it allows.
type socketRole int

const (
	roleRW socketRole = iota
	roleRO
	roleAdmin
)

// socketSpec is one of the three sockets as the configuration describes it.
type socketSpec struct {
	role       socketRole
	path       string
	mode       fs.FileMode
	group      string // "" leaves the group alone
	backlog    int
	unitName   string // the name systemd passes in LISTEN_FDNAMES
	activation *os.File
}

// socket is a listening socket ready to serve.
type socket struct {
	role     socketRole
	path     string
	ln       net.Listener
	adopted  bool // passed in by systemd: never unlinked by us
	unitName string
}

// openSocket adopts the systemd-passed fd for spec, or creates the socket.
func openSocket(spec socketSpec) (*socket, error) {
	if spec.activation != nil {
		ln, err := net.FileListener(spec.activation)
		spec.activation.Close()
		if err != nil {
			return nil, fmt.Errorf("activation socket %s is not a listening socket: %w", spec.unitName, err)
		}
		return &socket{role: spec.role, path: spec.path, ln: ln, adopted: true, unitName: spec.unitName}, nil
	}
	ln, err := listenUnix(spec)
	if err != nil {
		return nil, err
	}
	return &socket{role: spec.role, path: spec.path, ln: ln, unitName: spec.unitName}, nil
}

// listenUnix creates the socket file with its final mode from the start
// (umask around bind) so it is never reachable with looser permissions, and
// listens with the configured backlog (max_queued_clients).
func listenUnix(spec socketSpec) (net.Listener, error) {
	if err := clearStaleSocket(spec.path); err != nil {
		return nil, err
	}
	gid := -1
	if spec.group != "" {
		g, err := lookupGroup(spec.group)
		if err != nil {
			return nil, err
		}
		gid = g
	}
	fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, fmt.Errorf("failed to create socket: %w", err)
	}
	old := unix.Umask(int(^spec.mode & 0o777))
	err = unix.Bind(fd, &unix.SockaddrUnix{Name: spec.path})
	unix.Umask(old)
	if err != nil {
		unix.Close(fd)
		return nil, fmt.Errorf("failed to bind socket to '%s': %w", spec.path, err)
	}
	if gid >= 0 {
		if err := os.Chown(spec.path, -1, gid); err != nil {
			unix.Close(fd)
			os.Remove(spec.path)
			return nil, fmt.Errorf("failed to change group of '%s' to %s: %w", spec.path, spec.group, err)
		}
	}
	if err := unix.Listen(fd, spec.backlog); err != nil {
		unix.Close(fd)
		os.Remove(spec.path)
		return nil, fmt.Errorf("failed to listen on '%s': %w", spec.path, err)
	}
	f := os.NewFile(uintptr(fd), spec.path)
	ln, err := net.FileListener(f)
	f.Close()
	if err != nil {
		os.Remove(spec.path)
		return nil, err
	}
	ln.(*net.UnixListener).SetUnlinkOnClose(false) // we unlink explicitly, only our own
	return ln, nil
}

// clearStaleSocket removes a socket file left by a dead daemon, but refuses
// to touch one that a live daemon still answers on.
func clearStaleSocket(path string) error {
	if _, err := os.Lstat(path); errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	conn, err := net.DialTimeout("unix", path, time.Second)
	if err == nil {
		defer conn.Close()
		return inUse(path, conn)
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("failed to remove stale socket '%s': %w", path, err)
	}
	return nil
}

// inUse is the error for a socket that answered conn. It names the
// process that listened on it (SO_PEERCRED) and says when that one is
// gone: then a process it started holds the socket.
func inUse(path string, conn net.Conn) error {
	_, pid, ok := peerUID(conn)
	switch {
	case !ok:
		return fmt.Errorf("socket '%s' is in use: %w", path, ErrAlreadyRunning)
	case unix.Kill(pid, 0) == unix.ESRCH:
		return fmt.Errorf("socket '%s' is in use, held open since its listener (pid %d) ended: %w", path, pid, ErrAlreadyRunning)
	}
	return fmt.Errorf("socket '%s' is in use by pid %d: %w", path, pid, ErrAlreadyRunning)
}

func lookupGroup(name string) (int, error) {
	if gid, err := strconv.Atoi(name); err == nil {
		return gid, nil
	}
	g, err := user.LookupGroup(name)
	if err != nil {
		return -1, fmt.Errorf("failed to look up group '%s': %w", name, err)
	}
	return strconv.Atoi(g.Gid)
}

// close stops listening and removes the socket file if we created it.
func (s *socket) close() {
	s.ln.Close()
	if !s.adopted {
		os.Remove(s.path)
	}
}

// sameUIDListener admits only clients running as the daemon's own uid, as
// libvirt does for its admin socket.
type sameUIDListener struct {
	net.Listener
	uid int
	log *slog.Logger
}

func (l sameUIDListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		uid, pid, ok := peerUID(c)
		if ok && uid == l.uid {
			return c, nil
		}
		l.log.Warn("refusing admin client: its uid differs from the daemon's",
			"client_uid", uid, "client_pid", pid, "daemon_uid", l.uid)
		c.Close()
	}
}

func peerUID(c net.Conn) (uid, pid int, ok bool) {
	uc, isUnix := c.(*net.UnixConn)
	if !isUnix {
		return -1, -1, false
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return -1, -1, false
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) {
		cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
	})
	if err != nil || cred == nil {
		return -1, -1, false
	}
	return int(cred.Uid), int(cred.Pid), true
}
