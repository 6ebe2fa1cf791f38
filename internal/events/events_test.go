package events

import (
	"errors"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

var (
	domA = Domain{Name: "a", UUID: [16]byte{1}, ID: 3}
	domB = Domain{Name: "b", UUID: [16]byte{2}, ID: -1}
)

func recv(t *testing.T, s *Subscriber) Delivery {
	t.Helper()
	select {
	case d := <-s.C():
		return d
	default:
		t.Fatal("no delivery queued")
	}
	return Delivery{}
}

func empty(t *testing.T, s *Subscriber) {
	t.Helper()
	select {
	case d := <-s.C():
		t.Fatalf("unexpected delivery %+v", d)
	default:
	}
}

func TestFilterByEventAndDomain(t *testing.T) {
	b := NewBroker()
	s := b.Subscribe(8)
	all, err := s.Register(IDLifecycle, nil, false)
	if err != nil || all != 1 {
		t.Fatalf("id %d err %v", all, err)
	}
	onlyA, _ := s.Register(IDLifecycle, &domA.UUID, false)
	meta, _ := s.Register(IDMetadataChange, nil, false)

	b.Publish(NewLifecycle(domB, libvirt.DomainEventDefined, int32(libvirt.DomainEventDefinedAdded)))
	if d := recv(t, s); d.CallbackID != all || d.Event.Dom.Name != "b" {
		t.Fatalf("got %+v", d)
	}
	empty(t, s)

	b.Publish(NewLifecycle(domA, libvirt.DomainEventStarted, 0))
	got := map[int32]bool{recv(t, s).CallbackID: true, recv(t, s).CallbackID: true}
	if !got[all] || !got[onlyA] {
		t.Fatalf("got %v", got)
	}
	empty(t, s)

	b.Publish(NewMetadataChange(domA, 2, "urn:x"))
	if d := recv(t, s); d.CallbackID != meta || d.Event.Metadata.NSURI != "urn:x" {
		t.Fatalf("got %+v", d)
	}
}

func TestRegisterErrors(t *testing.T) {
	s := NewBroker().Subscribe(1)
	for _, id := range []int32{-1, IDLast} {
		_, err := s.Register(id, nil, false)
		e := virerr.As(err)
		if e == nil || e.Code != libvirt.ErrInternalError || e.Domain != virerr.FromRPC {
			t.Fatalf("id %d: %v", id, err)
		}
	}
	// Every ID below IDLast is accepted, even those never emitted.
	for id := int32(0); id < IDLast; id++ {
		if _, err := s.Register(id, nil, false); err != nil {
			t.Fatalf("id %d: %v", id, err)
		}
	}
	if IDLast != 28 {
		t.Fatalf("IDLast %d", IDLast)
	}
	if _, err := s.Register(0, nil, false); !virerr.Is(err, libvirt.ErrInvalidArg) {
		t.Fatalf("duplicate: %v", err)
	}
	if _, err := s.Register(0, nil, true); err != nil {
		t.Fatalf("legacy twin: %v", err)
	}
	if err := s.Deregister(999); err == nil || err.Error() != "invalid argument: could not find event callback 999 for deletion" {
		t.Fatalf("deregister: %v", err)
	}
}

func TestSlowSubscriberDropped(t *testing.T) {
	b := NewBroker()
	slow := b.Subscribe(2)
	fast := b.Subscribe(100)
	slow.Register(IDLifecycle, nil, false)
	fast.Register(IDLifecycle, nil, false)
	for i := 0; i < 5; i++ {
		b.Publish(NewLifecycle(domA, libvirt.DomainEventStarted, 0))
	}
	select {
	case <-slow.Done():
	default:
		t.Fatal("slow subscriber not dropped")
	}
	if !errors.Is(slow.Err(), ErrOverflow) {
		t.Fatalf("err %v", slow.Err())
	}
	if fast.Err() != nil || len(fast.C()) != 5 {
		t.Fatalf("fast subscriber: %v, %d queued", fast.Err(), len(fast.C()))
	}
	if b.Subscribers() != 1 {
		t.Fatalf("%d subscribers", b.Subscribers())
	}
}

func TestCloseAndDeregister(t *testing.T) {
	b := NewBroker()
	s := b.Subscribe(4)
	id, _ := s.Register(IDLifecycle, nil, false)
	if err := s.Deregister(id); err != nil {
		t.Fatal(err)
	}
	b.Publish(NewLifecycle(domA, libvirt.DomainEventStarted, 0))
	empty(t, s)
	s.Close()
	if !errors.Is(s.Err(), ErrClosed) {
		t.Fatal(s.Err())
	}
	b.Close()
	if late := b.Subscribe(1); !errors.Is(late.Err(), ErrClosed) {
		t.Fatal("subscribe after close should be closed")
	}
}

func TestConcurrentPublish(t *testing.T) {
	b := NewBroker()
	s := b.Subscribe(10000)
	s.Register(IDLifecycle, nil, false)
	done := make(chan struct{})
	for g := 0; g < 4; g++ {
		go func() {
			for i := 0; i < 100; i++ {
				b.Publish(NewLifecycle(domA, libvirt.DomainEventStarted, 0))
			}
			done <- struct{}{}
		}()
	}
	for g := 0; g < 4; g++ {
		<-done
	}
	if len(s.C()) != 400 {
		t.Fatalf("%d deliveries", len(s.C()))
	}
}
