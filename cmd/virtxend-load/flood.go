package main

import (
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Wire constants of libvirt's RPC (src/rpc/virnetprotocol.x,
// src/remote/remote_protocol.x) that the flood breaks on purpose.
const (
	messageMax     = 33554432 // VIR_NET_MESSAGE_MAX, the length word excluded
	remoteProgram  = 0x20008086
	keepaliveProg  = 0x6b656570
	procLookupName = 23 // REMOTE_PROC_DOMAIN_LOOKUP_BY_NAME
	procOpen       = 1  // REMOTE_PROC_CONNECT_OPEN
)

// packet is a libvirt RPC packet: length word, header, payload as given.
func packet(prog, proc, typ, serial uint32, payload []byte) []byte {
	b := make([]byte, 28, 28+len(payload))
	be := binary.BigEndian
	be.PutUint32(b[0:], uint32(28+len(payload)))
	be.PutUint32(b[4:], prog)
	be.PutUint32(b[8:], 1)
	be.PutUint32(b[12:], proc)
	be.PutUint32(b[16:], typ)
	be.PutUint32(b[20:], serial)
	return append(b, payload...)
}

func ping() []byte { return packet(keepaliveProg, 1, 2, 0, nil) }

// floodKind is one way of abusing the daemon; round does it once.
type floodKind struct {
	name  string
	round func(f *flood) error
}

var floodKinds = []floodKind{
	{"bad-length", (*flood).badLength},
	{"unknown-program", (*flood).unknownProgram},
	{"truncated-xdr", (*flood).truncatedXDR},
	{"not-open", (*flood).notOpen},
	{"huge-complete", (*flood).hugeComplete},
	{"huge-truncated", (*flood).hugeTruncated},
	{"half-open", (*flood).halfOpen},
	{"ping-stream", (*flood).pingStream},
	{"ping-unread", (*flood).pingUnread},
	{"connect-storm", (*flood).connectStorm},
}

// flood is the hostile client: flooders goroutines for each kind flood
// until stop; half-open connections are kept, up to held, oldest closed
// first.
type flood struct {
	sock    string
	stop    chan struct{}
	huge    []byte // one 32 MiB packet's payload, shared
	mu      sync.Mutex
	held    []net.Conn
	maxHeld int
	counts  map[string]*floodCount
}

// floodCount is what one kind did.
type floodCount struct {
	Rounds, Conns, Packets, Bytes, Failures atomic.Int64
}

// floodReport is a flood's counts, per kind, as JSON.
type floodReport map[string]map[string]int64

func newFlood(sock string, maxHeld int) *flood {
	f := &flood{sock: sock, stop: make(chan struct{}), huge: make([]byte, messageMax-24),
		maxHeld: maxHeld, counts: map[string]*floodCount{}}
	for _, k := range floodKinds {
		f.counts[k.name] = &floodCount{}
	}
	return f
}

// run floods with n goroutines for each kind, all kinds at once, for d
// (and until each kind has had a round: a loaded machine may take longer
// over one round than d) and returns the counts. (Goroutines that cycled
// through the kinds spent the flood waiting on the slowest kinds, the ones
// the daemon paces.)
func (f *flood) run(n int, d time.Duration, kinds []floodKind) floodReport {
	var wg sync.WaitGroup
	for _, k := range kinds {
		for range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				c := f.counts[k.name]
				for !f.stopped() {
					c.Rounds.Add(1)
					if err := k.round(f); err != nil && !f.stopped() {
						c.Failures.Add(1)
					}
				}
			}()
		}
	}
	time.Sleep(d)
	for !f.eachKindStarted(kinds) {
		time.Sleep(10 * time.Millisecond)
	}
	close(f.stop)
	wg.Wait()
	f.mu.Lock()
	for _, c := range f.held {
		c.Close()
	}
	f.held = nil
	f.mu.Unlock()
	rep := floodReport{}
	for name, c := range f.counts {
		rep[name] = map[string]int64{"rounds": c.Rounds.Load(), "connections": c.Conns.Load(),
			"packets": c.Packets.Load(), "bytes": c.Bytes.Load(), "failures": c.Failures.Load()}
	}
	return rep
}

func (f *flood) eachKindStarted(kinds []floodKind) bool {
	for _, k := range kinds {
		if f.counts[k.name].Rounds.Load() == 0 {
			return false
		}
	}
	return true
}

func (f *flood) stopped() bool {
	select {
	case <-f.stop:
		return true
	default:
		return false
	}
}

func (f *flood) dial(kind string) (net.Conn, error) {
	c, err := net.DialTimeout("unix", f.sock, 5*time.Second)
	if err == nil {
		f.counts[kind].Conns.Add(1)
	}
	return c, err
}

// send writes packets on c, counted under kind.
func (f *flood) send(c net.Conn, kind string, pkts ...[]byte) error {
	cnt := f.counts[kind]
	for _, p := range pkts {
		c.SetWriteDeadline(time.Now().Add(10 * time.Second))
		n, err := c.Write(p)
		cnt.Bytes.Add(int64(n))
		if err != nil {
			return err
		}
		cnt.Packets.Add(1)
	}
	return nil
}

// hold keeps c open until the flood ends, closing the oldest held
// connection when maxHeld are held.
func (f *flood) hold(c net.Conn) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.stopped() {
		c.Close()
		return
	}
	f.held = append(f.held, c)
	if len(f.held) > f.maxHeld {
		f.held[0].Close()
		f.held = f.held[1:]
	}
}

// readReplies reads n packets (or until the daemon closes c).
func readReplies(c net.Conn, n int) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var lenb [4]byte
	for range n {
		if _, err := io.ReadFull(c, lenb[:]); err != nil {
			return err
		}
		if _, err := io.CopyN(io.Discard, c, int64(binary.BigEndian.Uint32(lenb[:]))-4); err != nil {
			return err
		}
	}
	return nil
}

// expectClosed reads until the daemon closes c; an error if it does not.
func expectClosed(c net.Conn) error {
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.Copy(io.Discard, c); err != nil {
		return err
	}
	return nil
}

var badLengths = []uint32{0, 4, 27, messageMax + 5, 0xffffffff}

// badLength sends a length word libvirt refuses: the daemon must close.
func (f *flood) badLength() error {
	c, err := f.dial("bad-length")
	if err != nil {
		return err
	}
	defer c.Close()
	n := badLengths[f.counts["bad-length"].Rounds.Load()%int64(len(badLengths))]
	w := binary.BigEndian.AppendUint32(nil, n)
	if err := f.send(c, "bad-length", append(w, make([]byte, 24)...)); err != nil {
		return err
	}
	return expectClosed(c)
}

// unknownProgram sends well-framed calls of a program nobody serves.
func (f *flood) unknownProgram() error {
	return f.calls("unknown-program", func(i uint32) []byte { return packet(0x0badf00d, 1, 0, i, nil) })
}

// truncatedXDR sends lookups whose name string runs past the packet.
func (f *flood) truncatedXDR() error {
	return f.calls("truncated-xdr", func(i uint32) []byte {
		return packet(remoteProgram, procLookupName, 0, i, []byte{0, 0, 0, 100, 'a', 'b', 'c', 'd'})
	})
}

// notOpen sends well-formed lookups on a connection never opened, which
// the remote program refuses ("connection not open").
func (f *flood) notOpen() error {
	return f.calls("not-open", func(i uint32) []byte {
		return packet(remoteProgram, procLookupName, 0, i, []byte{0, 0, 0, 4, 'a', 'b', 'c', 'd'})
	})
}

// calls sends 64 calls on one connection, then reads the 64 error replies.
func (f *flood) calls(kind string, mk func(serial uint32) []byte) error {
	c, err := f.dial(kind)
	if err != nil {
		return err
	}
	defer c.Close()
	pkts := make([][]byte, 64)
	for i := range pkts {
		pkts[i] = mk(uint32(i + 1))
	}
	done := make(chan error, 1)
	go func() { done <- readReplies(c, len(pkts)) }()
	if err := f.send(c, kind, pkts...); err != nil {
		return err
	}
	return <-done
}

// hugeComplete sends one whole 32 MiB call (of an unknown program, or a
// lookup whose arguments do not decode) and reads the error reply.
func (f *flood) hugeComplete() error {
	c, err := f.dial("huge-complete")
	if err != nil {
		return err
	}
	defer c.Close()
	prog := uint32(remoteProgram)
	if f.counts["huge-complete"].Rounds.Load()%2 == 0 {
		prog = 0x0badf00d
	}
	hdr := packet(prog, procLookupName, 0, 1, nil)
	binary.BigEndian.PutUint32(hdr, messageMax+4)
	done := make(chan error, 1)
	go func() { done <- readReplies(c, 1) }()
	if err := f.send(c, "huge-complete", hdr, f.huge); err != nil {
		return err
	}
	return <-done
}

// hugeTruncated claims 32 MiB, sends 4 MiB of it, and either hangs up or
// keeps the connection open with the packet unfinished.
func (f *flood) hugeTruncated() error {
	c, err := f.dial("huge-truncated")
	if err != nil {
		return err
	}
	hdr := packet(remoteProgram, procLookupName, 0, 1, nil)
	binary.BigEndian.PutUint32(hdr, messageMax+4)
	err = f.send(c, "huge-truncated", hdr, f.huge[:4<<20])
	if err != nil || f.counts["huge-truncated"].Rounds.Load()%2 == 0 {
		c.Close()
		return err
	}
	f.hold(c)
	return nil
}

// halfOpen sends part of a header and keeps the connection.
func (f *flood) halfOpen() error {
	c, err := f.dial("half-open")
	if err != nil {
		return err
	}
	if err := f.send(c, "half-open", packet(remoteProgram, procOpen, 0, 1, nil)[:10]); err != nil {
		c.Close()
		return err
	}
	f.hold(c)
	return nil
}

// pingStream sends 1,000 keepalive PINGs in a row and reads the PONGs.
func (f *flood) pingStream() error {
	c, err := f.dial("ping-stream")
	if err != nil {
		return err
	}
	defer c.Close()
	batch := make([]byte, 0, 1000*28)
	for range 1000 {
		batch = append(batch, ping()...)
	}
	done := make(chan error, 1)
	go func() { done <- readReplies(c, 1000) }()
	if err := f.send(c, "ping-stream", batch); err != nil {
		return err
	}
	f.counts["ping-stream"].Packets.Add(999)
	return <-done
}

// pingUnread sends PINGs for half a second without reading a PONG.
func (f *flood) pingUnread() error {
	c, err := f.dial("ping-unread")
	if err != nil {
		return err
	}
	defer c.Close()
	batch := make([]byte, 0, 100*28)
	for range 100 {
		batch = append(batch, ping()...)
	}
	for end := time.Now().Add(500 * time.Millisecond); time.Now().Before(end) && !f.stopped(); {
		c.SetWriteDeadline(end)
		n, err := c.Write(batch)
		f.counts["ping-unread"].Bytes.Add(int64(n))
		f.counts["ping-unread"].Packets.Add(int64(n / 28))
		if err != nil {
			if errors.Is(err, os.ErrDeadlineExceeded) {
				return nil // the daemon stopped reading us: as it should
			}
			return err
		}
	}
	return nil
}

// connectStorm connects and hangs up 200 times, half of them after a
// CONNECT_OPEN.
func (f *flood) connectStorm() error {
	open := packet(remoteProgram, procOpen, 0, 1, []byte{0, 0, 0, 0, 0, 0, 0, 0})
	for i := range 200 {
		c, err := f.dial("connect-storm")
		if err != nil {
			return err
		}
		if i%2 == 1 {
			f.send(c, "connect-storm", open)
			readReplies(c, 1)
		}
		c.Close()
	}
	return nil
}

// runFloodOnly is the flood's own process (-flood-only): the load command
// runs it beside the well-behaved clients so that the flood's CPU is not
// charged to their latency inside one Go runtime.
func runFloodOnly(s settings) error {
	kinds, err := selectKinds(s.floodKinds)
	if err != nil {
		return err
	}
	f := newFlood(s.socket, s.held)
	rep := f.run(s.flooders, s.duration, kinds)
	return json.NewEncoder(os.Stdout).Encode(rep)
}

// selectKinds picks the kinds named in a comma-separated list ("" for all).
func selectKinds(list string) ([]floodKind, error) {
	if list == "" {
		return floodKinds, nil
	}
	var kinds []floodKind
	for _, name := range strings.Split(list, ",") {
		i := slices.IndexFunc(floodKinds, func(k floodKind) bool { return k.name == name })
		if i < 0 {
			return nil, fmt.Errorf("no flood kind %q", name)
		}
		kinds = append(kinds, floodKinds[i])
	}
	return kinds, nil
}

func floodKindNames() []string {
	var names []string
	for _, k := range floodKinds {
		names = append(names, k.name)
	}
	return names
}

func (r floodReport) String() string {
	s := ""
	for _, k := range floodKinds {
		c, ok := r[k.name]
		if !ok || c["rounds"] == 0 {
			continue
		}
		s += fmt.Sprintf("  %-16s %7d rounds %7d conns %9d packets %7.1f MiB %5d failed\n", k.name,
			c["rounds"], c["connections"], c["packets"], float64(c["bytes"])/(1<<20), c["failures"])
	}
	return s
}
