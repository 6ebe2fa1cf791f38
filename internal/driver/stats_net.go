package driver

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/virerr"
)

// InterfaceStats is virDomainInterfaceStats (libxlDomainInterfaceStats):
// the counters of the interface named device (its device name, or its MAC
// address), from the guest's point of view.
func (drv *Driver) InterfaceStats(ctx context.Context, dom Domain, device string) (backend.NICCounters, error) {
	d, s, err := drv.activeQuery(ctx, dom)
	if err != nil {
		return backend.NICCounters{}, err
	}
	defer drv.endJob(d)
	ifc, err := netFind(s.def.parsed(), device)
	if err != nil {
		return backend.NICCounters{}, err
	}
	if ifc.Target == nil || ifc.Target.Dev == "" {
		return backend.NICCounters{}, virerr.New(virerr.FromNone, libvirt.ErrInternalError, "Interface name not provided")
	}
	g, err := drv.guestStats(ctx, s)
	if err != nil && !errors.Is(err, backend.ErrNoGuest) {
		return backend.NICCounters{}, libxlFailed(err, "cannot read the counters of %s", ifc.Target.Dev)
	}
	if c, ok := nicCounters(g.NICs, ifc.Target.Dev); ok {
		return c, nil
	}
	return backend.NICCounters{}, virerr.New(virerr.FromNone, libvirt.ErrInternalError, "/proc/net/dev: Interface not found")
}

// nicCounters finds the counters of dom0's interface ifname among a
// guest's NICs; an interface the kernel does not list has none.
func nicCounters(nics []backend.NICStats, ifname string) (backend.NICCounters, bool) {
	for _, n := range nics {
		if c, ok := n.Counters(ifname); ok && c.RxBytes >= 0 {
			return c, true
		}
	}
	return backend.NICCounters{}, false
}

// netFind is virDomainNetFind: device is a MAC address or a device name.
func netFind(def *libvirtxml.Domain, device string) (*libvirtxml.DomainInterface, error) {
	var ifcs []libvirtxml.DomainInterface
	if def.Devices != nil {
		ifcs = def.Devices.Interfaces
	}
	if mac, ok := domxml.ParseMAC(device); ok {
		for i := range ifcs {
			if m := ifcs[i].MAC; m != nil {
				if theirs, ok := domxml.ParseMAC(m.Address); ok && theirs == mac {
					return &ifcs[i], nil
				}
			}
		}
	} else {
		for i := range ifcs {
			if t := ifcs[i].Target; t != nil && t.Dev == device {
				return &ifcs[i], nil
			}
		}
	}
	return nil, domainErr(libvirt.ErrInvalidArg, "'%s' is not a known interface", device)
}
