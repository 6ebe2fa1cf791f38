package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

func (p *program) lifecycleProcs() []*rpc.Procedure {
	deny := rpc.DenyReadOnly
	return []*rpc.Procedure{
		rpc.Proc(11, "DOMAIN_DEFINE_XML", "virDomainDefineXML", rpc.High|deny, p.define),
		rpc.Proc(350, "DOMAIN_DEFINE_XML_FLAGS", "virDomainDefineXMLFlags", rpc.High|deny, p.defineFlags),
		rpc.Proc(35, "DOMAIN_UNDEFINE", "virDomainUndefine", rpc.High|deny, p.undefine),
		rpc.Proc(231, "DOMAIN_UNDEFINE_FLAGS", "virDomainUndefineFlags", rpc.High|deny, p.undefineFlags),
		rpc.Proc(9, "DOMAIN_CREATE", "virDomainCreate", deny, p.create),
		rpc.Proc(196, "DOMAIN_CREATE_WITH_FLAGS", "virDomainCreateWithFlags", deny, p.createWithFlags),
		rpc.Proc(10, "DOMAIN_CREATE_XML", "virDomainCreateXML", deny, p.createXML),
		rpc.Proc(33, "DOMAIN_SHUTDOWN", "virDomainShutdown", deny, p.shutdown),
		rpc.Proc(258, "DOMAIN_SHUTDOWN_FLAGS", "virDomainShutdownFlags", deny, p.shutdownFlags),
		rpc.Proc(27, "DOMAIN_REBOOT", "virDomainReboot", deny, p.reboot),
		rpc.Proc(12, "DOMAIN_DESTROY", "virDomainDestroy", rpc.High|deny, p.destroy),
		rpc.Proc(234, "DOMAIN_DESTROY_FLAGS", "virDomainDestroyFlags", rpc.High|deny, p.destroyFlags),
		rpc.Proc(34, "DOMAIN_SUSPEND", "virDomainSuspend", deny, p.suspend),
		rpc.Proc(28, "DOMAIN_RESUME", "virDomainResume", deny, p.resume),
	}
}

func (p *program) define(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDefineXMLArgs) (*libvirt.DomainDefineXMLRet, error) {
	d, err := p.drv.Define(ctx, a.XML, 0)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainDefineXMLRet{Dom: wireDomain(d)}, nil
}

func (p *program) defineFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDefineXMLFlagsArgs) (*libvirt.DomainDefineXMLFlagsRet, error) {
	d, err := p.drv.Define(ctx, a.XML, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainDefineXMLFlagsRet{Dom: wireDomain(d)}, nil
}

func (p *program) undefine(ctx context.Context, _ *rpc.Client, a *libvirt.DomainUndefineArgs) (*rpc.Void, error) {
	return nil, p.drv.Undefine(ctx, domainOf(a.Dom), 0)
}

func (p *program) undefineFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainUndefineFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.Undefine(ctx, domainOf(a.Dom), uint32(a.Flags))
}

func (p *program) create(ctx context.Context, _ *rpc.Client, a *libvirt.DomainCreateArgs) (*rpc.Void, error) {
	_, err := p.drv.Create(ctx, domainOf(a.Dom), 0)
	return nil, err
}

func (p *program) createWithFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainCreateWithFlagsArgs) (*libvirt.DomainCreateWithFlagsRet, error) {
	d, err := p.drv.Create(ctx, domainOf(a.Dom), a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainCreateWithFlagsRet{Dom: wireDomain(d)}, nil
}

func (p *program) createXML(ctx context.Context, _ *rpc.Client, a *libvirt.DomainCreateXMLArgs) (*libvirt.DomainCreateXMLRet, error) {
	d, err := p.drv.CreateXML(ctx, a.XMLDesc, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainCreateXMLRet{Dom: wireDomain(d)}, nil
}

func (p *program) shutdown(ctx context.Context, _ *rpc.Client, a *libvirt.DomainShutdownArgs) (*rpc.Void, error) {
	return nil, p.drv.Shutdown(ctx, domainOf(a.Dom), 0)
}

func (p *program) shutdownFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainShutdownFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.Shutdown(ctx, domainOf(a.Dom), uint32(a.Flags))
}

func (p *program) reboot(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRebootArgs) (*rpc.Void, error) {
	return nil, p.drv.Reboot(ctx, domainOf(a.Dom), uint32(a.Flags))
}

func (p *program) destroy(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDestroyArgs) (*rpc.Void, error) {
	return nil, p.drv.Destroy(ctx, domainOf(a.Dom), 0)
}

func (p *program) destroyFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainDestroyFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.Destroy(ctx, domainOf(a.Dom), uint32(a.Flags))
}

func (p *program) suspend(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSuspendArgs) (*rpc.Void, error) {
	return nil, p.drv.Suspend(ctx, domainOf(a.Dom))
}

func (p *program) resume(ctx context.Context, _ *rpc.Client, a *libvirt.DomainResumeArgs) (*rpc.Void, error) {
	return nil, p.drv.Resume(ctx, domainOf(a.Dom))
}
