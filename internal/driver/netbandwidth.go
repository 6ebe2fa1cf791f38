package driver

import (
	"context"
	"errors"

	libvirt "github.com/digitalocean/go-libvirt"
	"libvirt.org/go/libvirtxml"

	"virtxend/internal/backend"
	"virtxend/internal/domxml"
	"virtxend/internal/libxlconf"
	"virtxend/internal/typedparam"
)

// The parameters of virDomainGetInterfaceParameters, in libvirt's order
// (VIR_DOMAIN_BANDWIDTH_*): KiB/s for average, peak and floor, KiB for
// burst.
const (
	bwInAverage  = "inbound.average"
	bwInPeak     = "inbound.peak"
	bwInBurst    = "inbound.burst"
	bwInFloor    = "inbound.floor"
	bwOutAverage = "outbound.average"
	bwOutPeak    = "outbound.peak"
	bwOutBurst   = "outbound.burst"
)

var bandwidthParams = [...]string{bwInAverage, bwInPeak, bwInBurst, bwInFloor, bwOutAverage, bwOutPeak, bwOutBurst}

var bandwidthParamTypes = map[string]typedparam.Type{
	bwInAverage: typedparam.UInt, bwInPeak: typedparam.UInt, bwInBurst: typedparam.UInt, bwInFloor: typedparam.UInt,
	bwOutAverage: typedparam.UInt, bwOutPeak: typedparam.UInt, bwOutBurst: typedparam.UInt,
}

// GetInterfaceParameters is virDomainGetInterfaceParameters (flags:
// VIR_DOMAIN_AFFECT_LIVE or _CONFIG), which libvirt's libxl driver lacks,
// as libvirt's QEMU driver answers it: the bandwidth of the interface
// device (a device name or a MAC address) in the live or persistent
// definition; with nparams 0, how many parameters there are.
func (drv *Driver) GetInterfaceParameters(ctx context.Context, dom Domain, device string, nparams int, flags uint32) ([]libvirt.TypedParam, int, error) {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config|typedparam.StringOkay, "libxlDomainGetInterfaceParameters"); err != nil {
		return nil, 0, err
	}
	d, err := drv.find(dom)
	if err != nil {
		return nil, 0, err
	}
	def, err := drv.oneDef(d, flags&^typedparam.StringOkay)
	if err != nil {
		return nil, 0, err
	}
	if nparams == 0 {
		return nil, len(bandwidthParams), nil
	}
	ifc, err := netFind(def, device)
	if err != nil {
		return nil, 0, err
	}
	values := bandwidthValues(ifc.Bandwidth)
	var params []libvirt.TypedParam
	for i, name := range bandwidthParams {
		if i == nparams {
			break
		}
		params = append(params, typedparam.NewUInt(name, values[i]))
	}
	return params, len(params), nil
}

// oneDef is virDomainObjGetOneDef: the live definition or the persistent
// one, as flags (LIVE or CONFIG, not both; neither is the current one)
// ask.
func (drv *Driver) oneDef(d *domain, flags uint32) (*libvirtxml.Domain, error) {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if flags&live != 0 && flags&config != 0 {
		return nil, domainErr(libvirt.ErrInvalidArg, "Flags 'VIR_DOMAIN_AFFECT_LIVE' and 'VIR_DOMAIN_AFFECT_CONFIG' are mutually exclusive")
	}
	d.mu.Lock()
	s := snapshot{ref: d.refLocked(), def: d.def, persistent: d.persistent}
	pd := d.persistentDefLocked()
	d.mu.Unlock()
	flags, err := modImpact(s, flags)
	if err != nil {
		return nil, err
	}
	if flags&config != 0 && pd != nil {
		return pd, nil
	}
	return s.def.parsed(), nil
}

// bandwidthValues is bw as the figures of bandwidthParams, in their order
// (0 for what it does not set).
func bandwidthValues(bw *libvirtxml.DomainInterfaceBandwidth) [len(bandwidthParams)]uint32 {
	var v [len(bandwidthParams)]uint32
	get := func(p *int) uint32 {
		if p == nil {
			return 0
		}
		return uint32(*p)
	}
	if bw != nil && bw.Inbound != nil {
		p := bw.Inbound
		v[0], v[1], v[2], v[3] = get(p.Average), get(p.Peak), get(p.Burst), get(p.Floor)
	}
	if bw != nil && bw.Outbound != nil {
		p := bw.Outbound
		v[4], v[5], v[6] = get(p.Average), get(p.Peak), get(p.Burst)
	}
	return v
}

// bandwidthChange is what one SetInterfaceParameters call asks of the
// interface (virNetDevBandwidth with the "specified" marks of
// qemuDomainSetInterfaceParameters): a direction is set when its average
// (or inbound floor) is not 0, cleared when it was named with none.
type bandwidthChange struct {
	in, out           *libvirtxml.DomainInterfaceBandwidthParams
	inNamed, outNamed bool
}

func readBandwidthChange(params []libvirt.TypedParam) bandwidthChange {
	in := &libvirtxml.DomainInterfaceBandwidthParams{}
	out := &libvirtxml.DomainInterfaceBandwidthParams{}
	fields := map[string]**int{
		bwInAverage: &in.Average, bwInPeak: &in.Peak, bwInBurst: &in.Burst, bwInFloor: &in.Floor,
		bwOutAverage: &out.Average, bwOutPeak: &out.Peak, bwOutBurst: &out.Burst,
	}
	for _, p := range params {
		if f := fields[p.Field]; f != nil {
			v, _ := p.Value.I.(uint32)
			n := int(v)
			*f = &n
		}
	}
	c := bandwidthChange{inNamed: in.Average != nil || in.Floor != nil, outNamed: out.Average != nil}
	// average or floor are mandatory, peak and burst optional
	if nonZero(in.Average) || nonZero(in.Floor) {
		c.in = in
	}
	if nonZero(out.Average) {
		c.out = out
	}
	return c
}

func nonZero(p *int) bool { return p != nil && *p != 0 }

// apply is the interface's bandwidth after the change: a direction set
// replaces the old one, one named without an average clears it, one not
// named stays.
func (c bandwidthChange) apply(old *libvirtxml.DomainInterfaceBandwidth) *libvirtxml.DomainInterfaceBandwidth {
	bw := &libvirtxml.DomainInterfaceBandwidth{}
	if old != nil {
		*bw = *old
	}
	if c.in != nil || c.inNamed {
		bw.Inbound = c.in
	}
	if c.out != nil || c.outNamed {
		bw.Outbound = c.out
	}
	if bw.Inbound == nil && bw.Outbound == nil {
		return nil
	}
	return bw
}

// SetInterfaceParameters is virDomainSetInterfaceParameters (flags:
// VIR_DOMAIN_AFFECT_LIVE, _CONFIG), which libvirt's libxl driver lacks,
// with the checks and merging of libvirt's QEMU driver. What Xen enforces
// on a running guest is the limit netback puts on what the guest sends:
// outbound.average, which becomes the vif's rate as at the guest's
// creation (libxlMakeNic's conversion). A live change to the inbound
// direction, or of an outbound peak or burst, has nothing on Xen to
// enforce it and is refused, before anything changes; the persistent
// definition takes every parameter, as a define does.
func (drv *Driver) SetInterfaceParameters(ctx context.Context, dom Domain, device string, params []libvirt.TypedParam, flags uint32) error {
	live, config := uint32(libvirt.DomainAffectLive), uint32(libvirt.DomainAffectConfig)
	if err := checkFlags(flags, live|config, "libxlDomainSetInterfaceParameters"); err != nil {
		return err
	}
	if err := typedparam.Validate(params, bandwidthParamTypes); err != nil {
		return err
	}
	d, flags, err := drv.modifyNonDom0(ctx, dom, flags)
	if err != nil {
		return err
	}
	defer drv.endJob(d)
	s := d.snap()
	change := readBandwidthChange(params)
	var liveIfc, persistentIfc *libvirtxml.DomainInterface
	if flags&live != 0 {
		if liveIfc, err = netFind(s.def.parsed(), device); err != nil {
			return err
		}
	}
	var pd *libvirtxml.Domain
	if flags&config != 0 {
		if pd, err = drv.persistentCopy(d); err != nil {
			return err
		}
		if persistentIfc, err = netFind(pd, device); err != nil {
			return err
		}
	}
	for _, ifc := range []*libvirtxml.DomainInterface{liveIfc, persistentIfc} {
		if err := checkBandwidthTarget(ifc, change); err != nil {
			return err
		}
	}
	if liveIfc != nil {
		if err := drv.setLiveBandwidth(ctx, d, s, liveIfc, change); err != nil {
			return err
		}
	}
	if persistentIfc != nil {
		persistentIfc.Bandwidth = change.apply(persistentIfc.Bandwidth)
		return drv.savePersistent(d, pd)
	}
	return nil
}

// checkBandwidthTarget is qemuDomainSetInterfaceParameters' check of the
// interface (virNetDevSupportsBandwidth; a floor only on a network's), and
// the refusal of what a running guest's vif cannot enforce.
func checkBandwidthTarget(ifc *libvirtxml.DomainInterface, c bandwidthChange) error {
	if ifc == nil {
		return nil
	}
	src := ifc.Source
	if src != nil && src.Hostdev != nil {
		return domainErr(libvirt.ErrConfigUnsupported, "setting bandwidth on interfaces of type '%s' is not implemented yet", "hostdev")
	}
	if c.in != nil && nonZero(c.in.Floor) && (src == nil || src.Network == nil) {
		return domainErr(libvirt.ErrOperationUnsupported, "Invalid use of 'floor' on interface with MAC address %s - 'floor' is only supported for interface type 'network' with forward type 'nat', 'route', 'open' or none", macOf(ifc))
	}
	return nil
}

func macOf(ifc *libvirtxml.DomainInterface) string {
	if ifc.MAC == nil {
		return ""
	}
	return ifc.MAC.Address
}

// setLiveBandwidth gives the running guest's vif the outbound average of
// the interface's new bandwidth as its rate, then records the bandwidth in
// the live definition.
func (drv *Driver) setLiveBandwidth(ctx context.Context, d *domain, s snapshot, ifc *libvirtxml.DomainInterface, c bandwidthChange) error {
	if (c.in != nil && (nonZero(c.in.Average) || nonZero(c.in.Peak) || nonZero(c.in.Burst) || nonZero(c.in.Floor))) ||
		(c.out != nil && (nonZero(c.out.Peak) || nonZero(c.out.Burst))) {
		return domainErr(libvirt.ErrOperationUnsupported, "Xen limits only what a running guest sends: its vif's rate, outbound.average; inbound bandwidth and outbound peak and burst can be set with --config only")
	}
	setter, ok := drv.be.(backend.NICRateSetter)
	if !ok {
		return domainErr(libvirt.ErrNoSupport, "%s", "virDomainSetInterfaceParameters")
	}
	next := c.apply(ifc.Bandwidth)
	mac := macOf(ifc)
	if err := drv.setPortBandwidth(ctx, d, ifc, next); err != nil {
		return err
	}
	bytes, interval := libxlconf.VifRate(next)
	if err := setter.SetNICRate(ctx, backend.DomID(s.ref.ID), mac, bytes, interval); err != nil {
		if perr := drv.setPortBandwidth(ctx, d, ifc, ifc.Bandwidth); perr != nil {
			drv.log.Warn("cannot give the network port its bandwidth back", "mac", mac, "err", perr)
		}
		if errors.Is(err, backend.ErrUnsupported) {
			return domainErr(libvirt.ErrNoSupport, "%s", "virDomainSetInterfaceParameters")
		}
		return libxlFailed(err, "Failed to set the bandwidth of interface %s of domain '%d'", mac, s.ref.ID)
	}
	drv.editLive(d, func(def *libvirtxml.Domain) {
		if live, err := netFind(def, mac); err == nil {
			live.Bandwidth = next
		}
	})
	return drv.saveStatusIfActive(d)
}

// setPortBandwidth is virDomainNetBandwidthUpdate for ifc, a running
// guest's interface: when it is on a network, its port takes bw in
// libvirt's network driver (virNetworkPortSetParameters, which accounts a
// floor against the network's), and the copy of the port kept with the
// domain is read again from there, as the live interface shows the port's
// bandwidth and a port libvirtd lost is made again from that copy.
func (drv *Driver) setPortBandwidth(ctx context.Context, d *domain, ifc *libvirtxml.DomainInterface, bw *libvirtxml.DomainInterfaceBandwidth) error {
	if ifc.Source == nil || ifc.Source.Network == nil || ifc.Source.Network.PortID == "" {
		return nil
	}
	src := ifc.Source.Network
	nd, handle, err := drv.lookupNetPort(ctx, src)
	if err != nil {
		return err
	}
	if err := nd.NetworkPortSetParameters(ctx, handle, portBandwidthParams(bw), 0); err != nil {
		return err
	}
	desc, err := nd.NetworkPortGetXMLDesc(ctx, handle, 0)
	if err != nil {
		return err
	}
	port, err := domxml.ParseNetworkPort(desc)
	if err != nil {
		return libxlErr(libvirt.ErrInternalError, "cannot read network port: %v", err)
	}
	drv.setNetPort(d, src.PortID, port)
	return nil
}

// portBandwidthParams is virDomainNetBandwidthToTypedParams: each direction
// bw has, as the network port's parameters (VIR_NETWORK_PORT_BANDWIDTH_*,
// named as the domain's), every figure of it, 0 for what it lacks.
func portBandwidthParams(bw *libvirtxml.DomainInterfaceBandwidth) []libvirt.TypedParam {
	v := bandwidthValues(bw)
	var params []libvirt.TypedParam
	if bw != nil && bw.Inbound != nil {
		params = append(params, typedparam.NewUInt(bwInAverage, v[0]), typedparam.NewUInt(bwInPeak, v[1]),
			typedparam.NewUInt(bwInFloor, v[3]), typedparam.NewUInt(bwInBurst, v[2]))
	}
	if bw != nil && bw.Outbound != nil {
		params = append(params, typedparam.NewUInt(bwOutAverage, v[4]), typedparam.NewUInt(bwOutPeak, v[5]),
			typedparam.NewUInt(bwOutBurst, v[6]))
	}
	return params
}
