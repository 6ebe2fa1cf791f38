// Package admintest is a minimal synchronous libvirt RPC client for tests:
// it speaks the admin program (and any other) without libvirt's C client,
// so that tests can make calls virt-admin cannot (CONNECT_DAEMON_SHUTDOWN
// is newer than Debian's virt-admin) and look at raw replies.
package admintest

import (
	"encoding/binary"
	"fmt"
	"io"
	"net"

	"virtxend/internal/admin"
	"virtxend/internal/rpc"
	"virtxend/internal/xdr"
)

// Conn is one connection making one call at a time.
type Conn struct {
	net.Conn
	serial uint32
}

// Dial connects to a Unix socket.
func Dial(path string) (*Conn, error) {
	c, err := net.Dial("unix", path)
	if err != nil {
		return nil, err
	}
	return &Conn{Conn: c}, nil
}

// Error is a remote_error reply.
type Error struct {
	Code    int32
	Domain  int32
	Message *string
	Level   int32
	Dom     *struct{}
	Str1    *string
	Str2    *string
	Str3    *string
	Int1    int32
	Int2    int32
	Net     *struct{}
}

func (e *Error) Error() string {
	msg := ""
	if e.Message != nil {
		msg = *e.Message
	}
	return fmt.Sprintf("code %d domain %d: %s", e.Code, e.Domain, msg)
}

// Msg is the error's message text.
func (e *Error) Msg() string {
	if e.Message == nil {
		return ""
	}
	return *e.Message
}

// Call makes an admin-program call; args and ret may be nil.
func (c *Conn) Call(proc uint32, args, ret any) error {
	return c.CallProg(admin.ProgramNumber, admin.ProgramVersion, proc, args, ret)
}

// CallProg makes a call to any program. An error reply is an *Error.
func (c *Conn) CallProg(prog, vers, proc uint32, args, ret any) error {
	c.serial++
	if err := c.Send(rpc.Header{Prog: prog, Vers: vers, Proc: proc, Type: rpc.TypeCall, Serial: c.serial}, args); err != nil {
		return err
	}
	for {
		h, body, err := c.Receive()
		if err != nil {
			return err
		}
		if h.Type != rpc.TypeReply || h.Serial != c.serial {
			continue // e.g. a keepalive PING
		}
		if h.Status != rpc.StatusOK {
			e := &Error{}
			if err := xdr.Unmarshal(body, e); err != nil {
				return fmt.Errorf("undecodable error reply: %w", err)
			}
			return e
		}
		if ret == nil {
			return nil
		}
		return xdr.Unmarshal(body, ret)
	}
}

// Send writes one packet with body as its payload (nil for none).
func (c *Conn) Send(h rpc.Header, body any) error {
	buf, err := xdr.Marshal(&h)
	if err != nil {
		return err
	}
	if body != nil {
		if buf, err = xdr.Append(buf, body); err != nil {
			return err
		}
	}
	pkt := binary.BigEndian.AppendUint32(nil, uint32(len(buf)+4))
	_, err = c.Write(append(pkt, buf...))
	return err
}

// Receive reads one packet.
func (c *Conn) Receive() (rpc.Header, []byte, error) {
	var lenBuf [4]byte
	if _, err := io.ReadFull(c, lenBuf[:]); err != nil {
		return rpc.Header{}, nil, err
	}
	n := binary.BigEndian.Uint32(lenBuf[:])
	if n < 4+rpc.HeaderSize || n > rpc.MessageMax+4 {
		return rpc.Header{}, nil, fmt.Errorf("bad packet length %d", n)
	}
	pkt := make([]byte, n-4)
	if _, err := io.ReadFull(c, pkt); err != nil {
		return rpc.Header{}, nil, err
	}
	var h rpc.Header
	if err := xdr.Unmarshal(pkt[:rpc.HeaderSize], &h); err != nil {
		return rpc.Header{}, nil, err
	}
	return h, pkt[rpc.HeaderSize:], nil
}
