package rpc

import (
	"errors"
	"net"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

// go-libvirt, an unmodified client, talks to the server: its handshake
// (with the non-canonical 0x01000000 "present" word), calls, an error and
// the CONNECT_CLOSE teardown.
func TestGoLibvirtInterop(t *testing.T) {
	f := start(t, nil)
	conn, err := net.Dial("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	l := libvirt.NewWithDialer(dialers.NewAlreadyConnected(conn))
	if err := l.ConnectToURI("xen:///system"); err != nil {
		t.Fatalf("connect: %v", err)
	}
	ver, err := l.ConnectGetLibVersion()
	if err != nil || ver != 9000000 {
		t.Fatalf("lib version %d, %v", ver, err)
	}
	dom, err := l.DomainLookupByName("test")
	if err != nil || dom != testDom {
		t.Fatalf("lookup: %+v %v", dom, err)
	}
	_, err = l.DomainLookupByName("nosuch")
	var lerr libvirt.Error
	if !errors.As(err, &lerr) || lerr.Code != uint32(libvirt.ErrNoDomain) || lerr.Message != "Domain not found" {
		t.Fatalf("lookup nosuch: %#v", err)
	}
	if !libvirt.IsNotFound(err) {
		t.Fatal("IsNotFound false")
	}
	if err := l.DomainSuspend(dom); err != nil {
		t.Fatalf("suspend: %v", err)
	}
	if err := l.Disconnect(); err != nil {
		t.Fatalf("disconnect: %v", err)
	}
	waitFor(t, "client removal", func() bool { return f.srv.NumClients() == 0 })
}
