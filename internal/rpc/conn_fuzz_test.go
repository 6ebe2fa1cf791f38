package rpc

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"testing"
	"time"
)

// FuzzClientConn is the client side of the protocol (Conn, which talks to
// libvirt's own daemons) fed arbitrary bytes by its server: a stream call
// (serial 1) and a plain call (serial 2) are out, then the server sends
// data and hangs up. Whatever it sent, the call, the stream's reader and
// a Finish of a stream read to its end all return, and no call is left
// waiting in the connection's tables.
func FuzzClientConn(f *testing.F) {
	reply := func(serial uint32, status Status, body any) []byte {
		return packet(f, Header{Prog: remoteProg, Vers: 1, Proc: 100, Type: TypeReply, Serial: serial, Status: status}, body)
	}
	data := func(status Status, b []byte) []byte {
		return rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: 100, Type: TypeStream, Serial: 1, Status: status}, b)
	}
	msg := "no"
	rerr := &remoteError{Code: 1, Domain: 7, Message: &msg, Level: 2}
	seq := func(parts ...[]byte) []byte {
		var out []byte
		for _, p := range parts {
			out = append(out, p...)
		}
		return out
	}
	f.Add(seq(reply(1, StatusOK, nil), data(StatusContinue, []byte("data")), data(StatusOK, nil), reply(2, StatusOK, nil)))
	f.Add(seq(reply(2, StatusError, rerr), reply(1, StatusError, rerr)))
	f.Add(seq(unhex(f, goldenPing), unhex(f, goldenEvent), reply(1, StatusOK, nil), data(StatusError, packet(f, Header{}, rerr)[lenSize+HeaderSize:]),
		reply(2, StatusOK, nil)))
	f.Add(seq(reply(1, StatusOK, nil), data(StatusContinue, nil), reply(2, StatusOK, nil), data(StatusOK, nil)))
	f.Add(unhex(f, goldenNoDomainReply))
	f.Add([]byte{0, 0, 0, 28, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		ours, theirs := net.Pipe()
		c := newConn(ours, slog.New(slog.DiscardHandler), func(Header, []byte) {})
		defer c.Close()
		calls := make(chan Header, 16)
		go func() { // the server reads whatever the client sends
			br := bufio.NewReader(theirs)
			for {
				h, _, err := readPacket(br)
				if err != nil {
					return
				}
				if h.Type == TypeCall {
					calls <- h
				}
			}
		}()
		ended := make(chan string, 2)
		sent := func(serial uint32) {
			select {
			case h := <-calls:
				if h.Serial != serial {
					t.Fatalf("call went out with serial %d, want %d", h.Serial, serial)
				}
			case <-time.After(5 * time.Second):
				t.Fatalf("call %d never went out", serial)
			}
		}
		ctx := context.Background()
		go func() {
			_, st, err := c.CallStream(ctx, remoteProg, 1, 100, nil)
			if err == nil {
				if _, err = io.Copy(io.Discard, st); err == nil {
					st.Finish()
				}
			}
			ended <- "stream"
		}()
		sent(1)
		go func() {
			c.Call(ctx, remoteProg, 1, 101, nil)
			ended <- "call"
		}()
		sent(2)
		go func() {
			theirs.Write(data)
			theirs.Close()
		}()
		deadline := time.After(10 * time.Second)
		for range 2 {
			select {
			case <-ended:
			case <-deadline:
				t.Fatalf("the client still waits 10 s after its server hung up (%d bytes sent: %x)", len(data), data)
			}
		}
		c.mu.Lock()
		defer c.mu.Unlock()
		if len(c.pending) != 0 {
			t.Fatalf("%d calls left pending after they returned", len(c.pending))
		}
	})
}
