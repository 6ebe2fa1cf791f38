package virconf

import (
	"reflect"
	"testing"
)

const getSrc = `s = "text"
i = 7
n = -3
big = 4294967296
huge = 2147483648
l = ["a", "b"]
bad = ["a", 1]
b0 = 0
b2 = 2
m0 = -0
`

func TestGetters(t *testing.T) {
	f, err := Parse("g.conf", []byte(getSrc))
	if err != nil {
		t.Fatal(err)
	}
	type result struct {
		val any
		ok  bool
		err string
	}
	wrap := func(v any, ok bool, err error) result {
		r := result{val: v, ok: ok}
		if err != nil {
			r.err = err.Error()
			r.val = nil
		}
		return r
	}
	tests := []struct {
		name string
		got  result
		want result
	}{
		{"string", wrap(f.GetString("s")), result{"text", true, ""}},
		{"string missing", wrap(f.GetString("x")), result{"", false, ""}},
		{"string from int", wrap(f.GetString("i")), result{nil, true, "g.conf:2: i: expected a string"}},
		{"list", wrap(f.GetStringList("l")), result{[]string{"a", "b"}, true, ""}},
		{"list missing", wrap(f.GetStringList("x")), result{[]string(nil), false, ""}},
		{"list of mixed", wrap(f.GetStringList("bad")), result{nil, true, "g.conf:7: bad: expected a string list"}},
		{"list from string", wrap(f.GetStringList("s")), result{nil, true, "g.conf:1: s: expected a string list"}},
		{"uint", wrap(f.GetUint("i")), result{uint(7), true, ""}},
		{"uint missing", wrap(f.GetUint("x")), result{uint(0), false, ""}},
		{"uint negative", wrap(f.GetUint("n")), result{nil, true, "g.conf:3: n: expected an unsigned integer"}},
		{"uint minus zero", wrap(f.GetUint("m0")), result{nil, true, "g.conf:10: m0: expected an unsigned integer"}},
		{"uint too big", wrap(f.GetUint("big")), result{nil, true, "g.conf:4: big: value must be in range 0:4294967295"}},
		{"uint from string", wrap(f.GetUint("s")), result{nil, true, "g.conf:1: s: expected an unsigned integer"}},
		{"uint64", wrap(f.GetUint64("big")), result{uint64(4294967296), true, ""}},
		{"uint64 negative", wrap(f.GetUint64("n")), result{nil, true, "g.conf:3: n: expected an unsigned integer"}},
		{"int", wrap(f.GetInt("n")), result{-3, true, ""}},
		{"int minus zero", wrap(f.GetInt("m0")), result{0, true, ""}},
		{"int too big", wrap(f.GetInt("huge")), result{nil, true, "g.conf:5: huge: value must be in range -2147483648:2147483647"}},
		{"int from list", wrap(f.GetInt("l")), result{nil, true, "g.conf:6: l: expected a signed integer"}},
		{"bool", wrap(f.GetBool("b0")), result{false, true, ""}},
		{"bool missing", wrap(f.GetBool("x")), result{false, false, ""}},
		{"bool 2", wrap(f.GetBool("b2")), result{nil, true, "g.conf:9: b2: value must be 0 or 1"}},
		{"bool negative", wrap(f.GetBool("n")), result{nil, true, "g.conf:3: n: expected a bool"}},
		{"bool from string", wrap(f.GetBool("s")), result{nil, true, "g.conf:1: s: expected a bool"}},
	}
	for _, tt := range tests {
		if !reflect.DeepEqual(tt.got, tt.want) {
			t.Errorf("%s: got %#v, want %#v", tt.name, tt.got, tt.want)
		}
	}
}
