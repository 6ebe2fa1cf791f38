package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
)

// Flags whose use on a read-only connection libvirt refuses.
const (
	xmlSecure     = uint32(libvirt.DomainXMLSecure)
	xmlMigratable = uint32(libvirt.DomainXMLMigratable)
	vcpuGuestFlag = uint32(libvirt.DomainVCPUGuest)
)

func (p *program) domainConfigProcs() []*rpc.Procedure {
	deny := rpc.DenyReadOnly
	return []*rpc.Procedure{
		rpc.Proc(16, "DOMAIN_GET_INFO", "virDomainGetInfo", 0, p.getInfo),
		rpc.Proc(212, "DOMAIN_GET_STATE", "virDomainGetState", rpc.High, p.getState),
		rpc.Proc(19, "DOMAIN_GET_OS_TYPE", "virDomainGetOSType", rpc.High, p.getOSType),
		rpc.Proc(14, "DOMAIN_GET_XML_DESC", "virDomainGetXMLDesc", 0, p.getXMLDesc).
			WithReadOnly(rpc.DeniedIf(func(a *libvirt.DomainGetXMLDescArgs) bool {
				return uint32(a.Flags)&(xmlSecure|xmlMigratable) != 0
			})),
		rpc.Proc(150, "DOMAIN_IS_ACTIVE", "virDomainIsActive", rpc.High, p.isActive),
		rpc.Proc(151, "DOMAIN_IS_PERSISTENT", "virDomainIsPersistent", rpc.High, p.isPersistent),
		rpc.Proc(202, "DOMAIN_IS_UPDATED", "virDomainIsUpdated", rpc.High, p.isUpdated),
		rpc.Proc(15, "DOMAIN_GET_AUTOSTART", "virDomainGetAutostart", rpc.High, p.getAutostart),
		rpc.Proc(29, "DOMAIN_SET_AUTOSTART", "virDomainSetAutostart", rpc.High|deny, p.setAutostart),
		rpc.Proc(17, "DOMAIN_GET_MAX_MEMORY", "virDomainGetMaxMemory", rpc.High, p.getMaxMemory),
		rpc.Proc(30, "DOMAIN_SET_MAX_MEMORY", "virDomainSetMaxMemory", rpc.High|deny, p.setMaxMemory),
		rpc.Proc(31, "DOMAIN_SET_MEMORY", "virDomainSetMemory", deny, p.setMemory),
		rpc.Proc(204, "DOMAIN_SET_MEMORY_FLAGS", "virDomainSetMemoryFlags", deny, p.setMemoryFlags),
		rpc.Proc(32, "DOMAIN_SET_VCPUS", "virDomainSetVcpus", deny, p.setVcpus),
		rpc.Proc(199, "DOMAIN_SET_VCPUS_FLAGS", "virDomainSetVcpusFlags", deny, p.setVcpusFlags),
		rpc.Proc(200, "DOMAIN_GET_VCPUS_FLAGS", "virDomainGetVcpusFlags", 0, p.getVcpusFlags).
			WithReadOnly(rpc.DeniedIf(func(a *libvirt.DomainGetVcpusFlagsArgs) bool { return a.Flags&vcpuGuestFlag != 0 })),
		rpc.Proc(18, "DOMAIN_GET_MAX_VCPUS", "virDomainGetMaxVcpus", rpc.High, p.getMaxVcpus),
		rpc.Proc(264, "DOMAIN_SET_METADATA", "virDomainSetMetadata", deny, p.setMetadata),
		rpc.Proc(265, "DOMAIN_GET_METADATA", "virDomainGetMetadata", 0, p.getMetadata),
		rpc.Proc(183, "DOMAIN_HAS_MANAGED_SAVE_IMAGE", "virDomainHasManagedSaveImage", 0, p.hasManagedSave),
		rpc.Proc(426, "DOMAIN_GET_MESSAGES", "virDomainGetMessages", 0, p.getMessages),
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
