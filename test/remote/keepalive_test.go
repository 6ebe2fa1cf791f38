package remote

import (
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// call is a remote-program CALL packet with a raw payload.
func call(proc, serial uint32, payload ...uint32) []byte {
	words := append([]uint32{0, 0x20008086, 1, proc, 0, serial, 0}, payload...)
	b := make([]byte, 4*len(words))
	for i, w := range words {
		binary.BigEndian.PutUint32(b[4*i:], w)
	}
	binary.BigEndian.PutUint32(b, uint32(len(b)))
	return b
}

// readUntilClosed reads packets until the daemon closes the connection,
// returning how many keepalive PINGs it sent.
func readUntilClosed(t *testing.T, c net.Conn, limit time.Duration) (pings int, closed bool) {
	c.SetReadDeadline(time.Now().Add(limit))
	for {
		var hdr [28]byte
		if _, err := io.ReadFull(c, hdr[:]); err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return pings, false
			}
			return pings, true
		}
		n := binary.BigEndian.Uint32(hdr[0:])
		io.CopyN(io.Discard, c, int64(n)-28)
		if binary.BigEndian.Uint32(hdr[4:]) == 0x6b656570 && binary.BigEndian.Uint32(hdr[12:]) == 1 {
			pings++
		}
	}
}

func TestKeepaliveOnlyForClientsThatAsk(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "keepalive_interval = 1\nkeepalive_count = 2\n")
	d := daemontest.Start(t, root)
	sock := filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)

	// A client that asks for keepalive and then never answers is dropped.
	asker, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Close()
	asker.Write(call(60, 1, 10)) // CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
	pings, closed := readUntilClosed(t, asker, 60*time.Second)
	if !closed || pings != 2 {
		t.Errorf("silent keepalive client: %d pings, closed %v; want 2 pings then close", pings, closed)
	}

	// A client that never asked (go-libvirt, python without an event loop)
	// is never pinged, however long it is idle.
	quiet, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer quiet.Close()
	quiet.Write(call(66, 1)) // AUTH_LIST
	if pings, closed := readUntilClosed(t, quiet, 4*time.Second); pings != 0 || closed {
		t.Errorf("client that did not ask: %d pings, closed %v", pings, closed)
	}

	// virsh asks, and answers the PINGs: it stays connected.
	events := startEventLoop(t, d)
	time.Sleep(4 * time.Second) // several keepalive intervals
	d.MustVirsh("define", guestFile(t, "late", pvXML("late")))
	events.waitFor(t, "'late': Defined Added")
}
