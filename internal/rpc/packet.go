package rpc

import (
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"sync"
)

// Sizes and limits of libvirt's wire format (src/rpc/virnetprotocol.x).
const (
	// MessageMax bounds a packet, its length word excluded (VIR_NET_MESSAGE_MAX).
	MessageMax = 33554432
	// HeaderSize is the XDR header after the length word.
	HeaderSize = 24
	// StreamChunk is the data carried by one stream packet
	// (VIR_NET_MESSAGE_LEGACY_PAYLOAD_MAX), the size both sides use.
	StreamChunk = 262120
	// MaxFDs bounds the fds of a *_WITH_FDS message (VIR_NET_MESSAGE_NUM_FDS_MAX).
	MaxFDs  = 32
	lenSize = 4
)

// KeepaliveProgram is the keepalive program ("keep"), version 1.
const (
	KeepaliveProgram = 0x6b656570
	KeepaliveVersion = 1
	keepalivePing    = 1
	keepalivePong    = 2
)

// Type is a packet's message type.
type Type int32

// Message types.
const (
	TypeCall         Type = 0
	TypeReply        Type = 1
	TypeMessage      Type = 2
	TypeStream       Type = 3
	TypeCallWithFDs  Type = 4
	TypeReplyWithFDs Type = 5
	TypeStreamHole   Type = 6
)

// Status is a packet's status word.
type Status int32

// Statuses.
const (
	StatusOK       Status = 0
	StatusError    Status = 1
	StatusContinue Status = 2
)

// Header is the 24-byte header that follows every packet's length word.
type Header struct {
	Prog   uint32
	Vers   uint32
	Proc   uint32 // an XDR int on the wire; procedures are never negative
	Type   Type
	Serial uint32
	Status Status
}

func (h Header) String() string {
	return fmt.Sprintf("prog=%#x vers=%d proc=%d type=%d serial=%d status=%d",
		h.Prog, h.Vers, int32(h.Proc), h.Type, h.Serial, h.Status)
}

// errFraming marks input that makes the connection unusable: the server
// closes it without a reply, as libvirt does.
var errFraming = errors.New("rpc: bad packet framing")

// readPacket reads one packet and returns its header and payload.
func readPacket(r io.Reader) (Header, []byte, error) {
	var head [lenSize + HeaderSize]byte
	h, n, err := readHeader(r, &head)
	if err != nil {
		return Header{}, nil, err
	}
	payload, err := readN(r, n)
	if err != nil {
		return Header{}, nil, err
	}
	return h, payload, nil
}

// readHeader reads a packet's length word and header, and returns the
// header and the length of the payload that follows.
func readHeader(r io.Reader, head *[lenSize + HeaderSize]byte) (Header, int, error) {
	if _, err := io.ReadFull(r, head[:lenSize]); err != nil {
		return Header{}, 0, err
	}
	n := binary.BigEndian.Uint32(head[:lenSize])
	if n < lenSize+HeaderSize || n-lenSize > MessageMax {
		return Header{}, 0, fmt.Errorf("%w: length word %d", errFraming, n)
	}
	if _, err := io.ReadFull(r, head[lenSize:]); err != nil {
		return Header{}, 0, noEOF(err)
	}
	return parseHeader(head[lenSize:]), int(n - lenSize - HeaderSize), nil
}

// noEOF: a packet cut short after its length word is unexpected.
func noEOF(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// firstChunk is what readN allocates before any of a packet's bytes
// arrive; most packets fit. It is small because every connection waiting
// for a packet's bytes holds one: 4 KiB for a thousand half-open
// connections is 4 MiB, where 64 KiB was 64 MiB.
const firstChunk = 4 << 10

// readN reads exactly n bytes, growing its buffer as they arrive: a length
// word claiming 32 MiB that the peer never sends costs what it did send,
// not 32 MiB per connection. The server's clients use readFull instead,
// under the receive budget (recvBudget), which bounds what such claims
// cost without copying the buffer as it grows.
func readN(r io.Reader, n int) ([]byte, error) {
	buf := make([]byte, min(n, firstChunk))
	for got := 0; ; {
		m, err := io.ReadFull(r, buf[got:])
		got += m
		if err != nil {
			return nil, noEOF(err)
		}
		if got == n {
			return buf, nil
		}
		buf = append(buf, make([]byte, min(n, 2*len(buf))-len(buf))...)
	}
}

// readFull fills buf from r, calling progress after each read that
// brought bytes.
func readFull(r io.Reader, buf []byte, progress func()) error {
	for got := 0; got < len(buf); {
		m, err := r.Read(buf[got:])
		got += m
		if m > 0 {
			progress()
		}
		if err != nil && got < len(buf) {
			return noEOF(err)
		}
	}
	return nil
}

// discardN reads past n bytes of r in 64 KiB reads, not the 8 KiB of
// io.Discard: a 32 MiB payload nobody reads costs 512 system calls, not
// 4,096.
func discardN(r io.Reader, n int) error {
	buf := discardBufs.Get().(*[]byte)
	defer discardBufs.Put(buf)
	for n > 0 {
		m, err := r.Read((*buf)[:min(n, len(*buf))])
		n -= m
		if err != nil && n > 0 {
			return noEOF(err)
		}
	}
	return nil
}

var discardBufs = sync.Pool{New: func() any { b := make([]byte, 64<<10); return &b }}

func parseHeader(b []byte) Header {
	be := binary.BigEndian
	return Header{
		Prog:   be.Uint32(b[0:]),
		Vers:   be.Uint32(b[4:]),
		Proc:   be.Uint32(b[8:]),
		Type:   Type(be.Uint32(b[12:])),
		Serial: be.Uint32(b[16:]),
		Status: Status(be.Uint32(b[20:])),
	}
}

// startPacket appends a placeholder length word and h to buf.
func startPacket(buf []byte, h Header) []byte {
	be := binary.BigEndian
	buf = be.AppendUint32(buf, 0)
	buf = be.AppendUint32(buf, h.Prog)
	buf = be.AppendUint32(buf, h.Vers)
	buf = be.AppendUint32(buf, h.Proc)
	buf = be.AppendUint32(buf, uint32(h.Type))
	buf = be.AppendUint32(buf, h.Serial)
	return be.AppendUint32(buf, uint32(h.Status))
}

// finishPacket fills in the length word of a packet started at buf[0].
func finishPacket(buf []byte) ([]byte, error) {
	if len(buf)-lenSize > MessageMax {
		return nil, fmt.Errorf("rpc: packet of %d bytes exceeds %d", len(buf), MessageMax+lenSize)
	}
	binary.BigEndian.PutUint32(buf, uint32(len(buf)))
	return buf, nil
}

// rawPacket builds a packet whose payload is p as is.
func rawPacket(h Header, p []byte) []byte {
	buf := startPacket(make([]byte, 0, lenSize+HeaderSize+len(p)), h)
	buf = append(buf, p...)
	binary.BigEndian.PutUint32(buf, uint32(len(buf)))
	return buf
}
