package remote

import (
	"reflect"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
	"virtxend/internal/xdr"
)

// eventMsgTypes are the message each event procedure carries
// (remote_protocol.x); eventMessage must send no other pair.
var eventMsgTypes = map[uint32]reflect.Type{
	msgDomainEventLifecycle:                   reflect.TypeFor[libvirt.DomainEventLifecycleMsg](),
	msgDomainEventCallbackLifecycle:           reflect.TypeFor[libvirt.DomainEventCallbackLifecycleMsg](),
	msgDomainEventDeviceRemoved:               reflect.TypeFor[libvirt.DomainEventDeviceRemovedMsg](),
	msgDomainEventCallbackDeviceRemoved:       reflect.TypeFor[libvirt.DomainEventCallbackDeviceRemovedMsg](),
	msgDomainEventCallbackDeviceAdded:         reflect.TypeFor[libvirt.DomainEventCallbackDeviceAddedMsg](),
	msgDomainEventCallbackDeviceRemovalFailed: reflect.TypeFor[libvirt.DomainEventCallbackDeviceRemovalFailedMsg](),
	msgDomainEventCallbackMetadataChange:      reflect.TypeFor[libvirt.DomainEventCallbackMetadataChangeMsg](),
	msgDomainEventCallbackJobCompleted:        reflect.TypeFor[libvirt.DomainEventCallbackJobCompletedMsg](),
	msgDomainEventCallbackTunable:             reflect.TypeFor[libvirt.DomainEventCallbackTunableMsg](),
	msgDomainEventBlockJob:                    reflect.TypeFor[libvirt.DomainEventBlockJobMsg](),
	msgDomainEventCallbackBlockJob:            reflect.TypeFor[libvirt.DomainEventCallbackBlockJobMsg](),
	msgDomainEventBlockJob2:                   reflect.TypeFor[libvirt.DomainEventBlockJob2Msg](),
}

// FuzzEventMessage: whatever event the broker delivers, eventMessage
// picks a procedure and the message type libvirt defines for it (or none,
// for an event it does not relay), the message encodes, decodes back to
// itself, and carries the delivery's callback, domain and event data.
func FuzzEventMessage(f *testing.F) {
	add := func(d events.Delivery) {
		f.Add(d.CallbackID, d.Legacy, d.Event.ID, d.Event.Dom.Name, d.Event.Dom.UUID[:], d.Event.Dom.ID,
			d.Event.Lifecycle.Event, d.Event.Lifecycle.Detail, d.Event.Metadata.Type, d.Event.Metadata.NSURI, d.Event.DevAlias)
	}
	dom := events.Domain{Name: "g", UUID: [16]byte{1, 2, 3}, ID: 7}
	for _, legacy := range []bool{false, true} {
		add(events.Delivery{CallbackID: 1, Legacy: legacy, Event: events.NewLifecycle(dom, libvirt.DomainEventStopped, 2)})
		add(events.Delivery{CallbackID: 2, Legacy: legacy, Event: events.NewMetadataChange(dom, 2, "http://example.org/")})
		add(events.Delivery{CallbackID: 3, Legacy: legacy, Event: events.NewMetadataChange(dom, 0, "")})
		for _, id := range []int32{events.IDDeviceAdded, events.IDDeviceRemoved, events.IDDeviceRemovalFailed} {
			add(events.Delivery{CallbackID: 4, Legacy: legacy, Event: events.NewDevice(id, dom, "net0")})
		}
	}
	for _, legacy := range []bool{false, true} {
		add(events.Delivery{CallbackID: 5, Legacy: legacy, Event: events.Event{ID: events.IDJobCompleted, Dom: dom,
			Lifecycle: events.Lifecycle{Detail: 2}, DevAlias: "operation"}})
		add(events.Delivery{CallbackID: 6, Legacy: legacy, Event: events.Event{ID: events.IDTunable, Dom: dom,
			Lifecycle: events.Lifecycle{Detail: 4096}, DevAlias: "blkdeviotune.total_bytes_sec"}})
		for _, id := range []int32{events.IDBlockJob, events.IDBlockJob2} {
			add(events.Delivery{CallbackID: 7, Legacy: legacy, Event: events.Event{ID: id, Dom: dom,
				Lifecycle: events.Lifecycle{Event: 4, Detail: 3}, DevAlias: "/var/lib/xen/images/g.qcow2"}})
		}
	}
	add(events.Delivery{CallbackID: -1, Event: events.Event{ID: events.IDLast, Dom: events.Domain{ID: -1}}})
	f.Fuzz(func(t *testing.T, cbID int32, legacy bool, id int32, name string, uuid []byte, domID, event, detail, mtype int32, nsuri, alias string) {
		d := events.Delivery{CallbackID: cbID, Legacy: legacy, Event: events.Event{
			ID: id, Dom: events.Domain{Name: name, ID: domID},
			Lifecycle: events.Lifecycle{Event: event, Detail: detail},
			Metadata:  events.MetadataChange{Type: mtype, NSURI: nsuri}, DevAlias: alias,
		}}
		copy(d.Event.Dom.UUID[:], uuid)
		if id == events.IDBlockJob || id == events.IDBlockJob2 {
			// The disk, job type and status, from the fields the corpus has.
			d.Event.BlockJob = events.BlockJob{Disk: alias, Type: event, Status: detail}
		}
		if id == events.IDJobCompleted || id == events.IDTunable {
			// The job's statistics or the tunables, from the fields the corpus has.
			d.Event.Params = []libvirt.TypedParam{{Field: alias, Value: *libvirt.NewTypedParamValueInt(detail)}}
		}
		proc, body := eventMessage(d)
		if body == nil {
			if proc != 0 {
				t.Fatalf("procedure %d without a message", proc)
			}
			return
		}
		want, ok := eventMsgTypes[proc]
		if !ok || reflect.TypeOf(body) != reflect.PointerTo(want) {
			t.Fatalf("procedure %d sends %T", proc, body)
		}
		enc, err := xdr.Marshal(body)
		if err != nil {
			t.Fatalf("%T does not encode: %v", body, err)
		}
		back := reflect.New(want)
		if err := xdr.Unmarshal(enc, back.Interface()); err != nil {
			t.Fatalf("%T does not decode: %v", body, err)
		}
		if !reflect.DeepEqual(back.Interface(), body) {
			t.Fatalf("round trip of %T:\n%+v\n%+v", body, body, back.Interface())
		}
		checkCarried(t, d, back.Elem())
	})
}

// checkCarried finds the message's fields, at any depth, and compares them
// with the delivery.
func checkCarried(t *testing.T, d events.Delivery, v reflect.Value) {
	ev := d.Event
	wantDom := libvirt.Domain{Name: ev.Dom.Name, UUID: libvirt.UUID(ev.Dom.UUID), ID: ev.Dom.ID}
	var walk func(v reflect.Value)
	walk = func(v reflect.Value) {
		for i := range v.NumField() {
			f, name := v.Field(i), v.Type().Field(i).Name
			var got, want any
			switch name {
			case "Msg":
				walk(f)
				continue
			case "CallbackID":
				got, want = f.Interface(), d.CallbackID
			case "Dom":
				got, want = f.Interface(), wantDom
			case "Event":
				got, want = f.Interface(), ev.Lifecycle.Event
			case "Detail":
				got, want = f.Interface(), ev.Lifecycle.Detail
			case "DevAlias":
				got, want = f.Interface(), ev.DevAlias
			case "Params":
				got, want = f.Interface(), ev.Params
			case "Path", "Dst":
				got, want = f.Interface(), ev.BlockJob.Disk
			case "Status":
				got, want = f.Interface(), ev.BlockJob.Status
			case "Type":
				got, want = f.Interface(), ev.Metadata.Type
				if ev.ID == events.IDBlockJob || ev.ID == events.IDBlockJob2 {
					want = ev.BlockJob.Type
				}
			case "Nsuri":
				s := f.Interface().(libvirt.OptString)
				got, want = len(s) == 1 && s[0] == ev.Metadata.NSURI, ev.Metadata.NSURI != ""
				if len(s) == 0 {
					got = false
				}
			default:
				t.Fatalf("unexpected field %s in %s", name, v.Type())
			}
			if !reflect.DeepEqual(got, want) {
				t.Fatalf("%s.%s = %v, want %v", v.Type(), name, got, want)
			}
		}
	}
	walk(v)
}
