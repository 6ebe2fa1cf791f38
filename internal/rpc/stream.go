package rpc

import (
	"errors"
	"io"
	"sync"
)

// Stream is what a handler returns (as its ret) to turn its call into a
// data stream, as DOMAIN_OPEN_CONSOLE does. After the OK reply (carrying
// Ret), data flows both ways as STREAM packets with the call's proc and
// serial:
//
//   - What Source yields goes to the client in chunks of at most
//     StreamChunk bytes; io.EOF sends the zero-length CONTINUE that means
//     EOF, any other error a STREAM ERROR.
//   - Data the client sends is written to Sink, in order; a write error
//     ends the stream with a STREAM ERROR.
//   - The client's OK calls Finish, its ERROR calls Abort; both are
//     confirmed with an empty STREAM OK (an error from Finish is sent
//     instead). A client that goes away, or a failed stream, gets Abort.
//
// Finish and Abort must make a blocked Source.Read return. Any field may
// be nil.
type Stream struct {
	Ret    any
	Source io.Reader
	Sink   io.Writer
	Finish func() error
	Abort  func()
}

type streamKey struct{ prog, vers, proc, serial uint32 }

func keyOf(h Header) streamKey { return streamKey{h.Prog, h.Vers, h.Proc, h.Serial} }

// serverStream is one open stream of a client.
type serverStream struct {
	c    *Client
	head Header // prog, vers, proc and serial of the opening call
	st   *Stream
	in   chan inPacket
	done chan struct{}
	once sync.Once
}

type inPacket struct {
	h    Header
	data []byte
}

// openStream registers the stream, then sends the call's OK reply, so that
// data the client sends right after the reply finds the stream.
func (c *Client) openStream(h Header, st *Stream) {
	ss := &serverStream{c: c, head: h, st: st, in: make(chan inPacket, 16), done: make(chan struct{})}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		ss.abortBackend()
		c.release()
		return
	}
	if c.streams == nil {
		c.streams = map[streamKey]*serverStream{}
	}
	c.streams[keyOf(h)] = ss
	c.mu.Unlock()
	c.reply(h, st.Ret)
	go ss.receive()
	if st.Source != nil {
		go ss.send()
	}
}

// streamPacket routes a client STREAM packet; each holds a request slot
// until it is handled, which throttles a client writing faster than Sink.
func (c *Client) streamPacket(h Header, payload []byte) {
	c.mu.Lock()
	ss := c.streams[keyOf(h)]
	c.mu.Unlock()
	if ss == nil {
		// Data can trail a stream that has just ended; libvirt drops it too.
		c.log.Debug("ignoring unexpected stream data", "header", h)
		return
	}
	c.acquire()
	select {
	case ss.in <- inPacket{h: h, data: payload}:
	case <-ss.done:
		c.release()
	}
}

func (ss *serverStream) receive() {
	for {
		select {
		case p := <-ss.in:
			more := ss.handle(p)
			ss.c.release()
			if !more {
				return
			}
		case <-ss.done:
			return
		}
	}
}

// handle processes one client packet; false once the stream is over.
func (ss *serverStream) handle(p inPacket) bool {
	if p.h.Type == TypeStreamHole {
		ss.fail(rpcError("Unexpected stream hole"))
		return false
	}
	switch p.h.Status {
	case StatusContinue:
		if ss.st.Sink == nil {
			return true
		}
		if _, err := ss.st.Sink.Write(p.data); err != nil {
			ss.fail(err)
			return false
		}
		return true
	case StatusOK:
		ss.end(false)
		var err error
		if ss.st.Finish != nil {
			err = ss.st.Finish()
		}
		if err != nil {
			ss.c.replyError(p.h, err, false)
		} else {
			ss.confirm()
		}
		return false
	case StatusError:
		ss.end(true)
		ss.confirm()
		return false
	}
	ss.fail(rpcError("stream aborted with unexpected status %d", int32(p.h.Status)))
	return false
}

// confirm sends the empty STREAM OK that acknowledges finish or abort.
func (ss *serverStream) confirm() {
	h := ss.head
	h.Type, h.Status = TypeStream, StatusOK
	ss.c.enqueue(outMsg{data: rawPacket(h, nil)})
}

// fail ends the stream with a STREAM ERROR carrying err.
func (ss *serverStream) fail(err error) {
	if !ss.end(true) {
		return
	}
	eh := ss.head
	eh.Type = TypeStream
	ss.c.replyError(eh, err, false)
}

// send copies Source to the client, one chunk in flight at a time.
func (ss *serverStream) send() {
	buf := make([]byte, StreamChunk)
	for {
		n, err := ss.st.Source.Read(buf)
		if n > 0 && !ss.sendData(buf[:n]) {
			return
		}
		switch {
		case errors.Is(err, io.EOF):
			ss.sendData(nil)
			return
		case err != nil:
			ss.fail(err)
			return
		}
	}
}

// sendData queues a CONTINUE packet and waits until it is written; false
// if the stream or the client ended.
func (ss *serverStream) sendData(data []byte) bool {
	select {
	case <-ss.done:
		return false
	default:
	}
	h := ss.head
	h.Type, h.Status = TypeStream, StatusContinue
	written := make(chan struct{})
	if !ss.c.enqueue(outMsg{data: rawPacket(h, data), done: written}) {
		return false
	}
	select {
	case <-written:
		return true
	case <-ss.done:
		return false
	}
}

// end unregisters the stream once, aborting the backend if asked; false if
// it had already ended.
func (ss *serverStream) end(abort bool) bool {
	first := false
	ss.once.Do(func() {
		first = true
		close(ss.done)
		c := ss.c
		c.mu.Lock()
		if c.streams != nil && c.streams[keyOf(ss.head)] == ss {
			delete(c.streams, keyOf(ss.head))
		}
		c.mu.Unlock()
		if abort {
			ss.abortBackend()
		}
	})
	return first
}

func (ss *serverStream) abortBackend() {
	if ss.st.Abort != nil {
		ss.st.Abort()
	}
}
