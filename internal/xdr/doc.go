// Package xdr encodes and decodes Go values as XDR (RFC 4506), the way
// libvirt's RPC protocols lay them out. It works on go-libvirt's generated
// wire structs (package libvirt) and on any struct of our own.
//
// Mapping of Go types to XDR:
//
//	bool                          boolean; decoding accepts any non-zero word as true
//	int8, int16, int32, int       int (4 bytes)
//	uint8, uint16, uint32, uint   unsigned int (4 bytes)
//	int64 / uint64                hyper / unsigned hyper
//	float32 / float64             float / double
//	string                        string<> (at most Decoder.MaxString bytes)
//	[]byte, [N]byte               opaque<> / opaque[N]
//	[]T, [N]T                     T<> / T[N]
//	*T                            optional data (T *x): a present word, then T
//	[]T named Opt*                optional data too: go-libvirt spells libvirt's
//	                              "remote_string" as OptString []string, etc.
//	struct                        its exported fields in order
//	struct{D uint32; I any}       a discriminated union with libvirt's
//	                              typed-parameter arms (see union.go)
//
// Struct tags refine a field: `xdr:"-"` skips it, `xdr:"opt"` makes a slice
// field optional data, and `xdr:"max=N"` bounds a string, opaque or array
// when decoding (as the <N> of an XDR declaration does).
//
// A type may take over its own encoding by implementing Marshaler and
// Unmarshaler. A value handed to Encode, Marshal or Append that is a
// Marshaler encodes itself even without an Unmarshaler: a reply type that
// is only ever sent.
//
// Decoding never trusts a length word: a count is checked against the bytes
// left in the input (each element needs at least its minimum encoded size)
// before anything is allocated, so a hostile length cannot make the decoder
// allocate more than a small multiple of its input. Truncated input is an
// error, never a panic. Like libvirt, Unmarshal ignores bytes left over after
// the value; Decoder.Remaining tells a caller who cares.
//
// The codec for each type is built once with reflection and cached; encoding
// and decoding then run on unsafe pointers without further reflection.
package xdr
