package rpc

import (
	"math"
	"net"
	"os"
	"os/user"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// Identity is who is behind a client, as libvirt's virIdentity holds it:
// attributes any of which may be unknown. A client's identity is first
// its Unix peer's (what virNetServerClientCreateIdentity reads of the
// socket); a proxy that calls on behalf of someone else, such as libvirt's
// virtproxyd, replaces it whole with that caller's (SetIdentity). It is a
// value: copies share nothing.
type Identity struct {
	UserName       Attr[string]
	UnixUserID     Attr[uint64]
	GroupName      Attr[string]
	UnixGroupID    Attr[uint64]
	ProcessID      Attr[int64]
	ProcessTime    Attr[uint64] // start time in clock ticks since boot
	SASLUserName   Attr[string]
	X509DName      Attr[string] // the x509 distinguished name of a TLS peer
	SELinuxContext Attr[string]
	// SystemToken is libvirt's "system.token", which a libvirt daemon puts
	// in its own identity; it is kept only to be passed on.
	SystemToken Attr[string]
}

// Attr is one attribute of an Identity; the zero Attr is unknown.
type Attr[T any] struct {
	Value T
	Set   bool
}

// Known is an attribute whose value is v.
func Known[T any](v T) Attr[T] { return Attr[T]{Value: v, Set: true} }

// Get returns the value and whether it is known.
func (a Attr[T]) Get() (T, bool) { return a.Value, a.Set }

// peerCreds is what the kernel says of a Unix socket's peer, read once at
// accept; ok is false for any other connection, whose peer is unknown.
type peerCreds struct {
	ok       bool
	uid, gid uint32
	pid      int32  // 0 when the peer is in another pid namespace
	label    string // SO_PEERSEC, "" if the kernel has none
}

func readPeerCreds(conn net.Conn) peerCreds {
	var p peerCreds
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return p
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return p
	}
	_ = raw.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err != nil {
			return
		}
		p = peerCreds{ok: true, uid: cred.Uid, gid: cred.Gid, pid: cred.Pid}
		// getpeercon: ENOPROTOOPT where no security module labels
		// sockets, and then there is no context.
		p.label, _ = unix.GetsockoptString(int(fd), unix.SOL_SOCKET, unix.SO_PEERSEC)
	})
	return p
}

// logUID and logPID are the peer's uid and pid for logs, -1 if unknown.
func (p peerCreds) logUID() int64 {
	if !p.ok {
		return -1
	}
	return int64(p.uid)
}

func (p peerCreds) logPID() int64 {
	if !p.ok {
		return -1
	}
	return int64(p.pid)
}

// identity is virNetServerClientCreateIdentity's: the names of the uid and
// gid, the ids, the pid (-1 when the kernel gives none) and its start time
// (then ULLONG_MAX), and the security label. As in libvirt it is made when
// first needed, and the start time read then: a connection that never asks
// costs no read of /proc (a storm of them spent 40% of the daemon there).
// libvirt fails every call of a client whose uid or gid has no name, or
// whose start time it cannot read; here that attribute is unknown instead.
func (p peerCreds) identity() Identity {
	var id Identity
	if !p.ok {
		return id // not a Unix peer: nothing is known
	}
	if u, err := user.LookupId(strconv.FormatUint(uint64(p.uid), 10)); err == nil {
		id.UserName = Known(u.Username)
	}
	id.UnixUserID = Known(uint64(p.uid))
	if g, err := user.LookupGroupId(strconv.FormatUint(uint64(p.gid), 10)); err == nil {
		id.GroupName = Known(g.Name)
	}
	id.UnixGroupID = Known(uint64(p.gid))
	switch {
	case p.pid == 0:
		id.ProcessID, id.ProcessTime = Known(int64(-1)), Known(uint64(math.MaxUint64))
	default:
		id.ProcessID = Known(int64(p.pid))
		if t, ok := ProcessStartTime(int(p.pid)); ok {
			id.ProcessTime = Known(t)
		}
	}
	if p.label != "" {
		id.SELinuxContext = Known(p.label)
	}
	return id
}

// ProcessStartTime is a process's start time in clock ticks since boot
// (field 22 of /proc/PID/stat), as libvirt's virProcessGetStartTime reads
// it: with the pid, it names one process for the life of the host.
func ProcessStartTime(pid int) (uint64, bool) {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0, false
	}
	return parseStartTime(string(b))
}

// parseStartTime reads field 22 of a /proc/PID/stat line.
func parseStartTime(s string) (uint64, bool) {
	// The command name (field 2) may hold spaces and parentheses: count
	// from its end, the last ')'.
	i := strings.LastIndexByte(s, ')')
	if i < 0 {
		return 0, false
	}
	f := strings.Fields(s[i+1:])
	if len(f) < 20 {
		return 0, false
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	return t, err == nil
}
