package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

// Device hotplug. The flagless calls are the libxl driver's
// libxlDomainAttachDevice and libxlDomainDetachDevice: LIVE. Like
// libvirt's libxl driver, this one has no DETACH_DEVICE_ALIAS, which stays
// "not supported".
func (p *program) domainDeviceProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainAttachDevice, p.attachDevice),
		rpc.Handle(procDomainAttachDeviceFlags, p.attachDeviceFlags),
		rpc.Handle(procDomainDetachDevice, p.detachDevice),
		rpc.Handle(procDomainDetachDeviceFlags, p.detachDeviceFlags),
		rpc.Handle(procDomainDetachDeviceAlias, p.detachDeviceAlias),
		rpc.Handle(procDomainUpdateDeviceFlags, p.updateDeviceFlags),
	}
}

const modifyLive = uint32(libvirt.DomainDeviceModifyLive)

func (p *program) attachDevice(ctx context.Context, _ *rpc.Client, a *libvirt.DomainAttachDeviceArgs) (*rpc.Void, error) {
	return nil, p.drv.AttachDevice(ctx, domainOf(a.Dom), a.XML, modifyLive)
}

func (p *program) attachDeviceFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainAttachDeviceFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.AttachDevice(ctx, domainOf(a.Dom), a.XML, a.Flags)
}

func (p *program) detachDevice(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDetachDeviceArgs) (*rpc.Void, error) {
	return nil, p.drv.DetachDevice(ctx, domainOf(a.Dom), a.XML, modifyLive)
}

func (p *program) detachDeviceFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDetachDeviceFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.DetachDevice(ctx, domainOf(a.Dom), a.XML, a.Flags)
}

func (p *program) detachDeviceAlias(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDetachDeviceAliasArgs) (*rpc.Void, error) {
	return nil, p.drv.DetachDeviceAlias(ctx, domainOf(a.Dom), a.Alias, a.Flags)
}

func (p *program) updateDeviceFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainUpdateDeviceFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.UpdateDevice(ctx, domainOf(a.Dom), a.XML, uint32(a.Flags))
}
