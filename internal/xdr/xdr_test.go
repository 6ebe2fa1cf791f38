package xdr

import (
	"bytes"
	"encoding/hex"
	"errors"
	"math"
	"reflect"
	"runtime"
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

func unhex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(strings.Join(strings.Fields(s), ""))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var testUUID = libvirt.UUID{0x66, 0x95, 0xeb, 0x01, 0xf6, 0xa4, 0x83, 0x04, 0x79, 0xaa, 0x97, 0xf2, 0x50, 0x2e, 0x19, 0x3f}

// Payloads from CLIENT_TRACE.md's golden bytes (headers stripped).
func TestGoldenPayloads(t *testing.T) {
	cases := []struct {
		name string
		v    any
		hex  string
	}{
		{"connect open args", &libvirt.ConnectOpenArgs{Name: libvirt.OptString{"test:///default"}},
			"00000001 0000000f 74657374 3a2f2f2f 64656661 756c7400 00000000"},
		{"auth list ret", &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, "00000001 00000000"},
		{"lookup by name ret", &libvirt.DomainLookupByNameRet{Dom: libvirt.Domain{Name: "test", UUID: testUUID, ID: 1}},
			"00000004 74657374 6695eb01 f6a48304 79aa97f2 502e193f 00000001"},
		{"lifecycle event", &libvirt.DomainEventCallbackLifecycleMsg{Msg: libvirt.DomainEventLifecycleMsg{
			Dom: libvirt.Domain{Name: "test", UUID: testUUID, ID: 1}, Event: 3}},
			"00000000 00000004 74657374 6695eb01 f6a48304 79aa97f2 502e193f 00000001 00000003 00000000"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			want := unhex(t, c.hex)
			got, err := Marshal(c.v)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, want) {
				t.Fatalf("encode:\n got %x\nwant %x", got, want)
			}
			back := reflect.New(reflect.TypeOf(c.v).Elem())
			if err := Unmarshal(want, back.Interface()); err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(back.Interface(), c.v) {
				t.Fatalf("decode: got %+v want %+v", back.Interface(), c.v)
			}
		})
	}
}

// go-libvirt sends the "present" word of CONNECT_OPEN's name as 01 00 00 00.
func TestLenientPresentAndBool(t *testing.T) {
	in := unhex(t, "01000000 0000000f 74657374 3a2f2f2f 64656661 756c7400 00000000")
	var args libvirt.ConnectOpenArgs
	if err := Unmarshal(in, &args); err != nil {
		t.Fatal(err)
	}
	if len(args.Name) != 1 || args.Name[0] != "test:///default" {
		t.Fatalf("name = %q", args.Name)
	}
	var b struct{ A, B, C bool }
	if err := Unmarshal(unhex(t, "00000000 00000001 80000000"), &b); err != nil {
		t.Fatal(err)
	}
	if b.A || !b.B || !b.C {
		t.Fatalf("bools = %+v", b)
	}
}

func TestTypedParams(t *testing.T) {
	params := []libvirt.TypedParam{
		{Field: "i", Value: *libvirt.NewTypedParamValueInt(-5)},
		{Field: "ui", Value: *libvirt.NewTypedParamValueUint(5)},
		{Field: "l", Value: *libvirt.NewTypedParamValueLlong(-1 << 40)},
		{Field: "ul", Value: *libvirt.NewTypedParamValueUllong(1 << 63)},
		{Field: "d", Value: *libvirt.NewTypedParamValueDouble(math.Pi)},
		{Field: "b", Value: *libvirt.NewTypedParamValueBoolean(1)},
		{Field: "s", Value: *libvirt.NewTypedParamValueString("hello")},
	}
	ret := libvirt.DomainGetSchedulerParametersRet{Params: params}
	buf, err := Marshal(&ret)
	if err != nil {
		t.Fatal(err)
	}
	var back libvirt.DomainGetSchedulerParametersRet
	if err := Unmarshal(buf, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, ret) {
		t.Fatalf("got %+v want %+v", back, ret)
	}
	// A compatible Go type is converted to the arm's type.
	got, err := Marshal(libvirt.TypedParamValue{D: 4, I: 7})
	if err != nil || !bytes.Equal(got, unhex(t, "00000004 00000000 00000007")) {
		t.Fatalf("converted arm: %x %v", got, err)
	}
	if _, err := Marshal(libvirt.TypedParamValue{D: 7, I: 7}); err == nil {
		t.Fatal("int in string arm encoded")
	}
	if _, err := Marshal(libvirt.TypedParamValue{D: 9, I: int32(1)}); err == nil {
		t.Fatal("unknown arm encoded")
	}
	var v libvirt.TypedParamValue
	if err := Unmarshal(unhex(t, "00000008 00000000"), &v); err == nil {
		t.Fatal("unknown arm decoded")
	}
}

type ownOpt struct {
	Name   *string
	Names  []string `xdr:"opt"`
	Small  []int32  `xdr:"max=2"`
	Short  string   `xdr:"max=3"`
	Skip   int      `xdr:"-"`
	hidden int
	Fixed  [2]int8
	Blob   []byte
	Flag   bool
	F32    float32
	U16    uint16
}

func TestOwnStructs(t *testing.T) {
	name := "x"
	v := ownOpt{Name: &name, Names: []string{"a"}, Small: []int32{1, 2}, Short: "abc",
		Skip: 9, hidden: 3, Fixed: [2]int8{-1, 2}, Blob: []byte{1, 2, 3, 4, 5}, Flag: true, F32: 1.5, U16: 7}
	buf, err := Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var back ownOpt
	if err := Unmarshal(buf, &back); err != nil {
		t.Fatal(err)
	}
	v.Skip, v.hidden = 0, 0
	if !reflect.DeepEqual(back, v) {
		t.Fatalf("got %+v want %+v", back, v)
	}
	if _, err := Marshal(ownOpt{Small: []int32{1, 2, 3}}); err == nil {
		t.Fatal("max=2 not enforced on encode")
	}
	tooMany := unhex(t, "00000000 00000000 00000003 00000001 00000002 00000003")
	if err := Unmarshal(tooMany, &back); err == nil {
		t.Fatal("max=2 not enforced on decode")
	}
	if _, err := Marshal(libvirt.OptString{"a", "b"}); err == nil {
		t.Fatal("optional with two values encoded")
	}
}

type tree struct {
	Label string
	Kids  []tree
	Next  *tree
}

func TestRecursiveType(t *testing.T) {
	v := tree{Label: "root", Kids: []tree{{Label: "a"}, {Label: "b", Next: &tree{Label: "c"}}}}
	buf, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	var back tree
	if err := Unmarshal(buf, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(back, v) {
		t.Fatalf("got %+v", back)
	}
}

type custom struct{ n int }

func (c *custom) MarshalXDR(e *Encoder) error { e.Uint32(uint32(c.n) + 100); return nil }
func (c *custom) UnmarshalXDR(d *Decoder) error {
	v, err := d.Uint32()
	c.n = int(v) - 100
	return err
}

func TestCustomCodec(t *testing.T) {
	v := struct{ C []custom }{C: []custom{{1}, {2}}}
	buf, err := Marshal(&v)
	if err != nil || !bytes.Equal(buf, unhex(t, "00000002 00000065 00000066")) {
		t.Fatalf("%x %v", buf, err)
	}
	var back struct{ C []custom }
	if err := Unmarshal(buf, &back); err != nil || !reflect.DeepEqual(back, v) {
		t.Fatalf("%+v %v", back, err)
	}
}

func TestTruncationNeverPanics(t *testing.T) {
	v := libvirt.ConnectListAllDomainsRet{Domains: []libvirt.Domain{{Name: "a", ID: 1}, {Name: "bb", ID: -1}}, Ret: 2}
	buf, err := Marshal(&v)
	if err != nil {
		t.Fatal(err)
	}
	for n := range len(buf) {
		var back libvirt.ConnectListAllDomainsRet
		if err := Unmarshal(buf[:n], &back); !errors.Is(err, ErrTruncated) {
			t.Fatalf("prefix %d: err = %v", n, err)
		}
	}
}

func TestHostileLengths(t *testing.T) {
	var doms libvirt.ConnectListAllDomainsRet
	if err := Unmarshal(unhex(t, "7fffffff 00000000"), &doms); err == nil {
		t.Fatal("huge count accepted")
	}
	var s struct{ S string }
	if err := Unmarshal(unhex(t, "00400001"), &s); err == nil || strings.Contains(err.Error(), "truncated") {
		t.Fatalf("string over REMOTE_STRING_MAX: %v", err)
	}
	// A count of 2^20 domains with no bytes behind it must not make the
	// decoder reserve room for them: that would be tens of MiB per packet.
	hostile := unhex(t, "00100000 00000000")
	if n := bytesAllocated(func() {
		var doms libvirt.ConnectListAllDomainsRet
		_ = Unmarshal(hostile, &doms)
	}); n > 1<<20 {
		t.Fatalf("%d bytes allocated for a hostile count", n)
	}
}

// bytesAllocated reports the heap bytes f allocates. Counting bytes rather
// than allocations keeps the check stable under -race and across Go releases.
func bytesAllocated(f func()) uint64 {
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	f()
	runtime.ReadMemStats(&after)
	return after.TotalAlloc - before.TotalAlloc
}

func TestDecodeNeedsPointer(t *testing.T) {
	if err := Unmarshal([]byte{0, 0, 0, 1}, int32(0)); err == nil {
		t.Fatal("decoded into a non-pointer")
	}
	if err := Unmarshal([]byte{0, 0, 0, 1}, nil); err == nil {
		t.Fatal("decoded into nil")
	}
	if _, err := Marshal(map[string]int{}); err == nil {
		t.Fatal("map encoded")
	}
}
