package remote

import (
	"encoding/binary"
	"io"
	"net"
	"testing"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/xdr"
	"virtxend/test/daemontest"
)

// legacyClient is a client of the days before callback IDs, speaking the
// protocol by hand: no library sends these registrations any more.
type legacyClient struct {
	t      *testing.T
	c      net.Conn
	serial uint32
}

func dialLegacy(t *testing.T, d *daemontest.Daemon) *legacyClient {
	l := &legacyClient{t: t, c: dialRW(t, d)}
	name := "xen:///system"
	l.call(1, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{name}})
	return l
}

// call sends a remote-program call and waits for its reply, failing the
// test on an error reply; messages read meanwhile are dropped.
func (l *legacyClient) call(proc uint32, args any) {
	l.t.Helper()
	l.serial++
	var body []byte
	if args != nil {
		var err error
		if body, err = xdr.Marshal(args); err != nil {
			l.t.Fatal(err)
		}
	}
	pkt := make([]byte, 28, 28+len(body))
	for i, w := range []uint32{uint32(28 + len(body)), 0x20008086, 1, proc, 0, l.serial, 0} {
		binary.BigEndian.PutUint32(pkt[4*i:], w)
	}
	if _, err := l.c.Write(append(pkt, body...)); err != nil {
		l.t.Fatal(err)
	}
	for {
		p, typ, status, serial, _ := l.read()
		if typ == 1 && serial == l.serial {
			if status != 0 {
				l.t.Fatalf("procedure %d failed: %x", proc, p)
			}
			return
		}
	}
}

// read returns the next packet's body with its type, status, serial and
// procedure.
func (l *legacyClient) read() (body []byte, typ, status, serial, proc uint32) {
	l.t.Helper()
	l.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var hdr [28]byte
	if _, err := io.ReadFull(l.c, hdr[:]); err != nil {
		l.t.Fatalf("reading: %v", err)
	}
	n := binary.BigEndian.Uint32(hdr[0:])
	body = make([]byte, n-28)
	if _, err := io.ReadFull(l.c, body); err != nil {
		l.t.Fatalf("reading: %v", err)
	}
	w := func(i int) uint32 { return binary.BigEndian.Uint32(hdr[4*i:]) }
	return body, w(4), w(6), w(5), w(3)
}

// lifecycle waits for the next legacy lifecycle message
// (REMOTE_PROC_DOMAIN_EVENT_LIFECYCLE, 107).
func (l *legacyClient) lifecycle() libvirt.DomainEventLifecycleMsg {
	l.t.Helper()
	for {
		body, typ, _, _, proc := l.read()
		if typ != 2 {
			continue
		}
		if proc != 107 {
			l.t.Fatalf("message %d, want the legacy lifecycle message 107", proc)
		}
		var m libvirt.DomainEventLifecycleMsg
		if err := xdr.Unmarshal(body, &m); err != nil {
			l.t.Fatal(err)
		}
		return m
	}
}

// TestLegacyEventRegistrations: CONNECT_DOMAIN_EVENT_REGISTER (105) and
// CONNECT_DOMAIN_EVENT_REGISTER_ANY (167) deliver lifecycle events as the
// legacy message 107, and stop after their deregistrations.
func TestLegacyEventRegistrations(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	old := dialLegacy(t, d)
	old.call(105, nil)
	anyc := dialLegacy(t, d)
	anyc.call(167, &libvirt.ConnectDomainEventRegisterAnyArgs{EventID: 0})
	d.MustVirsh("define", guestFile(t, "lg", pvXML("lg")))
	for name, c := range map[string]*legacyClient{"register": old, "register-any": anyc} {
		if m := c.lifecycle(); m.Dom.Name != "lg" || m.Event != int32(libvirt.DomainEventDefined) ||
			m.Detail != int32(libvirt.DomainEventDefinedAdded) {
			t.Errorf("%s: %+v, want lg defined/added", name, m)
		}
	}
	old.call(106, nil)
	anyc.call(168, &libvirt.ConnectDomainEventDeregisterAnyArgs{EventID: 0})
	d.MustVirsh("undefine", "lg")
	// Each connection still answers, and no event arrives before the reply.
	for _, c := range []*legacyClient{old, anyc} {
		c.serial++
		c.c.Write(call(66, c.serial))
		if _, typ, _, serial, proc := c.read(); typ != 1 || serial != c.serial {
			t.Errorf("after deregistering: packet type %d proc %d serial %d, want the AUTH_LIST reply", typ, proc, serial)
		}
	}
}
