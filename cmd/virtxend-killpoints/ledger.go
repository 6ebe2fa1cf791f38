package main

import (
	"errors"
	"fmt"
	"math/rand"
	"net"
	"sort"
	"sync"
	"sync/atomic"
	"time"

	libvirt "github.com/digitalocean/go-libvirt"
	"github.com/digitalocean/go-libvirt/socket/dialers"
)

// pending is an operation sent and not (yet) acknowledged.
type pending struct {
	op     string
	before guest
	after  guest
	// partial are the in-between states the operation may leave.
	partial []guest
}

// entry is the record of one domain name.
type entry struct {
	acked   guest    // the state acknowledged operations left
	pending *pending // the operation in flight, at most one per name
	history []string // the last operations, for a failure's report
}

// historyLen is how many of a name's operations a report shows.
const historyLen = 16

// ledger is the acknowledged history: every name belongs to one client, so
// a name's operations are a sequence and at most one is in flight.
type ledger struct {
	mu    sync.Mutex
	names map[string]*entry
	cycle int
	byOp  map[string]int64
	acked atomic.Int64
	seq   atomic.Int64 // the metadata values, unique over the run
}

func newLedger(clients, perClient int) (*ledger, [][]string) {
	l := &ledger{names: map[string]*entry{}, byOp: map[string]int64{}}
	owned := make([][]string, clients)
	for c := range clients {
		for i := range perClient {
			name := fmt.Sprintf("kp%d-%d", c, i)
			l.names[name] = &entry{acked: guest{ID: -1}}
			owned[c] = append(owned[c], name)
		}
	}
	return l, owned
}

func (l *ledger) sortedNames() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	names := make([]string, 0, len(l.names))
	for n := range l.names {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func (l *ledger) state(name string) guest {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.names[name].acked
}

func (l *ledger) note(e *entry, s string) {
	e.history = append(e.history, fmt.Sprintf("cycle %d: %s", l.cycle, s))
	if len(e.history) > historyLen {
		e.history = e.history[len(e.history)-historyLen:]
	}
}

func (l *ledger) begin(name string, o op, before, after guest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.names[name]
	p := &pending{op: o.name, before: before, after: after}
	if o.partial != nil {
		p.partial = o.partial(before, after)
	}
	e.pending = p
	l.note(e, "sent "+o.name+" -> "+after.String())
}

func (l *ledger) ack(name string, after guest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.names[name]
	l.byOp[e.pending.op]++
	e.acked, e.pending = after, nil
	l.note(e, "acknowledged -> "+after.String())
	l.acked.Add(1)
}

// settle records what a restarted daemon showed for name as the state the
// next cycle starts from, and forgets the operation in flight.
func (l *ledger) settle(name string, seen guest) {
	l.mu.Lock()
	defer l.mu.Unlock()
	e := l.names[name]
	e.acked, e.pending = seen, nil
	l.note(e, "after the restart: "+seen.String())
}

// runClient makes operations on its names until its connection fails or
// stop is closed. It returns what ended it: nil when stopped, the
// daemon's error when the daemon refused an operation (the harness only
// sends operations that apply), else the lost connection.
func runClient(sock string, lg *ledger, names []string, rng *rand.Rand, stop <-chan struct{}) error {
	l, err := dial(sock)
	if err != nil {
		return err
	}
	defer l.Disconnect()
	for {
		select {
		case <-stop:
			return nil
		default:
		}
		name := names[rng.Intn(len(names))]
		before := lg.state(name)
		o := pickOp(rng, before)
		after := o.plan(before, int(lg.seq.Add(1)), rng)
		lg.begin(name, o, before, after)
		id, err := o.do(l, name, before, after)
		if err != nil {
			return fmt.Errorf("%s %s: %w", o.name, name, err)
		}
		if after.ID == anyID {
			after.ID = id
		}
		lg.ack(name, after)
	}
}

// refused reports whether err is the daemon's answer (rather than the
// connection ending with the daemon).
func refused(err error) bool {
	var le libvirt.Error
	return errors.As(err, &le)
}

// dial opens a go-libvirt connection to xen:///system on sock.
func dial(sock string) (*libvirt.Libvirt, error) {
	conn, err := net.DialTimeout("unix", sock, 5*time.Second)
	if err != nil {
		return nil, err
	}
	l := libvirt.NewWithDialer(dialers.NewAlreadyConnected(conn))
	if err := l.ConnectToURI("xen:///system"); err != nil {
		conn.Close()
		return nil, err
	}
	return l, nil
}
