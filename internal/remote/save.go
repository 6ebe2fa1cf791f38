package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

func (p *program) saveProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainSave, p.save),
		rpc.Handle(procDomainSaveFlags, p.saveFlags),
		rpc.Handle(procDomainRestore, p.restore),
		rpc.Handle(procDomainRestoreFlags, p.restoreFlags),
		rpc.Handle(procDomainManagedSave, p.managedSave),
		rpc.Handle(procDomainManagedSaveRemove, p.managedSaveRemove),
		rpc.Handle(procDomainManagedSaveGetXMLDesc, p.managedSaveXML),
		rpc.Handle(procDomainManagedSaveDefineXML, p.managedSaveDefine),
		rpc.Handle(procDomainSaveImageGetXMLDesc, p.saveImageXML),
		rpc.Handle(procDomainSaveImageDefineXML, p.saveImageDefine),
		rpc.Handle(procDomainCoreDump, p.coreDump),
		rpc.Handle(procDomainAbortJob, p.abortJob),
		rpc.Handle(procDomainAbortJobFlags, p.abortJobFlags),
	}
}

// text is an optional string argument, "" when absent.
func text(s libvirt.OptString) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

func (p *program) save(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSaveArgs) (*rpc.Void, error) {
	return nil, p.drv.Save(ctx, domainOf(a.Dom), a.To, "", 0)
}

func (p *program) saveFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSaveFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.Save(ctx, domainOf(a.Dom), a.To, text(a.Dxml), a.Flags)
}

func (p *program) restore(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRestoreArgs) (*rpc.Void, error) {
	return nil, p.drv.Restore(ctx, a.From, "", 0)
}

func (p *program) restoreFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRestoreFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.Restore(ctx, a.From, text(a.Dxml), a.Flags)
}

func (p *program) managedSave(ctx context.Context, _ *rpc.Client, a *libvirt.DomainManagedSaveArgs) (*rpc.Void, error) {
	return nil, p.drv.ManagedSave(ctx, domainOf(a.Dom), a.Flags)
}

func (p *program) managedSaveRemove(ctx context.Context, _ *rpc.Client, a *libvirt.DomainManagedSaveRemoveArgs) (*rpc.Void, error) {
	return nil, p.drv.ManagedSaveRemove(ctx, domainOf(a.Dom), a.Flags)
}

func (p *program) managedSaveXML(ctx context.Context, _ *rpc.Client, a *libvirt.DomainManagedSaveGetXMLDescArgs) (*libvirt.DomainManagedSaveGetXMLDescRet, error) {
	x, err := p.drv.ManagedSaveXML(ctx, domainOf(a.Dom), uint32(a.Flags))
	return &libvirt.DomainManagedSaveGetXMLDescRet{XML: x}, err
}

func (p *program) managedSaveDefine(ctx context.Context, _ *rpc.Client, a *libvirt.DomainManagedSaveDefineXMLArgs) (*rpc.Void, error) {
	return nil, p.drv.ManagedSaveDefine(ctx, domainOf(a.Dom), text(a.Dxml), uint32(a.Flags))
}

func (p *program) saveImageXML(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSaveImageGetXMLDescArgs) (*libvirt.DomainSaveImageGetXMLDescRet, error) {
	x, err := p.drv.SaveImageXML(ctx, a.File, a.Flags)
	return &libvirt.DomainSaveImageGetXMLDescRet{XML: x}, err
}

func (p *program) saveImageDefine(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSaveImageDefineXMLArgs) (*rpc.Void, error) {
	return nil, p.drv.SaveImageDefine(ctx, a.File, a.Dxml, a.Flags)
}

func (p *program) coreDump(ctx context.Context, _ *rpc.Client, a *libvirt.DomainCoreDumpArgs) (*rpc.Void, error) {
	return nil, p.drv.CoreDump(ctx, domainOf(a.Dom), a.To, uint32(a.Flags))
}

func (p *program) abortJob(ctx context.Context, _ *rpc.Client, a *libvirt.DomainAbortJobArgs) (*rpc.Void, error) {
	return nil, p.drv.AbortJob(ctx, domainOf(a.Dom), 0)
}

func (p *program) abortJobFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainAbortJobFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.AbortJob(ctx, domainOf(a.Dom), a.Flags)
}
