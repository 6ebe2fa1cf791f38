package xdr

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
)

// Limits libvirt's protocols impose unless a field says otherwise.
const (
	// DefaultMaxString is REMOTE_STRING_MAX (and VIR_NET_MESSAGE_STRING_MAX).
	DefaultMaxString = 4194304
	// DefaultMaxElements caps any array count; a 32 MiB message cannot hold
	// more 4-byte items than this.
	DefaultMaxElements = 8388608
)

// ErrTruncated is returned (wrapped) when the input ends inside an item.
var ErrTruncated = errors.New("xdr: input truncated")

// Decoder reads XDR items from a byte slice.
type Decoder struct {
	buf []byte
	off int
	// MaxString bounds strings and opaques without a max= tag.
	MaxString int
	// MaxElements bounds array counts without a max= tag.
	MaxElements int
}

// NewDecoder returns a decoder reading buf with the default limits.
func NewDecoder(buf []byte) *Decoder {
	return &Decoder{buf: buf, MaxString: DefaultMaxString, MaxElements: DefaultMaxElements}
}

// Remaining is the number of bytes not yet consumed.
func (d *Decoder) Remaining() int { return len(d.buf) - d.off }

// Offset is the number of bytes consumed so far.
func (d *Decoder) Offset() int { return d.off }

func (d *Decoder) take(n int) ([]byte, error) {
	if n < 0 || n > len(d.buf)-d.off {
		return nil, fmt.Errorf("%w: need %d bytes at offset %d, have %d", ErrTruncated, n, d.off, len(d.buf)-d.off)
	}
	b := d.buf[d.off : d.off+n : d.off+n]
	d.off += n
	return b, nil
}

// Uint32 reads an unsigned int.
func (d *Decoder) Uint32() (uint32, error) {
	if len(d.buf)-d.off < 4 {
		return 0, fmt.Errorf("%w: need 4 bytes at offset %d", ErrTruncated, d.off)
	}
	v := binary.BigEndian.Uint32(d.buf[d.off:])
	d.off += 4
	return v, nil
}

// Int32 reads an int.
func (d *Decoder) Int32() (int32, error) {
	v, err := d.Uint32()
	return int32(v), err
}

// Uint64 reads an unsigned hyper.
func (d *Decoder) Uint64() (uint64, error) {
	if len(d.buf)-d.off < 8 {
		return 0, fmt.Errorf("%w: need 8 bytes at offset %d", ErrTruncated, d.off)
	}
	v := binary.BigEndian.Uint64(d.buf[d.off:])
	d.off += 8
	return v, nil
}

// Int64 reads a hyper.
func (d *Decoder) Int64() (int64, error) {
	v, err := d.Uint64()
	return int64(v), err
}

// Bool reads a boolean. Like libvirt's xdr_bool, any non-zero word is true:
// go-libvirt sends 0x01000000 for "present".
func (d *Decoder) Bool() (bool, error) {
	v, err := d.Uint32()
	return v != 0, err
}

// Float32 reads a float.
func (d *Decoder) Float32() (float32, error) {
	v, err := d.Uint32()
	return math.Float32frombits(v), err
}

// Float64 reads a double.
func (d *Decoder) Float64() (float64, error) {
	v, err := d.Uint64()
	return math.Float64frombits(v), err
}

// length reads a count and checks it against max and against the input left,
// given that each item takes at least minSize bytes.
func (d *Decoder) length(max, minSize int) (int, error) {
	v, err := d.Uint32()
	if err != nil {
		return 0, err
	}
	if uint64(v) > uint64(max) {
		return 0, fmt.Errorf("xdr: length %d exceeds maximum %d", v, max)
	}
	n := int(v)
	if minSize > 0 && n > d.Remaining()/minSize {
		return 0, fmt.Errorf("%w: %d items of at least %d bytes, %d bytes left", ErrTruncated, n, minSize, d.Remaining())
	}
	return n, nil
}

// padded consumes n bytes plus padding and returns the n bytes, which alias
// the input.
func (d *Decoder) padded(n int) ([]byte, error) {
	b, err := d.take((n + 3) &^ 3)
	if err != nil {
		return nil, err
	}
	return b[:n], nil
}

// String reads a string<> of at most MaxString bytes.
func (d *Decoder) String() (string, error) {
	return d.stringMax(d.MaxString)
}

func (d *Decoder) stringMax(max int) (string, error) {
	n, err := d.length(max, 1)
	if err != nil {
		return "", err
	}
	b, err := d.padded(n)
	return string(b), err
}

// Opaque reads opaque<> of at most MaxString bytes into a new slice.
func (d *Decoder) Opaque() ([]byte, error) {
	return d.opaqueMax(d.MaxString)
}

func (d *Decoder) opaqueMax(max int) ([]byte, error) {
	n, err := d.length(max, 1)
	if err != nil {
		return nil, err
	}
	b, err := d.padded(n)
	if err != nil || n == 0 {
		return nil, err
	}
	return append([]byte(nil), b...), nil
}

// FixedOpaque reads opaque[len(dst)] into dst.
func (d *Decoder) FixedOpaque(dst []byte) error {
	b, err := d.padded(len(dst))
	copy(dst, b)
	return err
}

// Decode reads the XDR form of *v into it; v must be a non-nil pointer.
func (d *Decoder) Decode(v any) error {
	p, c, isPtr, err := pointerTo(v)
	if err != nil {
		return err
	}
	if !isPtr {
		return fmt.Errorf("xdr: Decode needs a pointer, got %T", v)
	}
	return c.dec(d, p)
}

// Unmarshal decodes data into v, a non-nil pointer. Bytes after the value
// are ignored, as libvirt does.
func Unmarshal(data []byte, v any) error {
	return NewDecoder(data).Decode(v)
}
