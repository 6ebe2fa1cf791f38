package remote

import (
	"encoding/binary"
	"io"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// TestHostileClientsSpareOthers: clients that break the framing, send
// undecodable calls, stop half-way through a packet or never read their
// replies do not crash the daemon or hold up a well-behaved client.
func TestHostileClientsSpareOthers(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	sock := filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
	dial := func() net.Conn {
		c, err := net.Dial("unix", sock)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	// A length word beyond libvirt's 32 MiB packet limit closes that connection.
	huge := dial()
	huge.Write([]byte{0x02, 0x00, 0x00, 0x05})
	huge.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, err := huge.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("oversized packet: read %v, want the connection closed", err)
	}
	// Half a packet, then silence: the daemon waits on that client alone.
	dial().Write(call(66, 1)[:10])
	// A DOMAIN_LOOKUP_BY_NAME whose string runs past the packet gets an
	// error reply (VIR_ERR_RPC, 39, from VIR_FROM_RPC, 7) and the connection stays.
	bad := dial()
	bad.Write(call(23, 7, 100, 0x41414141))
	if code, dom, msg := readError(t, bad); code != 39 || dom != 7 || !strings.Contains(msg, "Unable to decode message payload") {
		t.Errorf("undecodable call: error %d/%d %q", code, dom, msg)
	}
	bad.Write(call(66, 8)) // AUTH_LIST still answers
	if code, _, _ := readError(t, bad); code != 0 {
		t.Errorf("after the bad call: error %d", code)
	}
	// Calls whose replies are never read: once max_client_requests are in
	// flight the daemon stops reading this client, so the writes block
	// until the connection is closed at the end of the test.
	deaf := dial()
	go func() {
		for i := range 2000 {
			if _, err := deaf.Write(call(66, uint32(100+i))); err != nil {
				return
			}
		}
	}()
	// Garbage.
	dial().Write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
	// Meanwhile virsh is served.
	d.MustVirsh("define", guestFile(t, "ok", pvXML("ok")))
	if out := d.MustVirsh("list", "--all", "--name"); !strings.Contains(out, "ok") {
		t.Errorf("list after hostile clients: %q", out)
	}
	if d.Exited() {
		t.Fatal("the daemon exited")
	}
}

// readError reads one reply; for an error reply it returns the
// remote_error's code, domain and message, for a success code 0.
func readError(t *testing.T, c net.Conn) (code, dom int32, msg string) {
	t.Helper()
	c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var lenb [4]byte
	if _, err := io.ReadFull(c, lenb[:]); err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	pkt := make([]byte, binary.BigEndian.Uint32(lenb[:])-4)
	if _, err := io.ReadFull(c, pkt); err != nil {
		t.Fatalf("reading a reply: %v", err)
	}
	if binary.BigEndian.Uint32(pkt[20:]) != 1 { // status
		return 0, 0, ""
	}
	body := pkt[24:]
	code = int32(binary.BigEndian.Uint32(body[0:]))
	dom = int32(binary.BigEndian.Uint32(body[4:]))
	if binary.BigEndian.Uint32(body[8:]) == 1 { // message present
		n := binary.BigEndian.Uint32(body[12:])
		msg = string(body[16 : 16+n])
	}
	return code, dom, msg
}
