package remote

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/events"
)

// TestDeviceEventMessages: the device events go out as libvirt's daemon
// sends them (remoteRelayDomainEventDeviceRemoved and friends): the
// removal in the legacy form to a legacy registration, the others always
// in the callback form.
func TestDeviceEventMessages(t *testing.T) {
	dom := events.Domain{Name: "g", UUID: [16]byte{1}, ID: 7}
	wantDom := libvirt.Domain{Name: "g", UUID: libvirt.UUID{1}, ID: 7}
	cases := []struct {
		id     int32
		legacy bool
		proc   uint32
		body   any
	}{
		{events.IDDeviceAdded, false, 354, &libvirt.DomainEventCallbackDeviceAddedMsg{CallbackID: 3, Dom: wantDom, DevAlias: "net1"}},
		{events.IDDeviceAdded, true, 354, &libvirt.DomainEventCallbackDeviceAddedMsg{CallbackID: 3, Dom: wantDom, DevAlias: "net1"}},
		{events.IDDeviceRemoved, false, 333, &libvirt.DomainEventCallbackDeviceRemovedMsg{CallbackID: 3,
			Msg: libvirt.DomainEventDeviceRemovedMsg{Dom: wantDom, DevAlias: "net1"}}},
		{events.IDDeviceRemoved, true, 311, &libvirt.DomainEventDeviceRemovedMsg{Dom: wantDom, DevAlias: "net1"}},
		{events.IDDeviceRemovalFailed, false, 367, &libvirt.DomainEventCallbackDeviceRemovalFailedMsg{CallbackID: 3, Dom: wantDom, DevAlias: "net1"}},
	}
	for _, c := range cases {
		proc, body := eventMessage(events.Delivery{CallbackID: 3, Legacy: c.legacy, Event: events.NewDevice(c.id, dom, "net1")})
		if proc != c.proc {
			t.Errorf("event %d legacy %v: procedure %d, want %d", c.id, c.legacy, proc, c.proc)
			continue
		}
		switch want := c.body.(type) {
		case *libvirt.DomainEventCallbackDeviceAddedMsg:
			if got, ok := body.(*libvirt.DomainEventCallbackDeviceAddedMsg); !ok || *got != *want {
				t.Errorf("event %d: %+v", c.id, body)
			}
		case *libvirt.DomainEventCallbackDeviceRemovedMsg:
			if got, ok := body.(*libvirt.DomainEventCallbackDeviceRemovedMsg); !ok || *got != *want {
				t.Errorf("event %d: %+v", c.id, body)
			}
		case *libvirt.DomainEventDeviceRemovedMsg:
			if got, ok := body.(*libvirt.DomainEventDeviceRemovedMsg); !ok || *got != *want {
				t.Errorf("event %d: %+v", c.id, body)
			}
		case *libvirt.DomainEventCallbackDeviceRemovalFailedMsg:
			if got, ok := body.(*libvirt.DomainEventCallbackDeviceRemovalFailedMsg); !ok || *got != *want {
				t.Errorf("event %d: %+v", c.id, body)
			}
		}
	}
}

// TestJobCompletedMessage: a job-completed event goes out in the callback
// form whatever the registration, with the job's statistics
// (remoteRelayDomainEventJobCompleted).
func TestJobCompletedMessage(t *testing.T) {
	dom := events.Domain{Name: "g", UUID: [16]byte{1}, ID: 7}
	stats := []libvirt.TypedParam{{Field: "operation", Value: *libvirt.NewTypedParamValueInt(2)}}
	for _, legacy := range []bool{false, true} {
		proc, body := eventMessage(events.Delivery{CallbackID: 3, Legacy: legacy, Event: events.NewJobCompleted(dom, stats)})
		msg, ok := body.(*libvirt.DomainEventCallbackJobCompletedMsg)
		if proc != 363 || !ok || msg.CallbackID != 3 || msg.Dom.Name != "g" || msg.Dom.ID != 7 ||
			len(msg.Params) != 1 || msg.Params[0].Field != "operation" {
			t.Errorf("legacy %v: procedure %d, %+v", legacy, proc, body)
		}
	}
}
