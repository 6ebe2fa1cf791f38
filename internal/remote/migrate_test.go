package remote

import (
	"context"
	"fmt"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/hostname"
	"virtxend/internal/migration"
	"virtxend/internal/virerr"
)

func strParam(f, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
}

// TestMigrateBegin3Params: the source's first phase over the wire, with
// the checks libvirt's daemon makes before its driver.
func TestMigrateBegin3Params(t *testing.T) {
	rw, ro, g := statsServer(t)
	var ret libvirt.DomainMigrateBegin3ParamsRet
	if err := call(t, rw, 302, &libvirt.DomainMigrateBegin3ParamsArgs{Dom: g, Flags: uint32(libvirt.MigrateLive)}, &ret); err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ret.XML, "<domain type='xen' id=") {
		t.Errorf("XML %q", ret.XML)
	}
	c, err := migration.Decode(ret.CookieOut)
	host, _ := hostname.Get(context.Background())
	if err != nil || c.Name != "g" || c.Hostname != host || c.StreamVersion != 2 {
		t.Errorf("cookie %+v, %v", c, err)
	}
	many := make([]libvirt.TypedParam, 65)
	for i := range many {
		many[i] = strParam(fmt.Sprint("p", i), "")
	}
	for _, tt := range []struct {
		name   string
		params []libvirt.TypedParam
		flags  uint32
		code   virerr.Code
		msg    string
	}{
		{"too many", many, 0, libvirt.ErrRPC, "Too many migration parameters '65' for limit '64'"},
		{"dname type", []libvirt.TypedParam{{Field: "destination_name", Value: *libvirt.NewTypedParamValueInt(1)}}, 0, libvirt.ErrInvalidArg,
			"invalid argument: Invalid type 'string' requested for parameter 'destination_name', actual type is 'int'"},
		{"dname empty before flags", []libvirt.TypedParam{strParam("destination_name", "")}, 0x40, libvirt.ErrInvalidArg,
			"string dname in virDomainMigrateBegin3Params must not be empty"},
		{"flags", nil, 0x40, libvirt.ErrInvalidArg, "unsupported flags (0x40) in function libxlDomainMigrateBegin3Params"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			err := call(t, rw, 302, &libvirt.DomainMigrateBegin3ParamsArgs{Dom: g, Params: tt.params, Flags: tt.flags}, nil)
			w := virerr.As(err).Wire()
			if err == nil || w.Code != tt.code || w.Message != tt.msg {
				t.Errorf("got %+v, want code %d %q", w, tt.code, tt.msg)
			}
		})
	}
	err = call(t, ro, 302, &libvirt.DomainMigrateBegin3ParamsArgs{Dom: g}, nil)
	if w := virerr.As(err).Wire(); err == nil || w.Code != libvirt.ErrOperationDenied {
		t.Errorf("read-only Begin: %+v", w)
	}
}
