package typedparam

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// StringOkay is VIR_TYPED_PARAM_STRING_OKAY: the client takes string
// parameters. libvirt's entry points add it to the flags of a query when
// the driver supports strings.
const StringOkay uint32 = 1 << 2

// NewUInt, NewInt and NewString make one parameter of their type.
func NewUInt(field string, v uint32) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueUint(v)}
}

// NewInt is a parameter of type int.
func NewInt(field string, v int32) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueInt(v)}
}

// NewString is a parameter of type string.
func NewString(field, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueString(v)}
}

// Serialize is the daemon's virTypedParamsSerialize of a driver's answer:
// more than limit parameters is an RPC error, and string parameters are
// left out unless flags has StringOkay (an old client could not read
// them), as are the empty slots (Value.D 0) of a sparse list, such as
// virDomainGetCPUStats' CPUs with no figure.
func Serialize(params []libvirt.TypedParam, limit int, flags uint32) ([]libvirt.TypedParam, error) {
	if len(params) > limit {
		return nil, virerr.New(virerr.FromNone, libvirt.ErrRPC, "too many parameters '%d' for limit '%d'", len(params), limit)
	}
	drop := func(p libvirt.TypedParam) bool {
		return p.Value.D == 0 || (p.Value.D == String && flags&StringOkay == 0)
	}
	n := 0
	for _, p := range params {
		if !drop(p) {
			n++
		}
	}
	if n == len(params) {
		return params, nil // nothing to leave out: no copy (bulk statistics send many lists)
	}
	out := make([]libvirt.TypedParam, 0, n)
	for _, p := range params {
		if !drop(p) {
			out = append(out, p)
		}
	}
	return out, nil
}
