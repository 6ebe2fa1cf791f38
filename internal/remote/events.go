package remote

import (
	"context"
	"sync"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// eventSerial is what libvirt's daemon puts in event messages (type
// MESSAGE, server to client; their procedures are the msg* of procs.gen.go).
const eventSerial = 1

// eventRegistrations are one client's event callbacks: a subscription to
// the driver's broker, forwarded to the client while it lives.
type eventRegistrations struct {
	mu     sync.Mutex
	sub    *events.Subscriber
	legacy map[int32]int32 // legacy registrations: event ID → callback ID
}

func newEventRegistrations() *eventRegistrations {
	return &eventRegistrations{legacy: map[int32]int32{}}
}

func (p *program) eventProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procConnectDomainEventCallbackRegisterAny, p.callbackRegisterAny),
		rpc.Handle(procConnectDomainEventCallbackDeregisterAny, p.callbackDeregisterAny),
		rpc.Handle(procConnectDomainEventRegister, p.legacyRegister),
		rpc.Handle(procConnectDomainEventDeregister, p.legacyDeregister),
		rpc.Handle(procConnectDomainEventRegisterAny, p.legacyRegisterAny),
		rpc.Handle(procConnectDomainEventDeregisterAny, p.legacyDeregisterAny),
	}
}

// subscriber returns the client's broker subscription, starting it and its
// forwarder on first use.
func (p *program) subscriber(c *rpc.Client) *events.Subscriber {
	regs := connOf(c).events
	regs.mu.Lock()
	defer regs.mu.Unlock()
	if regs.sub == nil {
		regs.sub = p.drv.Events().Subscribe(0)
		c.OnClose(regs.sub.Close)
		go p.forwardEvents(c, regs.sub)
	}
	return regs.sub
}

// forwardEvents sends each delivery to the client as libvirt's message.
// A client too slow to take its events is disconnected, as a client whose
// queue overflows in libvirt is.
func (p *program) forwardEvents(c *rpc.Client, sub *events.Subscriber) {
	for {
		select {
		case d := <-sub.C():
			proc, body := eventMessage(d)
			if body == nil {
				continue
			}
			if err := c.SendMessage(ProgramNumber, ProgramVersion, proc, eventSerial, body); err != nil {
				return
			}
		case <-sub.Done():
			if sub.Err() == events.ErrOverflow {
				p.log.Warn("closing a client that does not read its events", "client", c.ID())
				c.Close()
			}
			return
		}
	}
}

// eventMessage is the procedure and body libvirt sends for d.
func eventMessage(d events.Delivery) (uint32, any) {
	ev := d.Event
	dom := libvirt.Domain{Name: ev.Dom.Name, UUID: libvirt.UUID(ev.Dom.UUID), ID: ev.Dom.ID}
	switch {
	case ev.ID == events.IDLifecycle && d.Legacy:
		return msgDomainEventLifecycle, &libvirt.DomainEventLifecycleMsg{Dom: dom, Event: ev.Lifecycle.Event, Detail: ev.Lifecycle.Detail}
	case ev.ID == events.IDLifecycle:
		return msgDomainEventCallbackLifecycle, &libvirt.DomainEventCallbackLifecycleMsg{CallbackID: d.CallbackID,
			Msg: libvirt.DomainEventLifecycleMsg{Dom: dom, Event: ev.Lifecycle.Event, Detail: ev.Lifecycle.Detail}}
	case ev.ID == events.IDDeviceRemoved && d.Legacy:
		return msgDomainEventDeviceRemoved, &libvirt.DomainEventDeviceRemovedMsg{Dom: dom, DevAlias: ev.DevAlias}
	case ev.ID == events.IDDeviceRemoved:
		return msgDomainEventCallbackDeviceRemoved, &libvirt.DomainEventCallbackDeviceRemovedMsg{CallbackID: d.CallbackID,
			Msg: libvirt.DomainEventDeviceRemovedMsg{Dom: dom, DevAlias: ev.DevAlias}}
	// libvirt's daemon sends these four in the callback form whatever the
	// registration (remoteRelayDomainEventDeviceAdded, ...RemovalFailed,
	// ...JobCompleted, ...Tunable).
	case ev.ID == events.IDDeviceAdded:
		return msgDomainEventCallbackDeviceAdded, &libvirt.DomainEventCallbackDeviceAddedMsg{CallbackID: d.CallbackID,
			Dom: dom, DevAlias: ev.DevAlias}
	case ev.ID == events.IDDeviceRemovalFailed:
		return msgDomainEventCallbackDeviceRemovalFailed, &libvirt.DomainEventCallbackDeviceRemovalFailedMsg{
			CallbackID: d.CallbackID, Dom: dom, DevAlias: ev.DevAlias}
	case ev.ID == events.IDJobCompleted:
		return msgDomainEventCallbackJobCompleted, &libvirt.DomainEventCallbackJobCompletedMsg{
			CallbackID: d.CallbackID, Dom: dom, Params: ev.Params}
	case ev.ID == events.IDBlockJob && d.Legacy:
		return msgDomainEventBlockJob, &libvirt.DomainEventBlockJobMsg{Dom: dom, Path: ev.BlockJob.Disk,
			Type: ev.BlockJob.Type, Status: ev.BlockJob.Status}
	case ev.ID == events.IDBlockJob:
		return msgDomainEventCallbackBlockJob, &libvirt.DomainEventCallbackBlockJobMsg{CallbackID: d.CallbackID,
			Msg: libvirt.DomainEventBlockJobMsg{Dom: dom, Path: ev.BlockJob.Disk, Type: ev.BlockJob.Type, Status: ev.BlockJob.Status}}
	case ev.ID == events.IDBlockJob2:
		return msgDomainEventBlockJob2, &libvirt.DomainEventBlockJob2Msg{CallbackID: d.CallbackID, Dom: dom,
			Dst: ev.BlockJob.Disk, Type: ev.BlockJob.Type, Status: ev.BlockJob.Status}
	case ev.ID == events.IDTunable:
		return msgDomainEventCallbackTunable, &libvirt.DomainEventCallbackTunableMsg{
			CallbackID: d.CallbackID, Dom: dom, Params: ev.Params}
	case ev.ID == events.IDMetadataChange && !d.Legacy:
		msg := &libvirt.DomainEventCallbackMetadataChangeMsg{CallbackID: d.CallbackID, Dom: dom, Type: ev.Metadata.Type}
		if ev.Metadata.NSURI != "" {
			msg.Nsuri = libvirt.OptString{ev.Metadata.NSURI}
		}
		return msgDomainEventCallbackMetadataChange, msg
	}
	return 0, nil
}

func (p *program) callbackRegisterAny(_ context.Context, c *rpc.Client, a *libvirt.ConnectDomainEventCallbackRegisterAnyArgs) (*libvirt.ConnectDomainEventCallbackRegisterAnyRet, error) {
	var dom *[16]byte
	if len(a.Dom) > 0 {
		u := [16]byte(a.Dom[0].UUID)
		dom = &u
	}
	id, err := p.subscriber(c).Register(a.EventID, dom, false)
	if err != nil {
		return nil, err
	}
	return &libvirt.ConnectDomainEventCallbackRegisterAnyRet{CallbackID: id}, nil
}

func (p *program) callbackDeregisterAny(_ context.Context, c *rpc.Client, a *libvirt.ConnectDomainEventCallbackDeregisterAnyArgs) (*rpc.Void, error) {
	return nil, p.subscriber(c).Deregister(a.CallbackID)
}

// legacyRegisterID registers a pre-callback-ID callback for eventID; such
// a client identifies its registrations by event ID alone.
func (p *program) legacyRegisterID(c *rpc.Client, eventID int32) error {
	regs := connOf(c).events
	sub := p.subscriber(c)
	regs.mu.Lock()
	defer regs.mu.Unlock()
	if _, dup := regs.legacy[eventID]; dup {
		return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "domain event %d already registered", eventID)
	}
	id, err := sub.Register(eventID, nil, true)
	if err != nil {
		return err
	}
	regs.legacy[eventID] = id
	return nil
}

func (p *program) legacyDeregisterID(c *rpc.Client, eventID int32) error {
	regs := connOf(c).events
	sub := p.subscriber(c)
	regs.mu.Lock()
	defer regs.mu.Unlock()
	id, ok := regs.legacy[eventID]
	if !ok {
		return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "domain event %d not registered", eventID)
	}
	delete(regs.legacy, eventID)
	return sub.Deregister(id)
}

func (p *program) legacyRegister(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.ConnectDomainEventRegisterRet, error) {
	if err := p.legacyRegisterID(c, events.IDLifecycle); err != nil {
		return nil, err
	}
	return &libvirt.ConnectDomainEventRegisterRet{CbRegistered: 1}, nil
}

func (p *program) legacyDeregister(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.ConnectDomainEventDeregisterRet, error) {
	if err := p.legacyDeregisterID(c, events.IDLifecycle); err != nil {
		return nil, err
	}
	return &libvirt.ConnectDomainEventDeregisterRet{CbRegistered: 0}, nil
}

func (p *program) legacyRegisterAny(_ context.Context, c *rpc.Client, a *libvirt.ConnectDomainEventRegisterAnyArgs) (*rpc.Void, error) {
	return nil, p.legacyRegisterID(c, a.EventID)
}

func (p *program) legacyDeregisterAny(_ context.Context, c *rpc.Client, a *libvirt.ConnectDomainEventDeregisterAnyArgs) (*rpc.Void, error) {
	return nil, p.legacyDeregisterID(c, a.EventID)
}
