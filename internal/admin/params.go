package admin

import (
	"cmp"
	"slices"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// Typed-parameter type numbers (virTypedParameterType).
const (
	paramInt     = 1
	paramUint    = 2
	paramBoolean = 6
	paramString  = 7
)

// paramTypeNames are virTypedParameterTypeToString's names, by number.
var paramTypeNames = []string{"unknown", "int", "uint", "llong", "ullong", "double", "boolean", "string"}

func paramTypeName(t uint32) string {
	if int(t) < len(paramTypeNames) {
		return paramTypeNames[t]
	}
	return paramTypeNames[0]
}

func uintParam(name string, v int) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: paramUint, I: uint32(max(v, 0))}}
}

func intParam(name string, v int) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: paramInt, I: int32(v)}}
}

func boolParam(name string, v bool) libvirt.TypedParam {
	b := int32(0)
	if v {
		b = 1
	}
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: paramBoolean, I: b}}
}

func stringParam(name, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: paramString, I: v}}
}

// validateUintParams is virTypedParamsValidate where every allowed
// parameter is a uint. Like libvirt it walks the parameters sorted by name,
// so the first problem in that order is the one reported.
func validateUintParams(params []libvirt.TypedParam, allowed ...string) error {
	sorted := slices.Clone(params)
	slices.SortStableFunc(sorted, func(a, b libvirt.TypedParam) int { return cmp.Compare(a.Field, b.Field) })
	for i, prm := range sorted {
		if !slices.Contains(allowed, prm.Field) {
			return virerr.New(virerr.FromNone, libvirt.ErrArgumentUnsupported, "parameter '%s' not supported", prm.Field)
		}
		if i > 0 && sorted[i-1].Field == prm.Field {
			return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "parameter '%s' occurs multiple times", prm.Field)
		}
		if prm.Value.D != paramUint {
			return virerr.New(virerr.FromNone, libvirt.ErrInvalidArg,
				"invalid type '%s' for parameter '%s', expected '%s'", paramTypeName(prm.Value.D), prm.Field, "uint")
		}
	}
	return nil
}

// uintValue returns the value of the uint parameter name, or -1 when it
// is absent (libvirt's "leave unchanged"). Call validateUintParams first.
func uintValue(params []libvirt.TypedParam, name string) int64 {
	for _, prm := range params {
		if prm.Field == name {
			if v, ok := prm.Value.I.(uint32); ok {
				return int64(v)
			}
		}
	}
	return -1
}
