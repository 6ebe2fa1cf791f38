package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

func (p *program) lifecycleProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainDefineXML, p.define),
		rpc.Handle(procDomainDefineXMLFlags, p.defineFlags),
		rpc.Handle(procDomainUndefine, p.undefine),
		rpc.Handle(procDomainUndefineFlags, p.undefineFlags),
		rpc.Handle(procDomainCreate, p.create),
		rpc.Handle(procDomainCreateWithFlags, p.createWithFlags),
		rpc.Handle(procDomainCreateXML, p.createXML),
		rpc.Handle(procDomainShutdown, p.shutdown),
		rpc.Handle(procDomainShutdownFlags, p.shutdownFlags),
		rpc.Handle(procDomainReboot, p.reboot),
		rpc.Handle(procDomainDestroy, p.destroy),
		rpc.Handle(procDomainDestroyFlags, p.destroyFlags),
		rpc.Handle(procDomainSuspend, p.suspend),
		rpc.Handle(procDomainResume, p.resume),
		rpc.Handle(procDomainInjectNMI, p.injectNMI),
		rpc.Handle(procDomainReset, p.reset),
		rpc.Handle(procDomainSetLifecycleAction, p.setLifecycleAction),
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

func (p *program) injectNMI(ctx context.Context, _ *rpc.Client, a *libvirt.DomainInjectNmiArgs) (*rpc.Void, error) {
	return nil, p.drv.InjectNMI(ctx, domainOf(a.Dom), a.Flags)
}

func (p *program) reset(ctx context.Context, _ *rpc.Client, a *libvirt.DomainResetArgs) (*rpc.Void, error) {
	return nil, p.drv.Reset(ctx, domainOf(a.Dom), a.Flags)
}

func (p *program) setLifecycleAction(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetLifecycleActionArgs) (*rpc.Void, error) {
	return nil, p.drv.SetLifecycleAction(ctx, domainOf(a.Dom), a.Type, a.Action, uint32(a.Flags))
}

func (p *program) suspend(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSuspendArgs) (*rpc.Void, error) {
	return nil, p.drv.Suspend(ctx, domainOf(a.Dom))
}

func (p *program) resume(ctx context.Context, _ *rpc.Client, a *libvirt.DomainResumeArgs) (*rpc.Void, error) {
	return nil, p.drv.Resume(ctx, domainOf(a.Dom))
}
