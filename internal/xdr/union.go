package xdr

import (
	"fmt"
	"reflect"
	"unsafe"
)

// The only discriminated union in libvirt's protocols is the typed
// parameter value (remote_typed_param_value, admin_typed_param_value):
//
//	union switch (int type) {
//	case 1: int i;  case 2: unsigned int ui;  case 3: hyper l;
//	case 4: unsigned hyper ul;  case 5: double d;  case 6: int b;
//	case 7: string s;
//	}
//
// go-libvirt generates it as struct{D uint32; I interface{}}, and this
// package treats every struct of that shape as such a union. Other unions
// can be written with Marshaler/Unmarshaler.
const (
	paramInt     = 1
	paramUint    = 2
	paramLLong   = 3
	paramULLong  = 4
	paramDouble  = 5
	paramBoolean = 6
	paramString  = 7
)

var paramArmTypes = map[uint32]reflect.Type{
	paramInt:     reflect.TypeFor[int32](),
	paramUint:    reflect.TypeFor[uint32](),
	paramLLong:   reflect.TypeFor[int64](),
	paramULLong:  reflect.TypeFor[uint64](),
	paramDouble:  reflect.TypeFor[float64](),
	paramBoolean: reflect.TypeFor[int32](),
	paramString:  reflect.TypeFor[string](),
}

func isUnion(t reflect.Type) bool {
	if t.NumField() != 2 {
		return false
	}
	d, i := t.Field(0), t.Field(1)
	return d.IsExported() && i.IsExported() &&
		(d.Type.Kind() == reflect.Uint32 || d.Type.Kind() == reflect.Int32) &&
		i.Type.Kind() == reflect.Interface && i.Type.NumMethod() == 0
}

func unionCodec(t reflect.Type) *codec {
	offD, offI := t.Field(0).Offset, t.Field(1).Offset
	return &codec{
		minSize: 8,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			disc := *(*uint32)(unsafe.Add(p, offD))
			return encodeParam(e, disc, *(*any)(unsafe.Add(p, offI)))
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			disc, err := d.Uint32()
			if err != nil {
				return err
			}
			*(*uint32)(unsafe.Add(p, offD)) = disc
			v, err := decodeParam(d, disc)
			*(*any)(unsafe.Add(p, offI)) = v
			return err
		},
	}
}

func encodeParam(e *Encoder, disc uint32, v any) error {
	armType, ok := paramArmTypes[disc]
	if !ok {
		return fmt.Errorf("xdr: invalid typed parameter type %d", disc)
	}
	rv := reflect.ValueOf(v)
	if !rv.IsValid() {
		return fmt.Errorf("xdr: typed parameter of type %d has no value", disc)
	}
	if rv.Type() != armType {
		if !canConvertArm(rv, armType) {
			return fmt.Errorf("xdr: typed parameter of type %d holds %s", disc, rv.Type())
		}
		rv = rv.Convert(armType)
	}
	e.Uint32(disc)
	switch disc {
	case paramInt, paramBoolean:
		e.Int32(int32(rv.Int()))
	case paramUint:
		e.Uint32(uint32(rv.Uint()))
	case paramLLong:
		e.Int64(rv.Int())
	case paramULLong:
		e.Uint64(rv.Uint())
	case paramDouble:
		e.Float64(rv.Float())
	case paramString:
		e.String(rv.String())
	}
	return nil
}

// canConvertArm allows numeric kinds to meet numeric arms and strings to
// meet the string arm, nothing else (no int→string surprises).
func canConvertArm(v reflect.Value, arm reflect.Type) bool {
	isString := func(k reflect.Kind) bool { return k == reflect.String }
	if isString(v.Kind()) != isString(arm.Kind()) {
		return false
	}
	if v.Kind() == reflect.Bool {
		return false
	}
	return v.Type().ConvertibleTo(arm)
}

func decodeParam(d *Decoder, disc uint32) (any, error) {
	switch disc {
	case paramInt, paramBoolean:
		return d.Int32()
	case paramUint:
		return d.Uint32()
	case paramLLong:
		return d.Int64()
	case paramULLong:
		return d.Uint64()
	case paramDouble:
		return d.Float64()
	case paramString:
		return d.String()
	}
	return nil, fmt.Errorf("xdr: invalid typed parameter type %d", disc)
}
