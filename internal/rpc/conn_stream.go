package rpc

import (
	"errors"
	"io"
	"sync"
)

// ClientStream is the data stream a Conn's call opened (a volume upload or
// download): the client side of libvirt's stream protocol. Read returns
// the server's data (io.EOF at its end, the server's error if it fails
// the stream); Write sends data; Finish ends a stream the client wrote,
// Abort gives it up. It passes data through as it comes, so it can sit
// between the daemon's own client and the server it forwards to.
type ClientStream struct {
	c    *Conn
	head Header // the opening call's header

	mu      sync.Mutex
	cond    *sync.Cond
	queue   []streamPacket
	pending []byte // the part of the head packet Read has not returned
	ended   bool   // the server sent EOF, OK or an error
	err     error  // the server's error, or the connection's
}

type streamPacket struct {
	data []byte
	eof  bool  // a zero-length CONTINUE or a STREAM OK
	err  error // a STREAM ERROR, or the connection ending
}

func newClientStream(c *Conn, h Header) *ClientStream {
	st := &ClientStream{c: c, head: h}
	st.cond = sync.NewCond(&st.mu)
	return st
}

// receive takes a STREAM packet from the server.
func (st *ClientStream) receive(h Header, body []byte) {
	switch h.Status {
	case StatusContinue:
		st.push(streamPacket{data: body, eof: len(body) == 0})
	case StatusOK:
		st.push(streamPacket{eof: true})
	default:
		st.push(streamPacket{err: relayedError(body)})
	}
}

func (st *ClientStream) push(p streamPacket) {
	st.mu.Lock()
	st.queue = append(st.queue, p)
	st.cond.Broadcast()
	st.mu.Unlock()
}

// next waits for the server's next packet.
func (st *ClientStream) next() streamPacket {
	st.mu.Lock()
	defer st.mu.Unlock()
	for len(st.queue) == 0 {
		st.cond.Wait()
	}
	p := st.queue[0]
	st.queue[0] = streamPacket{} // the array outlives the slot: do not keep its data
	st.queue = st.queue[1:]
	return p
}

// Read returns the server's data.
func (st *ClientStream) Read(b []byte) (int, error) {
	for len(st.pending) == 0 {
		if err := st.endErr(); err != nil {
			return 0, err
		}
		p := st.next()
		switch {
		case p.err != nil:
			st.end(p.err)
		case p.eof:
			st.end(io.EOF)
		default:
			st.pending = p.data
		}
	}
	n := copy(b, st.pending)
	st.pending = st.pending[n:]
	return n, nil
}

func (st *ClientStream) endErr() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.err
}

func (st *ClientStream) end(err error) {
	st.mu.Lock()
	if st.err == nil {
		st.err = err
	}
	st.mu.Unlock()
	if !errors.Is(err, io.EOF) {
		st.forget()
	}
}

// failed is the server's error if it has failed the stream, without
// waiting: a writer checks it before each packet.
func (st *ClientStream) failed() error {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, p := range st.queue {
		if p.err != nil {
			return p.err
		}
	}
	if st.err != nil && !errors.Is(st.err, io.EOF) {
		return st.err
	}
	return nil
}

// Write sends b to the server in packets of at most StreamChunk bytes.
func (st *ClientStream) Write(b []byte) (int, error) {
	n := 0
	for len(b) > 0 {
		if err := st.failed(); err != nil {
			return n, err
		}
		chunk := b[:min(len(b), StreamChunk)]
		if err := st.send(StatusContinue, chunk); err != nil {
			return n, err
		}
		n += len(chunk)
		b = b[len(chunk):]
	}
	return n, nil
}

func (st *ClientStream) send(status Status, body []byte) error {
	h := st.head
	h.Type, h.Status = TypeStream, status
	return st.c.write(h, body)
}

// Finish ends a stream the client wrote: it sends the server's OK and
// waits for the server to confirm it, or to report why it failed.
func (st *ClientStream) Finish() error {
	defer st.forget()
	if err := st.failed(); err != nil {
		return err
	}
	if err := st.send(StatusOK, nil); err != nil {
		return err
	}
	for {
		p := st.next()
		switch {
		case p.err != nil:
			return p.err
		case p.eof:
			return nil
		}
	}
}

// Abort gives the stream up: the server is told, and the stream ends.
func (st *ClientStream) Abort() {
	st.send(StatusError, nil)
	st.end(errStreamAborted)
	st.push(streamPacket{err: errStreamAborted}) // wakes a blocked Read
}

var errStreamAborted = errors.New("rpc: stream aborted")

// forget unregisters the stream from its connection.
func (st *ClientStream) forget() {
	c := st.c
	c.mu.Lock()
	if c.streams[st.head.Serial] == st {
		delete(c.streams, st.head.Serial)
	}
	c.mu.Unlock()
}
