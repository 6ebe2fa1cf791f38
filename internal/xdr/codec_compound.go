package xdr

import (
	"fmt"
	"reflect"
	"unsafe"
)

func (b *builder) sliceCodec(t reflect.Type, o fieldOpts) (*codec, error) {
	if t.Elem().Kind() == reflect.Uint8 {
		return opaqueCodec(o.max), nil
	}
	ec, err := b.build(t.Elem(), fieldOpts{})
	if err != nil {
		return nil, err
	}
	if o.opt || isOptional(t) {
		return optionalSliceCodec(t, ec), nil
	}
	return arraySliceCodec(t, ec, o.max), nil
}

// arraySliceCodec handles T<max>: a count, then the elements.
func arraySliceCodec(t reflect.Type, ec *codec, max int) *codec {
	size := t.Elem().Size()
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			h := (*sliceHeader)(p)
			if max > 0 && h.len > max {
				return fmt.Errorf("xdr: %s of %d elements exceeds maximum %d", t, h.len, max)
			}
			e.Uint32(uint32(h.len))
			for i := range h.len {
				if err := ec.enc(e, unsafe.Add(h.data, uintptr(i)*size)); err != nil {
					return err
				}
			}
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			limit := max
			if limit == 0 {
				limit = d.MaxElements
			}
			n, err := d.length(limit, ec.minSize)
			if err != nil {
				return err
			}
			if n == 0 {
				*(*sliceHeader)(p) = sliceHeader{}
				return nil
			}
			v := reflect.MakeSlice(t, n, n)
			base := v.UnsafePointer()
			for i := range n {
				if err := ec.dec(d, unsafe.Add(base, uintptr(i)*size)); err != nil {
					return err
				}
			}
			reflect.NewAt(t, p).Elem().Set(v)
			return nil
		},
	}
}

// optionalSliceCodec handles T *x spelled as a slice of zero or one T.
func optionalSliceCodec(t reflect.Type, ec *codec) *codec {
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			h := (*sliceHeader)(p)
			switch h.len {
			case 0:
				e.Uint32(0)
				return nil
			case 1:
				e.Uint32(1)
				return ec.enc(e, h.data)
			}
			return fmt.Errorf("xdr: optional %s holds %d values", t, h.len)
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			present, err := d.Bool()
			if err != nil || !present {
				*(*sliceHeader)(p) = sliceHeader{}
				return err
			}
			v := reflect.MakeSlice(t, 1, 1)
			if err := ec.dec(d, v.UnsafePointer()); err != nil {
				return err
			}
			reflect.NewAt(t, p).Elem().Set(v)
			return nil
		},
	}
}

// arrayCodec handles T[n] (and opaque[n] for byte arrays).
func (b *builder) arrayCodec(t reflect.Type) (*codec, error) {
	n := t.Len()
	if t.Elem().Kind() == reflect.Uint8 {
		return fixedOpaqueCodec(n), nil
	}
	ec, err := b.build(t.Elem(), fieldOpts{})
	if err != nil {
		return nil, err
	}
	size := t.Elem().Size()
	return &codec{
		minSize: n * ec.minSize,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			for i := range n {
				if err := ec.enc(e, unsafe.Add(p, uintptr(i)*size)); err != nil {
					return err
				}
			}
			return nil
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			for i := range n {
				if err := ec.dec(d, unsafe.Add(p, uintptr(i)*size)); err != nil {
					return err
				}
			}
			return nil
		},
	}, nil
}

// pointerCodec handles *T as XDR optional data.
func (b *builder) pointerCodec(t reflect.Type) (*codec, error) {
	ec, err := b.build(t.Elem(), fieldOpts{})
	if err != nil {
		return nil, err
	}
	return &codec{
		minSize: 4,
		enc: func(e *Encoder, p unsafe.Pointer) error {
			target := *(*unsafe.Pointer)(p)
			if target == nil {
				e.Uint32(0)
				return nil
			}
			e.Uint32(1)
			return ec.enc(e, target)
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			present, err := d.Bool()
			if err != nil || !present {
				*(*unsafe.Pointer)(p) = nil
				return err
			}
			v := reflect.New(t.Elem())
			if err := ec.dec(d, v.UnsafePointer()); err != nil {
				return err
			}
			*(*unsafe.Pointer)(p) = v.UnsafePointer()
			return nil
		},
	}, nil
}
