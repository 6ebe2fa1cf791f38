package rpc

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

var ctx = context.Background()

func dialFixture(t *testing.T, f *fixture, onMessage func(Header, []byte)) *Conn {
	t.Helper()
	c, err := Dial(context.Background(), f.path, nil, onMessage)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func encode(t testing.TB, v any) []byte {
	t.Helper()
	b, err := xdr.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestConnCallAndError(t *testing.T) {
	f := start(t, nil)
	c := dialFixture(t, f, nil)
	r, err := c.Call(ctx, remoteProg, 1, 23, encode(t, &libvirt.DomainLookupByNameArgs{Name: "test"}))
	if err != nil {
		t.Fatal(err)
	}
	var ret libvirt.DomainLookupByNameRet
	if err := xdr.Unmarshal(r.Body, &ret); err != nil || ret.Dom.Name != "test" || r.Header.Serial == 0 {
		t.Fatalf("%+v %v", ret, err)
	}
	_, err = c.Call(ctx, remoteProg, 1, 23, encode(t, &libvirt.DomainLookupByNameArgs{Name: "nope"}))
	w := virerr.As(err).Wire()
	if w.Code != libvirt.ErrNoDomain || w.Domain != 12 || w.Message != "Domain not found" || w.Int1 != -1 {
		t.Fatalf("error relayed as %+v", w)
	}
}

// TestConnConcurrentCalls: replies find their callers whatever their order.
func TestConnConcurrentCalls(t *testing.T) {
	f := start(t, nil)
	c := dialFixture(t, f, nil)
	blocked := make(chan error)
	go func() {
		_, err := c.Call(ctx, remoteProg, 1, procBlock, nil)
		blocked <- err
	}()
	<-f.started
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			r, err := c.Call(ctx, remoteProg, 1, 157, nil)
			var ret libvirt.ConnectGetLibVersionRet
			if err != nil || xdr.Unmarshal(r.Body, &ret) != nil || ret.LibVer != 9000000 {
				t.Errorf("%v %+v", err, ret)
			}
		}()
	}
	wg.Wait()
	f.release <- struct{}{}
	if err := <-blocked; err != nil {
		t.Fatal(err)
	}
}

func TestConnStreams(t *testing.T) {
	f := start(t, nil)
	c := dialFixture(t, f, nil)
	_, st, err := c.CallStream(ctx, remoteProg, 1, procEcho, nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.Write([]byte("hello")); err != nil {
		t.Fatal(err)
	}
	got := make([]byte, 5)
	if _, err := io.ReadFull(st, got); err != nil || string(got) != "hello" {
		t.Fatalf("%q %v", got, err)
	}
	if err := st.Finish(); err != nil {
		t.Fatalf("finish: %v", err)
	}

	_, st, err = c.CallStream(ctx, remoteProg, 1, procBanner, nil)
	if err != nil {
		t.Fatal(err)
	}
	if b, err := io.ReadAll(st); err != nil || string(b) != "banner" {
		t.Fatalf("%q %v", b, err)
	}

	_, st, err = c.CallStream(ctx, remoteProg, 1, procEcho, nil)
	if err != nil {
		t.Fatal(err)
	}
	st.Abort()
	waitFor(t, "the server to abort its stream", func() bool { return f.aborts.Load() == 1 })
	if _, err := st.Read(got); err == nil || err == io.EOF {
		t.Fatalf("read after abort: %v", err)
	}
}

// TestConnEventsAndKeepalive: the server's events reach OnMessage, and its
// keepalive PINGs are answered, so it keeps the connection.
func TestConnEventsAndKeepalive(t *testing.T) {
	f := start(t, func(s *Server) { s.KeepaliveInterval, s.KeepaliveCount = 20*time.Millisecond, 2 })
	got := make(chan Header, 1)
	c := dialFixture(t, f, func(h Header, body []byte) {
		if bytes.Equal(body, encode(t, &libvirt.ConnectGetLibVersionRet{LibVer: 42})) {
			got <- h
		}
	})
	if _, err := c.Call(ctx, remoteProg, 1, 60, encode(t, &libvirt.ConnectSupportsFeatureArgs{Feature: 10})); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // ten keepalive intervals
	sc := f.srv.Client(1)
	if sc == nil {
		t.Fatal("the server dropped the connection: keepalive not answered")
	}
	if err := sc.SendMessage(remoteProg, 1, 318, 1, &libvirt.ConnectGetLibVersionRet{LibVer: 42}); err != nil {
		t.Fatal(err)
	}
	select {
	case h := <-got:
		if h.Proc != 318 || h.Serial != 1 || h.Type != TypeMessage {
			t.Fatalf("%v", h)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("no event")
	}
}

// TestConnEnds: calls fail once the server goes away.
func TestConnEnds(t *testing.T) {
	f := start(t, nil)
	c := dialFixture(t, f, nil)
	f.srv.Close()
	select {
	case <-c.Done():
	case <-time.After(20 * time.Second):
		t.Fatal("connection did not end")
	}
	if _, err := c.Call(ctx, remoteProg, 1, 157, nil); err == nil {
		t.Fatal("a call on an ended connection succeeded")
	}
}

// TestForwardedCall: a Raw procedure that passes calls to another server
// through a Conn answers its client byte for byte as that server does.
func TestForwardedCall(t *testing.T) {
	f := start(t, nil)
	up := dialFixture(t, f, nil)
	fwd := &Server{Name: "forwarder", MinWorkers: 1, MaxWorkers: 2}
	forward := func(ctx context.Context, _ *Client, args any) (any, error) {
		h, _ := CallHeader(ctx)
		r, err := up.Call(ctx, h.Prog, h.Vers, h.Proc, args.(RawBody))
		if err != nil {
			return nil, err
		}
		return RawBody(r.Body), nil
	}
	fwd.Register(NewProgram(remoteProg, 1, &Procedure{Number: 23, Name: "DOMAIN_LOOKUP_BY_NAME", Raw: true, Handler: forward}))
	path := filepath.Join(t.TempDir(), "fwd")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go fwd.Serve(ln)
	t.Cleanup(func() { fwd.Close() })

	for _, name := range []string{"test", "nope"} {
		direct, via := f.dial(t), (&fixture{path: path}).dial(t)
		args := &libvirt.DomainLookupByNameArgs{Name: name}
		direct.call(23, 7, args)
		via.call(23, 7, args)
		dh, db := direct.recv()
		vh, vb := via.recv()
		if dh != vh || !bytes.Equal(db, vb) {
			t.Errorf("%s: direct %v %x, forwarded %v %x", name, dh, db, vh, vb)
		}
	}
}

// explainedEOF is a transport's own account of its end.
type explainedEOF struct{}

func (explainedEOF) Error() string { return "the command reaching the server exited" }

type failingTransport struct{ io.Writer }

func (failingTransport) Read([]byte) (int, error) { return 0, explainedEOF{} }
func (failingTransport) Close() error             { return nil }

// TestConnTransportError: the transport's read error stays reachable
// beside ErrConnClosed.
func TestConnTransportError(t *testing.T) {
	c := NewConn(failingTransport{io.Discard}, nil, nil)
	<-c.Done()
	_, err := c.Call(ctx, remoteProg, 1, 157, nil)
	var e explainedEOF
	if !errors.Is(err, ErrConnClosed) || !errors.As(err, &e) {
		t.Fatalf("%v", err)
	}
}
