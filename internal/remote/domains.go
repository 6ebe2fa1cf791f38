package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/driver"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// listMax is libvirt's REMOTE_DOMAIN_LIST_MAX: no list call returns more.
const listMax = 16384

// wireDomain is a domain as remote_nonnull_domain carries it.
func wireDomain(d driver.Domain) libvirt.Domain {
	return libvirt.Domain{Name: d.Name, UUID: libvirt.UUID(d.UUID), ID: d.ID}
}

// domainOf is a domain argument as the driver takes it: the driver resolves
// it by UUID alone, as libvirt's daemon does, and names a domain that is
// not there with the client's name for it.
func domainOf(d libvirt.Domain) driver.Domain {
	return driver.Domain{Name: d.Name, UUID: backend.UUID(d.UUID), ID: d.ID}
}

// inline marks a procedure whose handler only reads the driver's memory,
// never waiting (no job, no backend, no other daemon): the client's reader
// runs it rather than a worker (rpc.Procedure.Inline).
func inline(p *rpc.Procedure) *rpc.Procedure {
	p.Inline = true
	return p
}

func (p *program) domainListProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		inline(rpc.HandleMarshaled(procConnectListAllDomains, p.listAll)),
		inline(rpc.Handle(procConnectListDomains, p.listIDs)),
		inline(rpc.Handle(procConnectNumOfDomains, p.numActive)),
		inline(rpc.Handle(procConnectListDefinedDomains, p.listDefined)),
		inline(rpc.Handle(procConnectNumOfDefinedDomains, p.numDefined)),
		inline(rpc.Handle(procDomainLookupByID, p.lookupByID)),
		inline(rpc.Handle(procDomainLookupByUUID, p.lookupByUUID)),
		inline(rpc.Handle(procDomainLookupByName, p.lookupByName)),
	}
}

func (p *program) listAll(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectListAllDomainsArgs) (xdr.Marshaler, error) {
	doms, err := p.drv.ListAll(ctx, uint32(a.Flags))
	if err != nil {
		return nil, err
	}
	if len(doms) > listMax {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrRPC,
			"Too many domains '%d' for limit '%d'", len(doms), listMax)
	}
	ret := &listAllRet{ret: uint32(len(doms))}
	if a.NeedResults != 0 {
		ret.doms = doms
	}
	return ret, nil
}

// listAllRet is remote_connect_list_all_domains_ret (go-libvirt's
// ConnectListAllDomainsRet) encoded straight from the driver's list, which
// it must not change: a ConnectListAllDomainsRet would hold a copy of
// every domain, 440 KB for 10,000, for the collector to scan.
type listAllRet struct {
	doms []driver.Domain
	ret  uint32
}

// MarshalXDR writes remote_nonnull_domain domains<>, then unsigned ret,
// into a buffer grown once to their size.
func (r *listAllRet) MarshalXDR(e *xdr.Encoder) error {
	size := 8
	for i := range r.doms {
		size += 4 + (len(r.doms[i].Name)+3)&^3 + len(r.doms[i].UUID) + 4
	}
	e.Grow(size)
	e.Uint32(uint32(len(r.doms)))
	for i := range r.doms {
		d := &r.doms[i]
		e.String(d.Name)
		e.FixedOpaque(d.UUID[:])
		e.Int32(d.ID)
	}
	e.Uint32(r.ret)
	return nil
}

// checkMax applies libvirt's bound on a caller's maxids/maxnames.
func checkMax(n int32, what string) error {
	if n > listMax {
		return virerr.New(virerr.FromRPC, libvirt.ErrRPC, "max%s > REMOTE_DOMAIN_LIST_MAX", what)
	}
	return nil
}

func (p *program) listIDs(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectListDomainsArgs) (*libvirt.ConnectListDomainsRet, error) {
	if err := checkMax(a.Maxids, "ids"); err != nil {
		return nil, err
	}
	ids := p.drv.ListActiveIDs(ctx)
	if len(ids) > int(max(a.Maxids, 0)) {
		ids = ids[:max(a.Maxids, 0)]
	}
	return &libvirt.ConnectListDomainsRet{Ids: ids}, nil
}

func (p *program) numActive(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.ConnectNumOfDomainsRet, error) {
	return &libvirt.ConnectNumOfDomainsRet{Num: int32(len(p.drv.ListActiveIDs(ctx)))}, nil
}

func (p *program) listDefined(ctx context.Context, _ *rpc.Client, a *libvirt.ConnectListDefinedDomainsArgs) (*libvirt.ConnectListDefinedDomainsRet, error) {
	if err := checkMax(a.Maxnames, "names"); err != nil {
		return nil, err
	}
	names := p.drv.ListInactiveNames(ctx)
	if len(names) > int(max(a.Maxnames, 0)) {
		names = names[:max(a.Maxnames, 0)]
	}
	return &libvirt.ConnectListDefinedDomainsRet{Names: names}, nil
}

func (p *program) numDefined(ctx context.Context, _ *rpc.Client, _ *rpc.Void) (*libvirt.ConnectNumOfDefinedDomainsRet, error) {
	return &libvirt.ConnectNumOfDefinedDomainsRet{Num: int32(len(p.drv.ListInactiveNames(ctx)))}, nil
}

func (p *program) lookupByID(ctx context.Context, _ *rpc.Client, a *libvirt.DomainLookupByIDArgs) (*libvirt.DomainLookupByIDRet, error) {
	d, err := p.drv.LookupByID(ctx, a.ID)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainLookupByIDRet{Dom: wireDomain(d)}, nil
}

func (p *program) lookupByUUID(ctx context.Context, _ *rpc.Client, a *libvirt.DomainLookupByUUIDArgs) (*libvirt.DomainLookupByUUIDRet, error) {
	d, err := p.drv.LookupByUUID(ctx, backend.UUID(a.UUID))
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainLookupByUUIDRet{Dom: wireDomain(d)}, nil
}

func (p *program) lookupByName(ctx context.Context, _ *rpc.Client, a *libvirt.DomainLookupByNameArgs) (*libvirt.DomainLookupByNameRet, error) {
	d, err := p.drv.LookupByName(ctx, a.Name)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainLookupByNameRet{Dom: wireDomain(d)}, nil
}
