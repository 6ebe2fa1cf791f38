package rpc

import (
	"bytes"
	"testing"
)

func (r *rawConn) stream(proc, serial uint32, status Status, data []byte) {
	r.t.Helper()
	r.sendRaw(rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: proc, Type: TypeStream, Serial: serial, Status: status}, data))
}

func (r *rawConn) expectStream(proc, serial uint32, status Status, data []byte) {
	r.t.Helper()
	h, p := r.recv()
	want := Header{Prog: remoteProg, Vers: 1, Proc: proc, Type: TypeStream, Serial: serial, Status: status}
	if h != want || !bytes.Equal(p, data) {
		r.t.Fatalf("got %v %q, want %v %q", h, p, want, data)
	}
}

func TestStreamEchoAndFinish(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procEcho, 7, nil)
	if h, p := c.recv(); h.Serial != 7 || h.Type != TypeReply || h.Status != StatusOK || len(p) != 0 {
		t.Fatalf("open reply %v %x", h, p)
	}
	for _, msg := range []string{"hello", "console"} {
		c.stream(procEcho, 7, StatusContinue, []byte(msg))
		c.expectStream(procEcho, 7, StatusContinue, []byte(msg))
	}
	big := bytes.Repeat([]byte("x"), StreamChunk+10)
	c.stream(procEcho, 7, StatusContinue, big)
	var got []byte
	for len(got) < len(big) {
		h, p := c.recv()
		if h.Type != TypeStream || h.Status != StatusContinue || len(p) > StreamChunk {
			t.Fatalf("chunk %v len %d", h, len(p))
		}
		got = append(got, p...)
	}
	c.stream(procEcho, 7, StatusOK, nil)
	c.expectStream(procEcho, 7, StatusOK, nil)
	// Data trailing a finished stream is dropped without a reply.
	c.stream(procEcho, 7, StatusContinue, []byte("late"))
	c.call(157, 8, nil)
	if h, _ := c.recv(); h.Serial != 8 || h.Type != TypeReply {
		t.Fatalf("after stream: %v", h)
	}
	if f.aborts.Load() != 0 {
		t.Fatal("finish aborted the backend")
	}
}

func TestStreamAbort(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procEcho, 3, nil)
	c.recv()
	c.stream(procEcho, 3, StatusError, nil)
	c.expectStream(procEcho, 3, StatusOK, nil)
	if f.aborts.Load() != 1 {
		t.Fatalf("%d aborts", f.aborts.Load())
	}
}

func TestStreamEOF(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procBanner, 4, nil)
	c.recv()
	c.expectStream(procBanner, 4, StatusContinue, []byte("banner"))
	c.expectStream(procBanner, 4, StatusContinue, nil) // EOF
	c.stream(procBanner, 4, StatusOK, nil)
	c.expectStream(procBanner, 4, StatusOK, nil)
}

func TestStreamAbortedOnDisconnect(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procEcho, 3, nil)
	c.recv()
	c.conn.Close()
	waitFor(t, "stream abort", func() bool { return f.aborts.Load() == 1 })
}

func TestStreamHoleRejected(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procEcho, 5, nil)
	c.recv()
	c.sendRaw(rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: procEcho, Type: TypeStreamHole, Serial: 5, Status: StatusContinue}, make([]byte, 12)))
	h, e := c.recvErr()
	if h.Type != TypeStream || h.Serial != 5 || str(e.Message) != "Unexpected stream hole" {
		t.Fatalf("%v %q", h, str(e.Message))
	}
}
