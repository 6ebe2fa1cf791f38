// Package events is the domain event broker: the driver publishes, each
// client connection holds a Subscriber with its own bounded queue and the
// callbacks it registered. Publishing never blocks: a subscriber whose queue
// is full is dropped (its Done channel closes), as a client too slow to read
// its events must not stall the hypervisor driver.
package events

import (
	"errors"
	"slices"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Event IDs (libvirt's VIR_DOMAIN_EVENT_ID_*) that this broker emits; any
// ID below IDLast may be registered, as libvirt accepts them all.
const (
	IDLifecycle      = int32(libvirt.DomainEventIDLifecycle)
	IDMetadataChange = int32(libvirt.DomainEventIDMetadataChange)
	// The device events (libvirt's libxl driver sends none; these are
	// sent as libvirt's QEMU driver sends them).
	IDDeviceRemoved       = int32(libvirt.DomainEventIDDeviceRemoved)
	IDDeviceAdded         = int32(libvirt.DomainEventIDDeviceAdded)
	IDDeviceRemovalFailed = int32(libvirt.DomainEventIDDeviceRemovalFailed)
	// IDJobCompleted follows a job that took the guest's state out (a
	// save, a dump, a migration), as libvirt's QEMU driver sends it.
	IDJobCompleted = int32(libvirt.DomainEventIDJobCompleted)
	// IDTunable follows a change of a guest's tuning (its disks' I/O
	// limits), as libvirt's QEMU driver sends it.
	IDTunable = int32(libvirt.DomainEventIDTunable)
	// IDBlockJob and IDBlockJob2 follow a disk's block job (a commit) as
	// libvirt's QEMU driver sends them: the first names the disk by its
	// image, the second by its target.
	IDBlockJob  = int32(libvirt.DomainEventIDBlockJob)
	IDBlockJob2 = int32(libvirt.DomainEventIDBlockJob2)
	// IDLast is VIR_DOMAIN_EVENT_ID_LAST in libvirt 11.x.
	IDLast = int32(libvirt.DomainEventIDNicMacChange) + 1
)

// DefaultQueueLen is a per-subscriber queue length that absorbs bursts such
// as autostart of many guests.
const DefaultQueueLen = 1024

// Domain identifies the domain an event is about, as remote_nonnull_domain
// does: ID is -1 when the domain is inactive.
type Domain struct {
	Name string
	UUID [16]byte
	ID   int32
}

// Event is one domain event. Lifecycle is set for IDLifecycle, Metadata for
// IDMetadataChange, DevAlias (the device's alias) for the device events,
// Params for IDJobCompleted (virDomainGetJobStats' parameters) and
// IDTunable (the tunables changed, VIR_DOMAIN_TUNABLE_*), BlockJob for
// the block job events.
type Event struct {
	ID        int32
	Dom       Domain
	Lifecycle Lifecycle
	Metadata  MetadataChange
	DevAlias  string
	Params    []libvirt.TypedParam
	BlockJob  BlockJob
}

// BlockJob is a block job's state: the disk (its image or its target),
// the job's type (virDomainBlockJobType) and status
// (virConnectDomainEventBlockJobStatus).
type BlockJob struct {
	Disk         string
	Type, Status int32
}

// Lifecycle is libvirt's (event, detail) pair, e.g. (STOPPED, DESTROYED):
// values of virDomainEventType and its per-event detail enums.
type Lifecycle struct {
	Event  int32
	Detail int32
}

// MetadataChange says which metadata changed: Type is virDomainMetadataType;
// NSURI is the namespace of an element change ("" for title/description).
type MetadataChange struct {
	Type  int32
	NSURI string
}

// NewLifecycle builds a lifecycle event.
func NewLifecycle(dom Domain, event libvirt.DomainEventType, detail int32) Event {
	return Event{ID: IDLifecycle, Dom: dom, Lifecycle: Lifecycle{Event: int32(event), Detail: detail}}
}

// NewMetadataChange builds a metadata-change event.
func NewMetadataChange(dom Domain, typ int32, nsuri string) Event {
	return Event{ID: IDMetadataChange, Dom: dom, Metadata: MetadataChange{Type: typ, NSURI: nsuri}}
}

// NewDevice builds a device event: id is IDDeviceAdded, IDDeviceRemoved or
// IDDeviceRemovalFailed, alias the device's.
func NewDevice(id int32, dom Domain, alias string) Event {
	return Event{ID: id, Dom: dom, DevAlias: alias}
}

// NewJobCompleted builds a job-completed event with the job's statistics.
func NewJobCompleted(dom Domain, stats []libvirt.TypedParam) Event {
	return Event{ID: IDJobCompleted, Dom: dom, Params: stats}
}

// NewBlockJob builds a block job event: id is IDBlockJob (disk the
// disk's image) or IDBlockJob2 (disk its target).
func NewBlockJob(id int32, dom Domain, disk string, typ, status int32) Event {
	return Event{ID: id, Dom: dom, BlockJob: BlockJob{Disk: disk, Type: typ, Status: status}}
}

// NewTunable builds a tunable event with the tunables that changed.
func NewTunable(dom Domain, params []libvirt.TypedParam) Event {
	return Event{ID: IDTunable, Dom: dom, Params: params}
}

// Delivery is an event as queued for one registered callback.
type Delivery struct {
	CallbackID int32
	// Legacy is true for callbacks registered through the old
	// (pre-callback-ID) procedures; the RPC layer picks the message form.
	Legacy bool
	Event  Event
}

// ErrOverflow is the reason a subscriber was dropped for not keeping up.
var ErrOverflow = errors.New("event queue overflow: subscriber too slow")

// ErrClosed is the reason of a subscriber closed by its owner or the broker.
var ErrClosed = errors.New("event subscriber closed")

// Broker fans events out to subscribers.
type Broker struct {
	mu     sync.Mutex
	nextID int32
	subs   map[*Subscriber]struct{}
	closed bool
}

// NewBroker returns a broker with no subscribers. Callback IDs start at 1
// and are unique across all subscribers, as libvirt's are per driver.
func NewBroker() *Broker {
	return &Broker{nextID: 1, subs: map[*Subscriber]struct{}{}}
}

type callback struct {
	id      int32
	eventID int32
	dom     *[16]byte
	legacy  bool
}

// Subscriber is one consumer (a client connection): a bounded queue and
// the callbacks it registered.
type Subscriber struct {
	b    *Broker
	ch   chan Delivery
	done chan struct{}
	err  error
	// callbacks in the order registered, which is the order libvirt
	// dispatches an event to them (virObjectEventStateDispatchCallbacks
	// walks its list): a client with several matching callbacks gets
	// their messages in that order.
	callbacks []callback
}

// Subscribe adds a consumer whose queue holds queueLen deliveries
// (DefaultQueueLen if queueLen <= 0).
func (b *Broker) Subscribe(queueLen int) *Subscriber {
	if queueLen <= 0 {
		queueLen = DefaultQueueLen
	}
	s := &Subscriber{
		b: b, ch: make(chan Delivery, queueLen), done: make(chan struct{}),
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.closed {
		s.dropLocked(ErrClosed)
		return s
	}
	b.subs[s] = struct{}{}
	return s
}

// Publish queues ev for every matching callback. It never blocks.
func (b *Broker) Publish(ev Event) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for s := range b.subs {
		s.deliverLocked(ev)
	}
}

// Close drops every subscriber (their Done channels close with ErrClosed).
func (b *Broker) Close() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.closed = true
	for s := range b.subs {
		s.dropLocked(ErrClosed)
	}
}

// Subscribers returns how many subscribers are attached.
func (b *Broker) Subscribers() int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return len(b.subs)
}

func (s *Subscriber) deliverLocked(ev Event) {
	for _, cb := range s.callbacks {
		if cb.eventID != ev.ID || (cb.dom != nil && *cb.dom != ev.Dom.UUID) {
			continue
		}
		select {
		case s.ch <- Delivery{CallbackID: cb.id, Legacy: cb.legacy, Event: ev}:
		default:
			s.dropLocked(ErrOverflow)
			return
		}
	}
}

// dropLocked detaches s; the caller holds the broker lock.
func (s *Subscriber) dropLocked(reason error) {
	if s.err != nil {
		return
	}
	s.err = reason
	delete(s.b.subs, s)
	close(s.done)
}

// C is the queue to read deliveries from.
func (s *Subscriber) C() <-chan Delivery { return s.ch }

// Done is closed when the subscriber is dropped or closed; Err says why.
func (s *Subscriber) Done() <-chan struct{} { return s.done }

// Err is nil while the subscriber is attached, else ErrOverflow or ErrClosed.
func (s *Subscriber) Err() error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return s.err
}

// Close detaches the subscriber; pending deliveries stay readable.
func (s *Subscriber) Close() {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	s.dropLocked(ErrClosed)
}

// Register adds a callback for eventID, optionally only for the domain with
// uuid dom, and returns its callback ID. Errors are libvirt's: an eventID
// outside [0, IDLast) is "unsupported event ID", a second identical
// registration is "event callback already tracked".
func (s *Subscriber) Register(eventID int32, dom *[16]byte, legacy bool) (int32, error) {
	if eventID < 0 || eventID >= IDLast {
		return -1, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "unsupported event ID %d", eventID)
	}
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	if s.err != nil {
		return -1, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "%s", s.err.Error())
	}
	for _, cb := range s.callbacks {
		if cb.eventID == eventID && cb.legacy == legacy && sameDom(cb.dom, dom) {
			return -1, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "event callback already tracked")
		}
	}
	id := s.b.nextID
	s.b.nextID++
	var d *[16]byte
	if dom != nil {
		c := *dom
		d = &c
	}
	s.callbacks = append(s.callbacks, callback{id: id, eventID: eventID, dom: d, legacy: legacy})
	return id, nil
}

// Deregister removes a callback registered on this subscriber.
func (s *Subscriber) Deregister(callbackID int32) error {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	i := slices.IndexFunc(s.callbacks, func(cb callback) bool { return cb.id == callbackID })
	if i < 0 {
		return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
			"could not find event callback %d for deletion", callbackID)
	}
	s.callbacks = slices.Delete(s.callbacks, i, i+1)
	return nil
}

// Callbacks returns how many callbacks are registered.
func (s *Subscriber) Callbacks() int {
	s.b.mu.Lock()
	defer s.b.mu.Unlock()
	return len(s.callbacks)
}

func sameDom(a, b *[16]byte) bool {
	if a == nil || b == nil {
		return a == nil && b == nil
	}
	return *a == *b
}
