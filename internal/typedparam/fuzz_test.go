package typedparam_test

import (
	"bytes"
	"math"
	"slices"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
	"virtxend/internal/xdr"
)

// paramList is a typed-parameter list as the procedures that take one
// send it (remote_typed_param params<MAX>, then flags), with identity's
// bound (REMOTE_CONNECT_IDENTITY_PARAMS_MAX).
type paramList struct {
	Params []libvirt.TypedParam `xdr:"max=20"`
	Flags  uint32
}

// fuzzAllowed are the lists the daemon validates: the scheduler's, the
// identity's, and a mixed one so that every type meets a rule.
var fuzzAllowed = []map[string]typedparam.Type{
	{"weight": typedparam.UInt, "cap": typedparam.UInt},
	{"user-name": typedparam.String, "unix-user-id": typedparam.ULLong, "process-id": typedparam.LLong},
	{"i": typedparam.Int, "u": typedparam.UInt, "l": typedparam.LLong, "ul": typedparam.ULLong,
		"d": typedparam.Double, "b": typedparam.Boolean, "s": typedparam.String},
}

// FuzzTypedParams is the typed-parameter codec as a client's list meets
// it: the XDR union decodes or fails, never panics; what decodes encodes
// to as many bytes as it took and decodes again to the same list;
// CheckFields, Validate and Serialize give the answers their rules say.
func FuzzTypedParams(f *testing.F) {
	for _, l := range []paramList{
		{},
		{Params: []libvirt.TypedParam{typedparam.NewUInt("weight", 256), typedparam.NewUInt("cap", 0)}},
		{Params: []libvirt.TypedParam{typedparam.NewString("user-name", "root"),
			{Field: "unix-user-id", Value: *libvirt.NewTypedParamValueUllong(0)},
			{Field: "process-id", Value: *libvirt.NewTypedParamValueLlong(-1)}}, Flags: 4},
		{Params: []libvirt.TypedParam{typedparam.NewInt("i", -1),
			{Field: "d", Value: *libvirt.NewTypedParamValueDouble(math.Inf(-1))},
			{Field: "b", Value: *libvirt.NewTypedParamValueBoolean(7)},
			typedparam.NewString("s", "\x00x"), typedparam.NewString("s", "")}},
		{Params: []libvirt.TypedParam{typedparam.NewUInt(string(bytes.Repeat([]byte{'f'}, 80)), 1)}},
	} {
		b, err := xdr.Marshal(&l)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte{0, 0, 0, 1, 0, 0, 0, 1, 'x', 0, 0, 0, 0, 0, 0, 8, 0, 0, 0, 0}) // type 8: no such arm
	f.Add([]byte{0, 0, 0, 21})                                                  // over the bound
	f.Fuzz(func(t *testing.T, data []byte) {
		var l paramList
		d := xdr.NewDecoder(data)
		if d.Decode(&l) != nil {
			return
		}
		enc, err := xdr.Marshal(&l)
		if err != nil {
			t.Fatalf("a decoded list does not encode: %v", err)
		}
		if len(enc) != d.Offset() {
			t.Fatalf("decoded from %d bytes, encodes to %d", d.Offset(), len(enc))
		}
		var again paramList
		if err := xdr.Unmarshal(enc, &again); err != nil {
			t.Fatalf("re-decode: %v", err)
		}
		if !sameParams(l.Params, again.Params) || l.Flags != again.Flags {
			t.Fatalf("round trip changed the list:\n%+v\n%+v", l, again)
		}
		if enc2, _ := xdr.Marshal(&again); !bytes.Equal(enc, enc2) {
			t.Fatalf("unstable encoding: %x vs %x", enc, enc2)
		}
		checkRules(t, l.Params, l.Flags)
	})
}

func checkRules(t *testing.T, params []libvirt.TypedParam, flags uint32) {
	long := slices.ContainsFunc(params, func(p libvirt.TypedParam) bool { return len(p.Field) >= typedparam.FieldLength })
	if err := typedparam.CheckFields(params); (err != nil) != long {
		t.Fatalf("CheckFields: %v, with a field too long: %v", err, long)
	}
	for _, allowed := range fuzzAllowed {
		err := typedparam.Validate(params, allowed)
		seen := map[string]bool{}
		ok := true
		for _, p := range params {
			want, known := allowed[p.Field]
			ok = ok && known && want == p.Value.D && !seen[p.Field]
			seen[p.Field] = true
		}
		if (err == nil) != ok {
			t.Fatalf("Validate(%+v) = %v, rules say ok=%v", params, err, ok)
		}
	}
	for _, limit := range []int{0, 2, 20} {
		out, err := typedparam.Serialize(params, limit, flags)
		if (err != nil) != (len(params) > limit) {
			t.Fatalf("Serialize of %d for limit %d: %v", len(params), limit, err)
		}
		if err != nil {
			continue
		}
		var want []libvirt.TypedParam
		for _, p := range params {
			if p.Value.D != typedparam.String || flags&typedparam.StringOkay != 0 {
				want = append(want, p)
			}
		}
		if !sameParams(out, want) {
			t.Fatalf("Serialize(%+v, flags %#x) = %+v", params, flags, out)
		}
	}
}

// sameParams compares lists value for value, doubles by their bits (a
// NaN is itself).
func sameParams(a, b []libvirt.TypedParam) bool {
	return slices.EqualFunc(a, b, func(x, y libvirt.TypedParam) bool {
		if x.Field != y.Field || x.Value.D != y.Value.D {
			return false
		}
		if fx, ok := x.Value.I.(float64); ok {
			fy, ok := y.Value.I.(float64)
			return ok && math.Float64bits(fx) == math.Float64bits(fy)
		}
		return x.Value.I == y.Value.I
	})
}
