package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

func (p *program) domainConfigProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainGetInfo, p.getInfo),
		rpc.Handle(procDomainGetState, p.getState),
		rpc.Handle(procDomainGetOSType, p.getOSType),
		inline(rpc.Handle(procDomainGetXMLDesc, p.getXMLDesc)),
		inline(rpc.Handle(procDomainIsActive, p.isActive)),
		inline(rpc.Handle(procDomainIsPersistent, p.isPersistent)),
		rpc.Handle(procDomainIsUpdated, p.isUpdated),
		rpc.Handle(procDomainGetAutostart, p.getAutostart),
		rpc.Handle(procDomainSetAutostart, p.setAutostart),
		rpc.Handle(procDomainRename, p.rename),
		rpc.Handle(procDomainGetMaxMemory, p.getMaxMemory),
		rpc.Handle(procDomainSetMaxMemory, p.setMaxMemory),
		rpc.Handle(procDomainSetMemory, p.setMemory),
		rpc.Handle(procDomainSetMemoryFlags, p.setMemoryFlags),
		rpc.Handle(procDomainSetVcpus, p.setVcpus),
		rpc.Handle(procDomainSetVcpusFlags, p.setVcpusFlags),
		rpc.Handle(procDomainGetVcpusFlags, p.getVcpusFlags),
		rpc.Handle(procDomainGetMaxVcpus, p.getMaxVcpus),
		rpc.Handle(procDomainSetMetadata, p.setMetadata),
		rpc.Handle(procDomainGetMetadata, p.getMetadata),
		rpc.Handle(procDomainHasManagedSaveImage, p.hasManagedSave),
		rpc.Handle(procDomainGetMessages, p.getMessages),
	}
}

// boolRet is a C int boolean, as the protocol carries them.
func boolRet(b bool) int32 {
	if b {
		return 1
	}
	return 0
}

func (p *program) getInfo(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetInfoArgs) (*libvirt.DomainGetInfoRet, error) {
	info, err := p.drv.GetInfo(ctx, domainOf(a.Dom))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetInfoRet{State: uint8(info.State), MaxMem: info.MaxMemKiB, Memory: info.MemKiB,
		NrVirtCPU: info.NrVirtCPU, CPUTime: info.CPUTimeNs}, nil
}

func (p *program) getState(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetStateArgs) (*libvirt.DomainGetStateRet, error) {
	st, reason, err := p.drv.GetState(ctx, domainOf(a.Dom), a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetStateRet{State: int32(st), Reason: reason}, nil
}

func (p *program) getOSType(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetOsTypeArgs) (*libvirt.DomainGetOsTypeRet, error) {
	t, err := p.drv.GetOSType(ctx, domainOf(a.Dom))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetOsTypeRet{Type: t}, nil
}

func (p *program) getXMLDesc(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetXMLDescArgs) (*libvirt.DomainGetXMLDescRet, error) {
	xml, err := p.drv.GetXMLDesc(ctx, domainOf(a.Dom), uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainGetXMLDescRet{XML: xml}, nil
}

func (p *program) isActive(ctx context.Context, _ *rpc.Client, a *libvirt.DomainIsActiveArgs) (*libvirt.DomainIsActiveRet, error) {
	b, err := p.drv.IsActive(ctx, domainOf(a.Dom))
	return &libvirt.DomainIsActiveRet{Active: boolRet(b)}, err
}

func (p *program) isPersistent(ctx context.Context, _ *rpc.Client, a *libvirt.DomainIsPersistentArgs) (*libvirt.DomainIsPersistentRet, error) {
	b, err := p.drv.IsPersistent(ctx, domainOf(a.Dom))
	return &libvirt.DomainIsPersistentRet{Persistent: boolRet(b)}, err
}

func (p *program) isUpdated(ctx context.Context, _ *rpc.Client, a *libvirt.DomainIsUpdatedArgs) (*libvirt.DomainIsUpdatedRet, error) {
	b, err := p.drv.IsUpdated(ctx, domainOf(a.Dom))
	return &libvirt.DomainIsUpdatedRet{Updated: boolRet(b)}, err
}

func (p *program) getAutostart(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetAutostartArgs) (*libvirt.DomainGetAutostartRet, error) {
	b, err := p.drv.GetAutostart(ctx, domainOf(a.Dom))
	return &libvirt.DomainGetAutostartRet{Autostart: boolRet(b)}, err
}

func (p *program) setAutostart(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetAutostartArgs) (*rpc.Void, error) {
	return nil, p.drv.SetAutostart(ctx, domainOf(a.Dom), a.Autostart != 0)
}

// rename checks virDomainRename's argument, which must be a name.
func (p *program) rename(ctx context.Context, _ *rpc.Client, a *libvirt.DomainRenameArgs) (*libvirt.DomainRenameRet, error) {
	const fn = "virDomainRename"
	switch {
	case len(a.NewName) == 0:
		return nil, errNullArg(fn, "new_name")
	case a.NewName[0] == "":
		return nil, errEmptyArg(fn, "new_name")
	}
	return &libvirt.DomainRenameRet{}, p.drv.Rename(ctx, domainOf(a.Dom), a.NewName[0], a.Flags)
}

func (p *program) getMaxMemory(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetMaxMemoryArgs) (*libvirt.DomainGetMaxMemoryRet, error) {
	m, err := p.drv.GetMaxMemory(ctx, domainOf(a.Dom))
	return &libvirt.DomainGetMaxMemoryRet{Memory: m}, err
}

// setMaxMemory and setMemory are the flagless APIs, which libvirt maps to
// SetMemoryFlags with MAXIMUM, and with LIVE (the "current" default).
func (p *program) setMaxMemory(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetMaxMemoryArgs) (*rpc.Void, error) {
	return nil, p.drv.SetMemoryFlags(ctx, domainOf(a.Dom), a.Memory, uint32(libvirt.DomainMemMaximum))
}

func (p *program) setMemory(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetMemoryArgs) (*rpc.Void, error) {
	return nil, p.drv.SetMemoryFlags(ctx, domainOf(a.Dom), a.Memory, uint32(libvirt.DomainAffectLive))
}

func (p *program) setMemoryFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetMemoryFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.SetMemoryFlags(ctx, domainOf(a.Dom), a.Memory, a.Flags)
}

func (p *program) setVcpus(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetVcpusArgs) (*rpc.Void, error) {
	return nil, p.drv.SetVcpusFlags(ctx, domainOf(a.Dom), a.Nvcpus, uint32(libvirt.DomainAffectLive))
}

func (p *program) setVcpusFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetVcpusFlagsArgs) (*rpc.Void, error) {
	return nil, p.drv.SetVcpusFlags(ctx, domainOf(a.Dom), a.Nvcpus, a.Flags)
}

func (p *program) getVcpusFlags(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetVcpusFlagsArgs) (*libvirt.DomainGetVcpusFlagsRet, error) {
	n, err := p.drv.GetVcpusFlags(ctx, domainOf(a.Dom), a.Flags)
	return &libvirt.DomainGetVcpusFlagsRet{Num: n}, err
}

func (p *program) getMaxVcpus(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetMaxVcpusArgs) (*libvirt.DomainGetMaxVcpusRet, error) {
	n, err := p.drv.GetMaxVcpus(ctx, domainOf(a.Dom))
	return &libvirt.DomainGetMaxVcpusRet{Num: n}, err
}

// optional turns an OptString into the *string the driver takes.
func optional(s libvirt.OptString) *string {
	if len(s) == 0 {
		return nil
	}
	return &s[0]
}

func (p *program) setMetadata(ctx context.Context, _ *rpc.Client, a *libvirt.DomainSetMetadataArgs) (*rpc.Void, error) {
	return nil, p.drv.SetMetadata(ctx, domainOf(a.Dom), a.Type, optional(a.Metadata), optional(a.Key),
		optional(a.Uri), uint32(a.Flags))
}

func (p *program) getMetadata(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetMetadataArgs) (*libvirt.DomainGetMetadataRet, error) {
	m, err := p.drv.GetMetadata(ctx, domainOf(a.Dom), a.Type, optional(a.Uri), uint32(a.Flags))
	return &libvirt.DomainGetMetadataRet{Metadata: m}, err
}

func (p *program) hasManagedSave(ctx context.Context, _ *rpc.Client, a *libvirt.DomainHasManagedSaveImageArgs) (*libvirt.DomainHasManagedSaveImageRet, error) {
	has, err := p.drv.HasManagedSaveImage(ctx, domainOf(a.Dom), uint32(a.Flags))
	return &libvirt.DomainHasManagedSaveImageRet{Result: boolRet(has)}, err
}

func (p *program) getMessages(ctx context.Context, _ *rpc.Client, a *libvirt.DomainGetMessagesArgs) (*libvirt.DomainGetMessagesRet, error) {
	msgs, err := p.drv.GetMessages(ctx, domainOf(a.Dom), a.Flags)
	return &libvirt.DomainGetMessagesRet{Msgs: msgs}, err
}
