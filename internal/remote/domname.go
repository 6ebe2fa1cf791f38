package remote

import (
	"context"
	"reflect"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/driver"
	"virtxend/internal/rpc"
)

var domainType = reflect.TypeFor[libvirt.Domain]()

// nameMissingDomains makes the procedures whose arguments carry a domain
// report a vanished domain with the name the client sent, as
// libxlDomObjFromDomain does: the driver resolves by UUID alone and does
// not know the client's name for it.
func nameMissingDomains(procs []*rpc.Procedure) {
	for _, pr := range procs {
		if pr.NewArgs == nil {
			continue
		}
		f, ok := reflect.TypeOf(pr.NewArgs()).Elem().FieldByName("Dom")
		if !ok || f.Type != domainType || len(f.Index) != 1 {
			continue
		}
		h, idx := pr.Handler, f.Index[0]
		pr.Handler = func(ctx context.Context, c *rpc.Client, args any) (any, error) {
			r, err := h(ctx, c, args)
			if err != nil {
				dom := reflect.ValueOf(args).Elem().Field(idx).Interface().(libvirt.Domain)
				err = driver.NameMissingDomain(err, backend.UUID(dom.UUID), dom.Name)
			}
			return r, err
		}
	}
}
