package xdr

import (
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"unsafe"
)

// Marshaler is implemented by types that encode themselves.
type Marshaler interface {
	MarshalXDR(e *Encoder) error
}

// Unmarshaler is implemented by pointers to types that decode themselves.
type Unmarshaler interface {
	UnmarshalXDR(d *Decoder) error
}

// codec encodes and decodes one Go type, addressed by an unsafe pointer to a
// value of that type.
type codec struct {
	enc func(e *Encoder, p unsafe.Pointer) error
	dec func(d *Decoder, p unsafe.Pointer) error
	// minSize is the fewest bytes any value of the type encodes to; it
	// bounds array counts against the input left.
	minSize int
}

// codecs caches one codec per type. Like encoding/json's type cache it is
// a memo of a pure function of the type, so sharing it is safe.
var codecs sync.Map // reflect.Type → *codec

// fieldOpts are the refinements a struct tag can give a field.
type fieldOpts struct {
	max int  // bound on a string, opaque or array length; 0 = default
	opt bool // slice field is optional data
}

// sliceHeader is the memory layout of every Go slice.
type sliceHeader struct {
	data unsafe.Pointer
	len  int
	cap  int
}

var (
	marshalerType   = reflect.TypeFor[Marshaler]()
	unmarshalerType = reflect.TypeFor[Unmarshaler]()
)

// pointerTo returns a pointer to v's value (copying v if it is not a
// pointer), the codec of the pointed-to type, and whether v was a pointer.
func pointerTo(v any) (unsafe.Pointer, *codec, bool, error) {
	if v == nil {
		return nil, nil, false, errors.New("xdr: nil value")
	}
	t := reflect.TypeOf(v)
	if t.Kind() == reflect.Pointer {
		rv := reflect.ValueOf(v)
		if rv.IsNil() {
			return nil, nil, true, fmt.Errorf("xdr: nil %s", t)
		}
		c, err := codecFor(t.Elem())
		return rv.UnsafePointer(), c, true, err
	}
	rv := reflect.New(t)
	rv.Elem().Set(reflect.ValueOf(v))
	c, err := codecFor(t)
	return rv.UnsafePointer(), c, false, err
}

func codecFor(t reflect.Type) (*codec, error) {
	if c, ok := codecs.Load(t); ok {
		return c.(*codec), nil
	}
	b := builder{inProgress: map[reflect.Type]*codec{}}
	c, err := b.build(t, fieldOpts{})
	if err != nil {
		return nil, err
	}
	actual, _ := codecs.LoadOrStore(t, c)
	return actual.(*codec), nil
}

// builder builds the codec of one type and everything it contains;
// inProgress lets recursive structs refer to themselves.
type builder struct {
	inProgress map[reflect.Type]*codec
}

func (b *builder) build(t reflect.Type, o fieldOpts) (*codec, error) {
	if o == (fieldOpts{}) {
		if c, ok := b.inProgress[t]; ok {
			return c, nil
		}
		if c, ok := codecs.Load(t); ok {
			return c.(*codec), nil
		}
	}
	if c := customCodec(t); c != nil {
		return c, nil
	}
	switch k := t.Kind(); k {
	case reflect.Bool:
		return boolCodec(), nil
	case reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int, reflect.Int64:
		return intCodec(k), nil
	case reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint, reflect.Uint64:
		return uintCodec(k), nil
	case reflect.Float32, reflect.Float64:
		return floatCodec(k), nil
	case reflect.String:
		return stringCodec(o.max), nil
	case reflect.Slice:
		return b.sliceCodec(t, o)
	case reflect.Array:
		return b.arrayCodec(t)
	case reflect.Pointer:
		return b.pointerCodec(t)
	case reflect.Struct:
		if isUnion(t) {
			return unionCodec(t), nil
		}
		return b.structCodec(t)
	case reflect.Interface:
		return interfaceCodec(t), nil
	}
	return nil, fmt.Errorf("xdr: unsupported type %s", t)
}

func customCodec(t reflect.Type) *codec {
	if t.Kind() == reflect.Pointer || t.Kind() == reflect.Interface {
		return nil
	}
	pt := reflect.PointerTo(t)
	if !pt.Implements(marshalerType) || !pt.Implements(unmarshalerType) {
		return nil
	}
	return &codec{
		enc: func(e *Encoder, p unsafe.Pointer) error {
			return reflect.NewAt(t, p).Interface().(Marshaler).MarshalXDR(e)
		},
		dec: func(d *Decoder, p unsafe.Pointer) error {
			return reflect.NewAt(t, p).Interface().(Unmarshaler).UnmarshalXDR(d)
		},
	}
}

func (b *builder) structCodec(t reflect.Type) (*codec, error) {
	type field struct {
		off uintptr
		c   *codec
	}
	c := &codec{}
	b.inProgress[t] = c
	defer delete(b.inProgress, t)
	var fields []field
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		o, skip, err := parseTag(f.Tag.Get("xdr"))
		if err != nil {
			return nil, fmt.Errorf("xdr: %s.%s: %w", t, f.Name, err)
		}
		if skip {
			continue
		}
		fc, err := b.build(f.Type, o)
		if err != nil {
			return nil, err
		}
		fields = append(fields, field{off: f.Offset, c: fc})
		c.minSize += fc.minSize
	}
	c.enc = func(e *Encoder, p unsafe.Pointer) error {
		for _, f := range fields {
			if err := f.c.enc(e, unsafe.Add(p, f.off)); err != nil {
				return err
			}
		}
		return nil
	}
	c.dec = func(d *Decoder, p unsafe.Pointer) error {
		for _, f := range fields {
			if err := f.c.dec(d, unsafe.Add(p, f.off)); err != nil {
				return err
			}
		}
		return nil
	}
	return c, nil
}

func parseTag(tag string) (o fieldOpts, skip bool, err error) {
	if tag == "-" {
		return o, true, nil
	}
	for part := range strings.SplitSeq(tag, ",") {
		switch {
		case part == "":
		case part == "opt":
			o.opt = true
		case strings.HasPrefix(part, "max="):
			n, err := strconv.Atoi(part[len("max="):])
			if err != nil || n <= 0 {
				return o, false, fmt.Errorf("bad max in tag %q", tag)
			}
			o.max = n
		default:
			return o, false, fmt.Errorf("unknown tag option %q", part)
		}
	}
	return o, false, nil
}

// isOptional says whether a slice type stands for XDR optional data.
// go-libvirt names libvirt's pointer types (remote_string, remote_domain...)
// Opt*, as []T holding zero or one element.
func isOptional(t reflect.Type) bool {
	return strings.HasPrefix(t.Name(), "Opt")
}
