package driver

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
)

func guestID(t *testing.T, drv *Driver, name string) backend.DomID {
	t.Helper()
	d, err := drv.LookupByName(ctx, name)
	if err != nil || d.ID <= 0 {
		t.Fatalf("%s: %+v %v", name, d, err)
	}
	return backend.DomID(d.ID)
}

func TestGuestInitiatedActions(t *testing.T) {
	drv, h := newEnv(t).start()
	w := watch(t, drv)
	stopped := func(detail libvirt.DomainEventStoppedDetailType) lc {
		return lc{"g", evStopped, int32(detail)}
	}
	booted := lc{"g", evStarted, int32(libvirt.DomainEventStartedBooted)}
	cases := []struct {
		name    string
		extra   string
		reason  backend.ShutdownReason
		events  []lc
		running bool // a new boot follows
		state   libvirt.DomainState
	}{
		{"poweroff default destroys", "", backend.ReasonPoweroff, []lc{stopped(libvirt.DomainEventStoppedShutdown)}, false, libvirt.DomainShutoff},
		{"reboot default restarts", "", backend.ReasonReboot, []lc{stopped(libvirt.DomainEventStoppedShutdown), booted}, true, libvirt.DomainRunning},
		{"crash default destroys", "", backend.ReasonCrash, []lc{stopped(libvirt.DomainEventStoppedCrashed)}, false, libvirt.DomainShutoff},
		{"crash restart", "<on_crash>restart</on_crash>", backend.ReasonCrash, []lc{stopped(libvirt.DomainEventStoppedCrashed), booted}, true, libvirt.DomainRunning},
		{"reboot destroy", "<on_reboot>destroy</on_reboot>", backend.ReasonReboot, []lc{stopped(libvirt.DomainEventStoppedShutdown)}, false, libvirt.DomainShutoff},
		{"poweroff restart", "<on_poweroff>restart</on_poweroff>", backend.ReasonPoweroff, []lc{stopped(libvirt.DomainEventStoppedShutdown), booted}, true, libvirt.DomainRunning},
		{"crash coredump-destroy", "<on_crash>coredump-destroy</on_crash>", backend.ReasonCrash, []lc{stopped(libvirt.DomainEventStoppedCrashed)}, false, libvirt.DomainShutoff},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			d := define(t, drv, "g", 1, c.extra)
			w.expect(lc{"g", evDefined, int32(libvirt.DomainEventDefinedAdded + libvirt.DomainEventDefinedDetailType(min(i, 1)))})
			if _, err := drv.Create(ctx, d, 0); err != nil {
				t.Fatal(err)
			}
			w.expect(booted)
			old := guestID(t, drv, "g")
			if err := h.GuestShutdown(ctx, old, c.reason); err != nil {
				t.Fatal(err)
			}
			w.expect(c.events...)
			st, _ := stateOf(t, drv, d)
			if st != c.state {
				t.Fatalf("state %v, want %v", st, c.state)
			}
			if c.running {
				if id := guestID(t, drv, "g"); id <= old {
					t.Fatalf("restarted with domid %d after %d", id, old)
				}
				if err := drv.Destroy(ctx, d, 0); err != nil {
					t.Fatal(err)
				}
				w.expect(stopped(libvirt.DomainEventStoppedDestroyed))
			}
			if _, err := h.Guest(ctx, old); err == nil {
				t.Fatal("old guest not destroyed")
			}
		})
	}
}

func TestPreserveKeepsGuest(t *testing.T) {
	drv, h := newEnv(t).start()
	w := watch(t, drv)
	d := define(t, drv, "p", 1, "<on_poweroff>preserve</on_poweroff>")
	drv.Create(ctx, d, 0)
	w.expect(lc{"p", evDefined, 0}, lc{"p", evStarted, 0})
	id := guestID(t, drv, "p")
	h.GuestShutdown(ctx, id, backend.ReasonPoweroff)
	w.expect(lc{"p", evStopped, int32(libvirt.DomainEventStoppedShutdown)})
	if g, err := h.Guest(ctx, id); err != nil || g.State != backend.StateShutdown {
		t.Fatalf("preserved guest: %+v %v", g, err)
	}
	if err := drv.Destroy(ctx, d, 0); err != nil {
		t.Fatal("destroying a preserved guest:", err)
	}
}

func TestRebootRequestAndDeath(t *testing.T) {
	drv, h := newEnv(t).start()
	w := watch(t, drv)
	d, err := drv.CreateXML(ctx, domXML("t", 2, ""), 0)
	if err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"t", evStarted, 0})
	if err := drv.Reboot(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"t", evStopped, int32(libvirt.DomainEventStoppedShutdown)}, lc{"t", evStarted, 0})
	id := guestID(t, drv, "t")
	if err := h.Vanish(ctx, id); err != nil {
		t.Fatal(err)
	}
	w.expect(lc{"t", evStopped, int32(libvirt.DomainEventStoppedDestroyed)})
	if _, err := drv.LookupByName(ctx, "t"); err == nil {
		t.Fatal("vanished transient domain kept")
	}
	if drv.Active() != 0 {
		t.Fatalf("active %d", drv.Active())
	}
}

func TestIgnoredShutdown(t *testing.T) {
	drv, h := newEnv(t).start()
	d := define(t, drv, "deaf", 1, `<metadata><s:fault xmlns:s="urn:virtxend:sim" shutdown="ignore"/></metadata>`)
	drv.Create(ctx, d, 0)
	if err := drv.Shutdown(ctx, d, 0); err != nil {
		t.Fatal(err)
	}
	h.Poll()
	if st, _ := stateOf(t, drv, d); st != libvirt.DomainRunning {
		t.Fatalf("state %v", st)
	}
}
