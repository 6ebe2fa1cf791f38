package events

import (
	"errors"
	"reflect"
	"slices"
	"testing"
)

// modelSub is what a subscriber should be: its callbacks, the deliveries
// queued and not yet read, and whether it was dropped, and why.
type modelSub struct {
	s         *Subscriber
	queueLen  int
	callbacks []callback
	queue     []Delivery
	err       error
}

// FuzzBroker runs a sequence of subscribes, registrations,
// deregistrations, publications, closes and reads, each op two bytes,
// against a model of the broker: the same callback IDs and errors, and
// each subscriber's queue holding exactly the deliveries of its matching
// callbacks, in the order they were registered (as libvirt dispatches
// them), until it overflows and is dropped.
func FuzzBroker(f *testing.F) {
	f.Add([]byte{0, 2, 1, 0, 3, 0, 5, 0})
	f.Add([]byte{0, 0, 1, 0x41, 1, 0x02, 1, 0x05, 3, 0, 3, 1, 5, 0, 2, 1, 3, 0, 5, 0})
	f.Add([]byte{0, 0, 0, 1, 1, 0, 1, 1, 3, 0, 3, 0, 3, 0, 4, 0, 1, 0, 5, 0, 5, 1})
	f.Add([]byte{1, 0, 2, 9, 1, 0xff, 1, 0x30})
	f.Fuzz(func(t *testing.T, ops []byte) {
		b := NewBroker()
		defer b.Close()
		var subs []*modelSub
		next := int32(1)
		sub := func(arg byte) *modelSub {
			if len(subs) == 0 {
				return nil
			}
			return subs[int(arg)%len(subs)]
		}
		for i := 0; i+1 < len(ops); i += 2 {
			op, arg := ops[i]%6, ops[i+1]
			m := sub(arg)
			switch {
			case op == 0 && len(subs) < 3:
				n := 1 + int(arg)%4
				subs = append(subs, &modelSub{s: b.Subscribe(n), queueLen: n})
			case op == 1 && m != nil:
				eventID := int32(arg>>2)%(IDLast+2) - 1
				cb := callback{id: next, eventID: eventID, legacy: arg&2 != 0}
				if arg&1 != 0 {
					u := [16]byte{arg >> 7}
					cb.dom = &u
				}
				id, err := m.s.Register(eventID, cb.dom, cb.legacy)
				dup := slices.ContainsFunc(m.callbacks, func(c callback) bool {
					return c.eventID == cb.eventID && c.legacy == cb.legacy && sameDom(c.dom, cb.dom)
				})
				wantErr := eventID < 0 || eventID >= IDLast || m.err != nil || dup
				if (err != nil) != wantErr || (err == nil && id != next) {
					t.Fatalf("Register(%d, %v, %v) = %d, %v; want error %v, id %d", eventID, cb.dom, cb.legacy, id, err, wantErr, next)
				}
				if err == nil {
					m.callbacks = append(m.callbacks, cb)
					next++
				}
			case op == 2 && m != nil:
				id := int32(arg>>2) % 8
				known := slices.ContainsFunc(m.callbacks, func(c callback) bool { return c.id == id })
				if err := m.s.Deregister(id); (err == nil) != known {
					t.Fatalf("Deregister(%d) = %v, registered: %v", id, err, known)
				}
				m.callbacks = slices.DeleteFunc(m.callbacks, func(c callback) bool { return c.id == id })
			case op == 3:
				ev := NewLifecycle(Domain{Name: "d", UUID: [16]byte{arg & 1}, ID: 1}, 0, 0)
				ev.ID = int32(arg>>1) % IDLast
				b.Publish(ev)
				for _, m := range subs {
					m.publish(ev)
				}
			case op == 4 && m != nil:
				m.s.Close()
				if m.err == nil {
					m.err = ErrClosed
				}
			case op == 5 && m != nil:
				m.check(t)
			}
		}
		for _, m := range subs {
			m.check(t)
		}
	})
}

func (m *modelSub) publish(ev Event) {
	if m.err != nil {
		return
	}
	for _, cb := range m.callbacks {
		if cb.eventID != ev.ID || (cb.dom != nil && *cb.dom != ev.Dom.UUID) {
			continue
		}
		if len(m.queue) == m.queueLen {
			m.err = ErrOverflow
			return
		}
		m.queue = append(m.queue, Delivery{CallbackID: cb.id, Legacy: cb.legacy, Event: ev})
	}
}

// check reads what the subscriber queued and compares it, and its state,
// with the model's.
func (m *modelSub) check(t *testing.T) {
	var got []Delivery
	for len(got) <= m.queueLen {
		select {
		case d := <-m.s.C():
			got = append(got, d)
			continue
		default:
		}
		break
	}
	if !reflect.DeepEqual(got, m.queue) {
		t.Fatalf("queued %+v, want %+v", got, m.queue)
	}
	m.queue = nil
	if err := m.s.Err(); !errors.Is(err, m.err) || (err == nil) != (m.err == nil) {
		t.Fatalf("subscriber error %v, want %v", err, m.err)
	}
	select {
	case <-m.s.Done():
		if m.err == nil {
			t.Fatal("Done closed on a live subscriber")
		}
	default:
		if m.err != nil {
			t.Fatal("Done open on a dropped subscriber")
		}
	}
}
