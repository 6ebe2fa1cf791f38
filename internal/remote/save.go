package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

func (p *program) saveProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainSave, p.save),
		rpc.Handle(procDomainSaveFlags, p.saveFlags),
		rpc.Handle(procDomainSaveParams, p.saveWithParams),
		rpc.Handle(procDomainRestoreParams, p.restoreWithParams),
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
	return nil, p.drv.ManagedSave(ctx, domainOf(a.Dom), "", a.Flags)
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

// saveParamTypes are the parameters of virDomainSaveParams and
// virDomainRestoreParams this daemon takes (VIR_DOMAIN_SAVE_PARAM_*).
var saveParamTypes = map[string]typedparam.Type{
	"file": typedparam.String, "dxml": typedparam.String, "image_format": typedparam.String,
}

// saveParams reads the file, dxml and image format of a save or restore
// with libvirt's checks; the only format of a Xen image is libxl's own,
// which libvirt calls raw.
func saveParams(params []libvirt.TypedParam) (file, dxml string, err error) {
	if err := typedparam.CheckFields(params); err != nil {
		return "", "", err
	}
	if err := typedparam.Validate(params, saveParamTypes); err != nil {
		return "", "", err
	}
	for _, prm := range params {
		v, _ := prm.Value.I.(string)
		switch prm.Field {
		case "file":
			file = v
		case "dxml":
			dxml = v
		case "image_format":
			if v != "raw" {
				return "", "", virerr.New(virerr.FromDomain, libvirt.ErrOperationFailed, "Invalid image_format '%s'", v)
			}
		}
	}
	return file, dxml, nil
}

// saveWithParams is virDomainSaveParams: without a file, a managed save.
func (p *program) saveWithParams(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSaveParamsArgs) (*rpc.Void, error) {
	file, dxml, err := saveParams(a.Params)
	if err != nil {
		return nil, err
	}
	if file == "" {
		return nil, p.drv.ManagedSave(ctx, domainOf(a.Dom), dxml, a.Flags)
	}
	return nil, p.drv.Save(ctx, domainOf(a.Dom), file, dxml, a.Flags)
}

func (p *program) restoreWithParams(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRestoreParamsArgs) (*rpc.Void, error) {
	file, dxml, err := saveParams(a.Params)
	if err != nil {
		return nil, err
	}
	if file == "" {
		return nil, virerr.New(virerr.FromDomain, libvirt.ErrInvalidArg, "missing path to restore from")
	}
	return nil, p.drv.Restore(ctx, file, dxml, a.Flags)
}
