package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// FuzzReadPacket: framing never panics and accepts only sane lengths.
func FuzzReadPacket(f *testing.F) {
	f.Add(unhex(f, goldenAuthListCall))
	f.Add(unhex(f, goldenNoDomainReply))
	f.Add([]byte{0, 0, 0, 27, 1, 2, 3})
	f.Add([]byte{0xff, 0xff, 0xff, 0xff})
	f.Fuzz(func(t *testing.T, data []byte) {
		r := bytes.NewReader(data)
		for {
			h, p, err := readPacket(r)
			if err != nil {
				return
			}
			if len(p) > MessageMax-HeaderSize {
				t.Fatalf("payload of %d bytes", len(p))
			}
			if got := rawPacket(h, p); !bytes.Equal(got[lenSize:], data[len(data)-r.Len()-len(got)+lenSize:len(data)-r.Len()]) {
				t.Fatal("header did not round-trip")
			}
		}
	})
}

func fuzzProgram() *Program {
	return NewProgram(remoteProg, 1,
		Proc(66, "AUTH_LIST", "", High|NoAuth, func(ctx context.Context, c *Client, _ *Void) (*libvirt.AuthListRet, error) {
			c.SetAuthenticated()
			return &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, nil
		}),
		Proc(1, "CONNECT_OPEN", "virConnectOpen", 0, func(ctx context.Context, c *Client, a *libvirt.ConnectOpenArgs) (*Void, error) {
			return nil, nil
		}),
		Proc(34, "DOMAIN_SUSPEND", "virDomainSuspend", 0, func(ctx context.Context, c *Client, a *libvirt.DomainSuspendArgs) (*Void, error) {
			return nil, errors.New("no")
		}).WithReadOnly(Denied(forbidden("read only access prevents virDomainSuspend"))),
		Proc(procPanic, "PANIC", "", 0, func(ctx context.Context, c *Client, a *libvirt.DomainGetSchedulerParametersRet) (*Void, error) {
			panic("boom")
		}),
		StreamProc(procEcho, "ECHO", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Stream, error) {
			pr, pw := io.Pipe()
			return &Stream{Source: pr, Sink: pw,
				Finish: func() error { pw.Close(); return nil },
				Abort:  func() { pw.CloseWithError(errors.New("aborted")); pr.Close() }}, nil
		}),
		StreamProc(procBanner, "BANNER", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Stream, error) {
			return &Stream{Source: strings.NewReader("banner")}, nil
		}),
	)
}

// FuzzServerConn feeds arbitrary bytes to a server connection: whatever
// arrives, the client ends cleanly when its peer goes away, and the server
// keeps serving.
func FuzzServerConn(f *testing.F) {
	seq := func(parts ...[]byte) []byte { return bytes.Join(parts, nil) }
	call := func(proc, serial uint32, body any) []byte {
		return packet(f, Header{Prog: remoteProg, Vers: 1, Proc: proc, Serial: serial}, body)
	}
	f.Add(unhex(f, goldenAuthListCall), false)
	f.Add(seq(call(66, 1, nil), call(1, 2, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///"}})), true)
	f.Add(seq(call(procEcho, 3, nil),
		rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: procEcho, Type: TypeStream, Serial: 3, Status: StatusContinue}, []byte("hi")),
		rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: procEcho, Type: TypeStream, Serial: 3, Status: StatusOK}, nil)), false)
	f.Add(seq(call(procBanner, 4, nil), call(34, 5, &libvirt.DomainSuspendArgs{}), unhex(f, goldenPing)), true)
	f.Add(call(procPanic, 6, nil), false)
	// PINGs back to back, more than yieldEvery: the reader waits for a turn.
	f.Add(bytes.Repeat(unhex(f, goldenPing), 3*yieldEvery), false)
	srv := &Server{Name: "fuzz", MinWorkers: 1, MaxWorkers: 2, PrioWorkers: 1, unpaced: true}
	srv.Register(fuzzProgram())
	defer srv.Close()
	f.Fuzz(func(t *testing.T, data []byte, readOnly bool) {
		ours, theirs := net.Pipe()
		c := srv.addClient(theirs, ListenerOptions{ReadOnly: readOnly, RequireAuth: len(data)%2 == 0})
		go io.Copy(io.Discard, ours)
		ours.Write(data)
		ours.Close()
		<-c.Done()
	})
}
