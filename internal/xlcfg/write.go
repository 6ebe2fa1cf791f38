package xlcfg

import (
	"strconv"
	"strings"
)

// value is one cfg value being written: an integer, a string or a list.
type value struct {
	isInt  bool
	isList bool
	i      int64
	s      string
	list   []value
}

func intVal(i int64) value     { return value{isInt: true, i: i} }
func strVal(s string) value    { return value{s: s} }
func listVal(l ...value) value { return value{isList: true, list: l} }
func boolVal(b bool) value     { return intVal(int64(boolInt(b))) }
func strList(ss []string) value {
	l := make([]value, len(ss))
	for i, s := range ss {
		l[i] = strVal(s)
	}
	return listVal(l...)
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// out is a cfg being written. As virConfSetValue, setting a key again
// replaces its value in place; new keys go to the end.
type out struct {
	keys []string
	vals map[string]value
}

func newOut() *out { return &out{vals: map[string]value{}} }

func (o *out) set(key string, v value) {
	if _, ok := o.vals[key]; !ok {
		o.keys = append(o.keys, key)
	}
	o.vals[key] = v
}

func (o *out) setInt(key string, i int64) { o.set(key, intVal(i)) }
func (o *out) setStr(key, s string)       { o.set(key, strVal(s)) }
func (o *out) setBool(key string, b bool) { o.set(key, boolVal(b)) }

// bytes writes the cfg as virConfWriteMem does.
func (o *out) bytes() []byte {
	var b strings.Builder
	for _, k := range o.keys {
		b.WriteString(k)
		b.WriteString(" = ")
		writeValue(&b, o.vals[k])
		b.WriteString("\n")
	}
	return []byte(b.String())
}

func writeValue(b *strings.Builder, v value) {
	switch {
	case v.isInt:
		b.WriteString(strconv.FormatInt(v.i, 10))
	case v.isList:
		b.WriteString("[ ")
		for i, e := range v.list {
			if i > 0 {
				b.WriteString(", ")
			}
			writeValue(b, e)
		}
		b.WriteString(" ]")
	default:
		b.WriteString(quote(v.s))
	}
}

// quote quotes a string as virConfSaveValue does: in double quotes, in
// single ones if it holds a double quote, in triple double quotes if it
// spans lines or holds both quotes.
func quote(s string) string {
	switch {
	case strings.Contains(s, "\n"):
		return `"""` + s + `"""`
	case !strings.Contains(s, `"`):
		return `"` + s + `"`
	case !strings.Contains(s, "'"):
		return "'" + s + "'"
	default:
		return `"""` + s + `"""`
	}
}
