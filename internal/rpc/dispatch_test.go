package rpc

import (
	"encoding/binary"
	"net"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func TestDispatchErrors(t *testing.T) {
	f := start(t, nil)
	cases := []struct {
		name   string
		h      Header
		body   []byte
		code   libvirt.ErrorNumber
		domain int32
		msg    string
	}{
		{"unknown proc", Header{Prog: remoteProg, Vers: 1, Proc: 9999}, nil, libvirt.ErrRPC, 7, "unknown procedure: 9999"},
		{"unknown prog", Header{Prog: 0x12345678, Vers: 1, Proc: 1}, nil, libvirt.ErrRPC, 7, "Cannot find program 305419896 version 1"},
		{"unknown vers", Header{Prog: remoteProg, Vers: 2, Proc: 1}, nil, libvirt.ErrRPC, 7, "Cannot find program 536903814 version 2"},
		{"bad status", Header{Prog: remoteProg, Vers: 1, Proc: 157, Status: StatusError}, nil, libvirt.ErrRPC, 7, "Unexpected message status 1"},
		{"no payload", Header{Prog: remoteProg, Vers: 1, Proc: 60}, nil, libvirt.ErrRPC, 7, "Unable to decode message payload"},
		{"short payload", Header{Prog: remoteProg, Vers: 1, Proc: 23}, []byte{0, 0, 0, 9, 'a'}, libvirt.ErrRPC, 7, "Unable to decode message payload"},
		{"panic", Header{Prog: remoteProg, Vers: 1, Proc: procPanic}, nil, libvirt.ErrInternalError, 7, "internal error: virPanic failed unexpectedly"},
	}
	c := f.dial(t)
	for i, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c.t = t
			tc.h.Serial = uint32(100 + i)
			c.sendRaw(rawPacket(tc.h, tc.body))
			h, e := c.recvErr()
			want := tc.h
			want.Type, want.Status = TypeReply, StatusError
			if h != want {
				t.Errorf("header %v, want %v", h, want)
			}
			if e.Code != int32(tc.code) || e.Domain != tc.domain || str(e.Message) != tc.msg {
				t.Errorf("got %d/%d %q, want %d/%d %q", e.Code, e.Domain, str(e.Message), tc.code, tc.domain, tc.msg)
			}
			if e.Level != 2 || e.Int1 != -1 || e.Int2 != -1 || e.Dom != nil || e.Net != nil {
				t.Errorf("remote_error fields: %+v", e)
			}
		})
	}
	// The connection survived all of that.
	c.t = t
	c.call(157, 1, nil)
	if h, _ := c.recv(); h.Status != StatusOK {
		t.Fatalf("after errors: %v", h)
	}
}

func TestAuthRequired(t *testing.T) {
	f := start(t, nil)
	path := f.path + "-auth"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.ServeListener(ln, ListenerOptions{RequireAuth: true})
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &rawConn{t: t, conn: conn, br: newReader(conn)}
	c.call(157, 1, nil)
	if _, e := c.recvErr(); e.Code != int32(libvirt.ErrRPC) || e.Domain != 7 || str(e.Message) != "authentication required" {
		t.Fatalf("got %d/%d %q", e.Code, e.Domain, str(e.Message))
	}
	if got := f.srv.ClientLimits().AnonymousClients; got != 1 {
		t.Fatalf("anonymous clients = %d", got)
	}
	c.call(66, 2, nil) // NoAuth, and authenticates
	if h, _ := c.recv(); h.Status != StatusOK {
		t.Fatalf("AUTH_LIST: %v", h)
	}
	c.call(157, 3, nil)
	if h, _ := c.recv(); h.Status != StatusOK {
		t.Fatalf("after auth: %v", h)
	}
	if got := f.srv.ClientLimits().AnonymousClients; got != 0 {
		t.Fatalf("anonymous clients after auth = %d", got)
	}
}

func TestReadOnlyDenial(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	dom := libvirt.Domain{Name: "test"}
	c.call(34, 1, &libvirt.DomainSuspendArgs{Dom: dom})
	if h, _ := c.recv(); h.Status != StatusOK {
		t.Fatalf("rw suspend: %v", h)
	}
	c.call(1, 2, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{"xen:///system"}, Flags: 1})
	c.recv()
	c.call(34, 3, &libvirt.DomainSuspendArgs{Dom: dom})
	_, e := c.recvErr()
	if e.Code != int32(libvirt.ErrOperationDenied) || e.Domain != 20 ||
		str(e.Message) != "operation forbidden: read only access prevents virDomainSuspend" {
		t.Fatalf("got %d/%d %q", e.Code, e.Domain, str(e.Message))
	}
	c.call(14, 4, &libvirt.DomainGetXMLDescArgs{Dom: dom})
	if h, _ := c.recv(); h.Status != StatusOK {
		t.Fatalf("plain GetXMLDesc denied: %v", h)
	}
	c.call(14, 5, &libvirt.DomainGetXMLDescArgs{Dom: dom, Flags: 1})
	if _, e := c.recvErr(); str(e.Message) != "operation forbidden: virDomainGetXMLDesc with secure flag" {
		t.Fatalf("secure GetXMLDesc: %q", str(e.Message))
	}
}

func TestReadOnlyListener(t *testing.T) {
	f := start(t, nil)
	path := f.path + "-ro"
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.ServeListener(ln, ListenerOptions{ReadOnly: true})
	conn, err := net.Dial("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	c := &rawConn{t: t, conn: conn, br: newReader(conn)}
	c.call(34, 1, &libvirt.DomainSuspendArgs{})
	if _, e := c.recvErr(); e.Code != int32(libvirt.ErrOperationDenied) {
		t.Fatalf("code %d", e.Code)
	}
}

// Framing errors close only the offending connection, with no reply.
func TestBadFramingClosesConnection(t *testing.T) {
	f := start(t, nil)
	good := f.dial(t)
	for _, n := range []uint32{0, 4, 27, MessageMax + 5, 0xffffffff} {
		c := f.dial(t)
		var b [4]byte
		binary.BigEndian.PutUint32(b[:], n)
		c.sendRaw(b[:])
		c.expectClosed()
	}
	good.call(157, 1, nil)
	if h, _ := good.recv(); h.Status != StatusOK {
		t.Fatalf("good client: %v", h)
	}
}

// Stray REPLY, MESSAGE and STREAM packets get nothing on the wire.
func TestUnexpectedTypesIgnored(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	for _, typ := range []Type{TypeReply, TypeMessage, TypeStream, TypeReplyWithFDs, 77} {
		c.sendRaw(rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: 157, Type: typ, Serial: 5}, nil))
	}
	c.sendRaw(rawPacket(Header{Prog: 0x1234, Vers: 1, Proc: 1, Type: TypeMessage}, nil))
	c.call(157, 6, nil)
	if h, _ := c.recv(); h.Serial != 6 || h.Status != StatusOK {
		t.Fatalf("got %v", h)
	}
}

func TestCallWithFDs(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.sendRaw(rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: 157, Type: TypeCallWithFDs, Serial: 3}, []byte{0, 0, 0, 0}))
	if h, _ := c.recv(); h.Serial != 3 || h.Status != StatusOK {
		t.Fatalf("got %v", h)
	}
	c.sendRaw(rawPacket(Header{Prog: remoteProg, Vers: 1, Proc: 157, Type: TypeCallWithFDs, Serial: 4}, []byte{0, 0, 0, 33}))
	c.expectClosed()
}

func TestConnectCloseClosesAfterReply(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(2, 9, nil)
	if h, _ := c.recv(); h.Serial != 9 || h.Status != StatusOK {
		t.Fatalf("got %v", h)
	}
	c.expectClosed()
	waitFor(t, "client removal", func() bool { return f.srv.NumClients() == 0 })
}

// Replies go out as calls complete, not in request order.
func TestOutOfOrderCompletion(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(procBlock, 1, nil)
	<-f.started
	c.call(157, 2, nil)
	if h, _ := c.recv(); h.Serial != 2 {
		t.Fatalf("first reply serial %d, want 2", h.Serial)
	}
	f.release <- struct{}{}
	if h, _ := c.recv(); h.Serial != 1 {
		t.Fatalf("second reply serial %d, want 1", h.Serial)
	}
}
