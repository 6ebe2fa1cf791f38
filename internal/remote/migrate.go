package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// Migration, version 3 with parameters, as libvirt's Xen driver speaks
// it (issue 16). Only Begin is served so far; the other phases answer
// "not supported" from the procedure table.
func (p *program) migrateProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainMigrateBegin3Params, p.migrateBegin3Params),
	}
}

// migrateParamListMax is REMOTE_DOMAIN_MIGRATE_PARAM_LIST_MAX.
const migrateParamListMax = 64

// migrateParamsCheck is what libvirt checks of a migration call's
// parameters before its driver does: the dispatcher's limit and
// virTypedParamsDeserialize's field check, then the public entry point
// fn's: a destination name, if any, is a non-empty string.
func migrateParamsCheck(params []libvirt.TypedParam, fn string) error {
	if len(params) > migrateParamListMax {
		return virerr.New(virerr.FromRPC, libvirt.ErrRPC,
			"Too many migration parameters '%d' for limit '%d'", len(params), migrateParamListMax)
	}
	if err := typedparam.CheckFields(params); err != nil {
		return err
	}
	for _, prm := range params {
		if prm.Field != libvirt.MigrateParamDestName {
			continue
		}
		// virTypedParamsGetString reads the first one only.
		dname, ok := prm.Value.I.(string)
		if !ok || prm.Value.D != typedparam.String {
			return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
				"Invalid type '%s' requested for parameter '%s', actual type is '%s'",
				typedparam.TypeName(typedparam.String), prm.Field, typedparam.TypeName(prm.Value.D))
		}
		if dname == "" {
			return virerr.InvalidArg(virerr.FromDomain, fn, "dname", "string %s in %s must not be empty", "dname", fn)
		}
		break
	}
	return nil
}

func (p *program) migrateBegin3Params(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigrateBegin3ParamsArgs) (*libvirt.DomainMigrateBegin3ParamsRet, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigrateBegin3Params"); err != nil {
		return nil, err
	}
	xml, cookie, err := p.drv.MigrateBegin(ctx, domainOf(a.Dom), a.Params, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainMigrateBegin3ParamsRet{CookieOut: cookie, XML: xml}, nil
}
