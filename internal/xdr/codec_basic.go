package xdr

import (
	"fmt"
	"reflect"
	"unsafe"
)

func boolCodec() *codec {
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			e.Bool(*(*bool)(p))
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			v, err := d.Bool()
			*(*bool)(p) = v
			return err
		},
	}
}

func intCodec(k reflect.Kind) *codec {
	c := &codec{minSize: 4}
	switch k {
	case reflect.Int8:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Int32(int32(*(*int8)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Int32(); *(*int8)(p) = int8(v); return err }
	case reflect.Int16:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Int32(int32(*(*int16)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Int32(); *(*int16)(p) = int16(v); return err }
	case reflect.Int32:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Int32(*(*int32)(p)); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Int32(); *(*int32)(p) = v; return err }
	case reflect.Int:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Int32(int32(*(*int)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Int32(); *(*int)(p) = int(v); return err }
	case reflect.Int64:
		c.minSize = 8
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Int64(*(*int64)(p)); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Int64(); *(*int64)(p) = v; return err }
	}
	return c
}

func uintCodec(k reflect.Kind) *codec {
	c := &codec{minSize: 4}
	switch k {
	case reflect.Uint8:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Uint32(uint32(*(*uint8)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Uint32(); *(*uint8)(p) = uint8(v); return err }
	case reflect.Uint16:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Uint32(uint32(*(*uint16)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Uint32(); *(*uint16)(p) = uint16(v); return err }
	case reflect.Uint32:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Uint32(*(*uint32)(p)); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Uint32(); *(*uint32)(p) = v; return err }
	case reflect.Uint:
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Uint32(uint32(*(*uint)(p))); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Uint32(); *(*uint)(p) = uint(v); return err }
	case reflect.Uint64:
		c.minSize = 8
		c.enc = func(e *Encoder, p unsafe.Pointer) error { e.Uint64(*(*uint64)(p)); return nil }
		c.dec = func(d *Decoder, p unsafe.Pointer) error { v, err := d.Uint64(); *(*uint64)(p) = v; return err }
	}
	return c
}

func floatCodec(k reflect.Kind) *codec {
	if k == reflect.Float32 {
		return &codec{
			minSize: 4,
			enc:     func(e *Encoder, p unsafe.Pointer) error { e.Float32(*(*float32)(p)); return nil },
			dec:     func(d *Decoder, p unsafe.Pointer) error { v, err := d.Float32(); *(*float32)(p) = v; return err },
		}
	}
	return &codec{
		minSize: 8,
		enc:     func(e *Encoder, p unsafe.Pointer) error { e.Float64(*(*float64)(p)); return nil },
		dec:     func(d *Decoder, p unsafe.Pointer) error { v, err := d.Float64(); *(*float64)(p) = v; return err },
	}
}

func stringCodec(max int) *codec {
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			s := *(*string)(p)
			if max > 0 && len(s) > max {
				return fmt.Errorf("xdr: string of %d bytes exceeds maximum %d", len(s), max)
			}
			e.String(s)
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			limit := max
			if limit == 0 {
				limit = d.MaxString
			}
			s, err := d.stringMax(limit)
			*(*string)(p) = s
			return err
		},
	}
}

func opaqueCodec(max int) *codec {
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			b := *(*[]byte)(p)
			if max > 0 && len(b) > max {
				return fmt.Errorf("xdr: opaque of %d bytes exceeds maximum %d", len(b), max)
			}
			e.Opaque(b)
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			limit := max
			if limit == 0 {
				limit = d.MaxString
			}
			b, err := d.opaqueMax(limit)
			*(*[]byte)(p) = b
			return err
		},
	}
}

func fixedOpaqueCodec(n int) *codec {
	return &codec{
		minSize: (n + 3) &^ 3,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			e.FixedOpaque(unsafe.Slice((*byte)(p), n))
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			return d.FixedOpaque(unsafe.Slice((*byte)(p), n))
		},
	}
}

// interfaceCodec encodes whatever an interface holds; decoding into a bare
// interface is impossible (the wire does not say the type).
func interfaceCodec(t reflect.Type) *codec {
	return &codec{
		enc: func(e *Encoder, p unsafe.Pointer) error {
			v := reflect.NewAt(t, p).Elem()
			if v.IsNil() {
				return fmt.Errorf("xdr: cannot encode nil %s", t)
			}
			return e.Encode(v.Interface())
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			return fmt.Errorf("xdr: cannot decode into interface %s", t)
		},
	}
}
