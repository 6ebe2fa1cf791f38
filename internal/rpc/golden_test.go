package rpc

import (
	"bytes"
	"io"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// Golden bytes from CLIENT_TRACE.md (libvirtd 9.0).
const (
	goldenAuthListCall  = "0000001c 20008086 00000001 00000042 00000000 00000000 00000000"
	goldenAuthListReply = "00000024 20008086 00000001 00000042 00000001 00000000 00000000 00000001 00000000"
	goldenNoDomainReply = `00000070 20008086 00000001 00000017 00000001 00000004 00000001
		0000002a 0000000c
		00000001 00000010 446f6d61696e206e6f7420666f756e64
		00000002
		00000000
		00000001 00000010 446f6d61696e206e6f7420666f756e64
		00000000 00000000
		ffffffff ffffffff
		00000000`
	goldenEvent = `00000044 20008086 00000001 0000013e 00000002 00000001 00000000
		00000000 00000004 74657374 6695eb01 f6a48304 79aa97f2 502e193f 00000001 00000003 00000000`
	goldenPing = "0000001c 6b656570 00000001 00000001 00000002 00000000 00000000"
	goldenPong = "0000001c 6b656570 00000001 00000002 00000002 00000000 00000000"
)

func (r *rawConn) recvBytes() []byte {
	r.t.Helper()
	h, p := r.recv()
	return rawPacket(h, p)
}

func TestGoldenAuthList(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.sendRaw(unhex(t, goldenAuthListCall))
	if got, want := c.recvBytes(), unhex(t, goldenAuthListReply); !bytes.Equal(got, want) {
		t.Fatalf("AUTH_LIST reply\n got %x\nwant %x", got, want)
	}
}

func TestGoldenErrorReply(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(23, 4, &libvirt.DomainLookupByNameArgs{Name: "nosuch"})
	if got, want := c.recvBytes(), unhex(t, goldenNoDomainReply); !bytes.Equal(got, want) {
		t.Fatalf("error reply\n got %x\nwant %x", got, want)
	}
}

func TestGoldenEventMessage(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(157, 1, nil) // make sure the client is registered
	c.recv()
	clients := f.srv.Clients()
	if len(clients) != 1 {
		t.Fatalf("%d clients", len(clients))
	}
	msg := &libvirt.DomainEventCallbackLifecycleMsg{Msg: libvirt.DomainEventLifecycleMsg{Dom: testDom, Event: 3}}
	if err := clients[0].SendMessage(remoteProg, 1, 318, 1, msg); err != nil {
		t.Fatal(err)
	}
	if got, want := c.recvBytes(), unhex(t, goldenEvent); !bytes.Equal(got, want) {
		t.Fatalf("event\n got %x\nwant %x", got, want)
	}
}

func TestGoldenPingPong(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.sendRaw(unhex(t, goldenPing))
	if got, want := c.recvBytes(), unhex(t, goldenPong); !bytes.Equal(got, want) {
		t.Fatalf("pong\n got %x\nwant %x", got, want)
	}
}

// A PONG from the client gets nothing back, and the connection stays usable.
func TestPongIgnored(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.sendRaw(unhex(t, goldenPong))
	c.call(157, 7, nil)
	if h, _ := c.recv(); h.Serial != 7 || h.Type != TypeReply {
		t.Fatalf("got %v", h)
	}
	_ = io.EOF
}
