package rpc

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"io"
	"net"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

const remoteProg = 0x20008086

// Procedures of the test program beyond libvirt's numbers.
const (
	procBlock  = 900 // low priority; waits for the test to release it
	procPanic  = 901
	procEcho   = 201 // stream echoing what the client sends
	procBanner = 202 // stream sending a banner then EOF
)

type fixture struct {
	srv     *Server
	path    string
	started chan uint32   // serials of procBlock calls as they start
	release chan struct{} // one value lets one procBlock call finish
	aborts  atomic.Int32  // stream Abort calls
}

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testDom = libvirt.Domain{Name: "test", ID: 1, UUID: libvirt.UUID{
	0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04, 0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f}}

func (f *fixture) program() *Program {
	v := func(ctx context.Context, c *Client, a *Void) (*Void, error) { return nil, nil }
	return NewProgram(remoteProg, 1,
		Proc(66, "AUTH_LIST", "", High|NoAuth, func(ctx context.Context, c *Client, _ *Void) (*libvirt.AuthListRet, error) {
			c.SetAuthenticated()
			return &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, nil
		}),
		Proc(1, "CONNECT_OPEN", "virConnectOpen", High, func(ctx context.Context, c *Client, a *libvirt.ConnectOpenArgs) (*Void, error) {
			if a.Flags&1 != 0 {
				c.SetReadOnly()
			}
			return nil, nil
		}),
		Proc(2, "CONNECT_CLOSE", "virConnectClose", 0, func(ctx context.Context, c *Client, _ *Void) (*Void, error) {
			c.DelayedClose()
			return nil, nil
		}),
		Proc(60, "CONNECT_SUPPORTS_FEATURE", "virConnectSupportsFeature", High,
			func(ctx context.Context, c *Client, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
				if a.Feature == 10 {
					c.StartKeepalive()
				}
				return &libvirt.ConnectSupportsFeatureRet{Supported: 1}, nil
			}),
		Proc(157, "CONNECT_GET_LIB_VERSION", "virConnectGetLibVersion", High,
			func(ctx context.Context, c *Client, _ *Void) (*libvirt.ConnectGetLibVersionRet, error) {
				return &libvirt.ConnectGetLibVersionRet{LibVer: 9000000}, nil
			}),
		Proc(23, "DOMAIN_LOOKUP_BY_NAME", "virDomainLookupByName", High,
			func(ctx context.Context, c *Client, a *libvirt.DomainLookupByNameArgs) (*libvirt.DomainLookupByNameRet, error) {
				if a.Name != "test" {
					return nil, virerr.New(12, libvirt.ErrNoDomain, "")
				}
				return &libvirt.DomainLookupByNameRet{Dom: testDom}, nil
			}),
		Proc(34, "DOMAIN_SUSPEND", "virDomainSuspend", 0, func(ctx context.Context, c *Client, a *libvirt.DomainSuspendArgs) (*Void, error) {
			return nil, nil
		}).WithReadOnly(Denied(forbidden("read only access prevents virDomainSuspend"))),
		Proc(14, "DOMAIN_GET_XML_DESC", "virDomainGetXMLDesc", High,
			func(ctx context.Context, c *Client, a *libvirt.DomainGetXMLDescArgs) (*libvirt.DomainGetXMLDescRet, error) {
				return &libvirt.DomainGetXMLDescRet{XML: "<domain/>"}, nil
			}).WithReadOnly(DeniedIf(func(a *libvirt.DomainGetXMLDescArgs) bool { return a.Flags&1 != 0 },
			forbidden("virDomainGetXMLDesc with secure flag"))),
		Proc(procBlock, "BLOCK", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Void, error) {
			h, _ := CallHeader(ctx)
			f.started <- h.Serial
			<-f.release
			return nil, nil
		}),
		Proc(procPanic, "PANIC", "virPanic", 0, func(ctx context.Context, c *Client, _ *Void) (*Void, error) {
			panic("boom")
		}),
		StreamProc(procEcho, "ECHO", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Stream, error) {
			pr, pw := io.Pipe()
			return &Stream{Source: pr, Sink: pw,
				Finish: func() error { pw.Close(); pr.Close(); return nil },
				Abort:  func() { f.aborts.Add(1); pw.CloseWithError(errors.New("aborted")); pr.Close() },
			}, nil
		}),
		StreamProc(procBanner, "BANNER", "", 0, func(ctx context.Context, c *Client, _ *Void) (*Stream, error) {
			return &Stream{Source: strings.NewReader("banner")}, nil
		}),
		Proc(903, "VOID", "", 0, v),
	)
}

// forbidden is libvirt's VIR_ERR_OPERATION_DENIED error as its domain
// API entry points raise it.
func forbidden(msg string) error {
	return virerr.New(virerr.FromDomain, libvirt.ErrOperationDenied, "%s", msg)
}

// start serves the test program on a fresh Unix socket.
func start(t testing.TB, configure func(*Server)) *fixture {
	t.Helper()
	f := &fixture{started: make(chan uint32, 16), release: make(chan struct{}, 16)}
	f.srv = &Server{Name: "test", MinWorkers: 2, MaxWorkers: 4, PrioWorkers: 1}
	if configure != nil {
		configure(f.srv)
	}
	f.srv.Register(f.program())
	f.path = filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.Serve(ln)
	t.Cleanup(func() {
		close(f.release)
		f.srv.Close()
	})
	return f
}

type rawConn struct {
	t    testing.TB
	conn net.Conn
	br   *bufio.Reader
}

func (f *fixture) dial(t testing.TB) *rawConn {
	t.Helper()
	conn, err := net.Dial("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return &rawConn{t: t, conn: conn, br: bufio.NewReader(conn)}
}

func (r *rawConn) sendRaw(b []byte) {
	r.t.Helper()
	if _, err := r.conn.Write(b); err != nil {
		r.t.Fatal(err)
	}
}

// packet builds a packet with body XDR-encoded (nil = empty).
func packet(t testing.TB, h Header, body any) []byte {
	t.Helper()
	buf := startPacket(nil, h)
	if body != nil {
		var err error
		if buf, err = xdr.Append(buf, body); err != nil {
			t.Fatal(err)
		}
	}
	buf, err := finishPacket(buf)
	if err != nil {
		t.Fatal(err)
	}
	return buf
}

func (r *rawConn) call(proc, serial uint32, body any) {
	r.t.Helper()
	r.sendRaw(packet(r.t, Header{Prog: remoteProg, Vers: 1, Proc: proc, Serial: serial}, body))
}

// recv reads one packet; the deadline only stops a broken test hanging.
func (r *rawConn) recv() (Header, []byte) {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	h, p, err := readPacket(r.br)
	if err != nil {
		r.t.Fatalf("recv: %v", err)
	}
	return h, p
}

// recvErr reads an error reply and decodes its remote_error.
func (r *rawConn) recvErr() (Header, remoteError) {
	r.t.Helper()
	h, p := r.recv()
	if h.Status != StatusError {
		r.t.Fatalf("want an error reply, got %v", h)
	}
	var e remoteError
	if err := xdr.Unmarshal(p, &e); err != nil {
		r.t.Fatal(err)
	}
	return h, e
}

// expectClosed waits for the server to close the connection.
func (r *rawConn) expectClosed() {
	r.t.Helper()
	_ = r.conn.SetReadDeadline(time.Now().Add(20 * time.Second))
	for {
		if _, _, err := readPacket(r.br); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, net.ErrClosed) || strings.Contains(err.Error(), "reset") {
				return
			}
			r.t.Fatalf("want closed connection, got %v", err)
		}
	}
}

// waitFor polls cond; tests use it to wait for server-side state.
func waitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

func str(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

func newReader(conn net.Conn) *bufio.Reader { return bufio.NewReader(conn) }
