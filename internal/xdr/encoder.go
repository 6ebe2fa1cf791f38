package xdr

import (
	"encoding/binary"
	"math"
	"slices"
)

// Encoder appends XDR items to a byte slice. The zero value is ready to use.
type Encoder struct {
	buf []byte
}

// NewEncoder returns an encoder that appends to buf (which may be nil).
func NewEncoder(buf []byte) *Encoder { return &Encoder{buf: buf} }

// Bytes returns everything encoded so far, including the initial buffer.
func (e *Encoder) Bytes() []byte { return e.buf }

// Uint32 appends an unsigned int.
func (e *Encoder) Uint32(v uint32) { e.buf = binary.BigEndian.AppendUint32(e.buf, v) }

// Int32 appends an int.
func (e *Encoder) Int32(v int32) { e.Uint32(uint32(v)) }

// Uint64 appends an unsigned hyper.
func (e *Encoder) Uint64(v uint64) { e.buf = binary.BigEndian.AppendUint64(e.buf, v) }

// Int64 appends a hyper.
func (e *Encoder) Int64(v int64) { e.Uint64(uint64(v)) }

// Bool appends a boolean as 0 or 1.
func (e *Encoder) Bool(v bool) {
	if v {
		e.Uint32(1)
		return
	}
	e.Uint32(0)
}

// Float32 appends a float.
func (e *Encoder) Float32(v float32) { e.Uint32(math.Float32bits(v)) }

// Float64 appends a double.
func (e *Encoder) Float64(v float64) { e.Uint64(math.Float64bits(v)) }

// String appends a string<>: its length, its bytes and zero padding.
func (e *Encoder) String(s string) {
	e.Uint32(uint32(len(s)))
	e.buf = append(e.buf, s...)
	e.pad(len(s))
}

// Opaque appends opaque<>: its length, its bytes and zero padding.
func (e *Encoder) Opaque(b []byte) {
	e.Uint32(uint32(len(b)))
	e.FixedOpaque(b)
}

// FixedOpaque appends opaque[len(b)]: the bytes and zero padding.
func (e *Encoder) FixedOpaque(b []byte) {
	e.buf = append(e.buf, b...)
	e.pad(len(b))
}

func (e *Encoder) pad(n int) {
	if r := n & 3; r != 0 {
		e.buf = append(e.buf, zeros[:4-r]...)
	}
}

// zeros is padding; never written.
var zeros [3]byte

// Grow makes room for n more bytes, so that a Marshaler that knows its
// size grows the buffer once rather than by doubling as it appends.
func (e *Encoder) Grow(n int) { e.buf = slices.Grow(e.buf, n) }

// Encode appends the XDR form of v (a value or a pointer to one). A v that
// is a Marshaler encodes itself, with no lookup of its type's codec.
func (e *Encoder) Encode(v any) error {
	if m, ok := v.(Marshaler); ok {
		return m.MarshalXDR(e)
	}
	p, c, _, err := pointerTo(v)
	if err != nil {
		return err
	}
	return c.enc(e, p)
}

// Marshal returns the XDR form of v.
func Marshal(v any) ([]byte, error) {
	return Append(nil, v)
}

// Append appends the XDR form of v to buf and returns the extended slice.
func Append(buf []byte, v any) ([]byte, error) {
	e := Encoder{buf: buf}
	err := e.Encode(v)
	return e.buf, err
}
