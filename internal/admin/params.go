package admin

import (
	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
)

func uintParam(name string, v int) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: typedparam.UInt, I: uint32(max(v, 0))}}
}

func intParam(name string, v int) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: typedparam.Int, I: int32(v)}}
}

func boolParam(name string, v bool) libvirt.TypedParam {
	b := int32(0)
	if v {
		b = 1
	}
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: typedparam.Boolean, I: b}}
}

func stringParam(name, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: name, Value: libvirt.TypedParamValue{D: typedparam.String, I: v}}
}

// validateUintParams is virTypedParamsValidate where every allowed
// parameter is a uint.
func validateUintParams(params []libvirt.TypedParam, allowed ...string) error {
	types := make(map[string]typedparam.Type, len(allowed))
	for _, name := range allowed {
		types[name] = typedparam.UInt
	}
	return typedparam.Validate(params, types)
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
