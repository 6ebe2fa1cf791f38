package rpc

import (
	"net"

	"golang.org/x/sys/unix"
)

// Identity is a peer's Unix credentials; -1 marks what is unknown (a
// connection that is not a Unix socket).
type Identity struct {
	UID, GID, PID int
}

func peerIdentity(conn net.Conn) Identity {
	id := Identity{UID: -1, GID: -1, PID: -1}
	uc, ok := conn.(*net.UnixConn)
	if !ok {
		return id
	}
	raw, err := uc.SyscallConn()
	if err != nil {
		return id
	}
	_ = raw.Control(func(fd uintptr) {
		cred, err := unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED)
		if err == nil {
			id = Identity{UID: int(cred.Uid), GID: int(cred.Gid), PID: int(cred.Pid)}
		}
	})
	return id
}
