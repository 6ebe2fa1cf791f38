package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

// Migration, version 3 with parameters, as libvirt's Xen driver speaks
// it (issue 16).
func (p *program) migrateProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procDomainMigrateBegin3Params, p.migrateBegin3Params),
		rpc.Handle(procDomainMigratePrepare3Params, p.migratePrepare3Params),
		rpc.HandleStream(procDomainMigratePrepareTunnel3Params, p.migratePrepareTunnel3Params),
		rpc.Handle(procDomainMigratePerform3Params, p.migratePerform3Params),
		rpc.Handle(procDomainMigrateFinish3Params, p.migrateFinish3Params),
		rpc.Handle(procDomainMigrateConfirm3Params, p.migrateConfirm3Params),
		rpc.Handle(procDomainMigrateSetMaxSpeed, func(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigrateSetMaxSpeedArgs) (*rpc.Void, error) {
			return nil, p.drv.MigrateSetMaxSpeed(ctx, domainOf(a.Dom), a.Bandwidth, a.Flags)
		}),
		rpc.Handle(procDomainMigrateGetMaxSpeed, func(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigrateGetMaxSpeedArgs) (*libvirt.DomainMigrateGetMaxSpeedRet, error) {
			bw, err := p.drv.MigrateGetMaxSpeed(ctx, domainOf(a.Dom), a.Flags)
			if err != nil {
				return nil, err
			}
			return &libvirt.DomainMigrateGetMaxSpeedRet{Bandwidth: bw}, nil
		}),
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
			return errEmptyArg(fn, "dname")
		}
		break
	}
	return nil
}

// migrationsKey marks a client whose close ends the migrations it left
// half-way.
type migrationsKey struct{}

// endMigrationsOnClose has the migrations c begins or prepares end when c
// goes away before their last phase (once per client).
func (p *program) endMigrationsOnClose(c *rpc.Client) {
	if c.Value(migrationsKey{}) != nil {
		return
	}
	c.SetValue(migrationsKey{}, true)
	c.OnClose(func() { p.drv.MigrationCallerGone(c.ID()) })
}

func (p *program) migrateBegin3Params(ctx context.Context, c *rpc.Client, a *libvirt.DomainMigrateBegin3ParamsArgs) (*libvirt.DomainMigrateBegin3ParamsRet, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigrateBegin3Params"); err != nil {
		return nil, err
	}
	p.endMigrationsOnClose(c)
	xml, cookie, err := p.drv.MigrateBegin(ctx, domainOf(a.Dom), a.Params, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainMigrateBegin3ParamsRet{CookieOut: cookie, XML: xml}, nil
}

func (p *program) migratePrepare3Params(ctx context.Context, c *rpc.Client, a *libvirt.DomainMigratePrepare3ParamsArgs) (*libvirt.DomainMigratePrepare3ParamsRet, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigratePrepare3Params"); err != nil {
		return nil, err
	}
	p.endMigrationsOnClose(c)
	uri, err := p.drv.MigratePrepare(ctx, a.Params, a.CookieIn, a.Flags)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainMigratePrepare3ParamsRet{UriOut: libvirt.OptString{uri}}, nil
}

// migratePrepareTunnel3Params opens the stream the guest's data comes on
// (remoteDispatchDomainMigratePrepareTunnel3Params): what the client
// writes goes to the pipe the driver restores the guest from.
func (p *program) migratePrepareTunnel3Params(ctx context.Context, c *rpc.Client, a *libvirt.DomainMigratePrepareTunnel3ParamsArgs) (*rpc.Stream, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigratePrepareTunnel3Params"); err != nil {
		return nil, err
	}
	p.endMigrationsOnClose(c)
	w, err := p.drv.MigratePrepareTunnel(ctx, a.Params, a.CookieIn, a.Flags)
	if err != nil {
		return nil, err
	}
	return &rpc.Stream{
		Ret:    &libvirt.DomainMigratePrepareTunnel3ParamsRet{},
		Sink:   w,
		Finish: w.Close,
		Abort:  func() { w.Close() },
	}, nil
}

func (p *program) migratePerform3Params(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigratePerform3ParamsArgs) (*libvirt.DomainMigratePerform3ParamsRet, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigratePerform3Params"); err != nil {
		return nil, err
	}
	dconnuri := ""
	if len(a.Dconnuri) > 0 {
		dconnuri = a.Dconnuri[0]
	}
	if err := p.drv.MigratePerform(ctx, domainOf(a.Dom), dconnuri, a.Params, uint32(a.Flags)); err != nil {
		return nil, err
	}
	return &libvirt.DomainMigratePerform3ParamsRet{}, nil
}

func (p *program) migrateFinish3Params(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigrateFinish3ParamsArgs) (*libvirt.DomainMigrateFinish3ParamsRet, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigrateFinish3Params"); err != nil {
		return nil, err
	}
	dom, err := p.drv.MigrateFinish(ctx, a.Params, a.Flags, a.Cancelled != 0)
	if err != nil {
		return nil, err
	}
	return &libvirt.DomainMigrateFinish3ParamsRet{Dom: wireDomain(dom)}, nil
}

func (p *program) migrateConfirm3Params(ctx context.Context, _ *rpc.Client, a *libvirt.DomainMigrateConfirm3ParamsArgs) (*rpc.Void, error) {
	if err := migrateParamsCheck(a.Params, "virDomainMigrateConfirm3Params"); err != nil {
		return nil, err
	}
	return nil, p.drv.MigrateConfirm(ctx, domainOf(a.Dom), a.Params, a.Flags, a.Cancelled != 0)
}
