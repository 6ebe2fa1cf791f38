package virconf

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// FuzzParse checks that Parse never panics, that every line number lies
// inside the input, and that a parsed file formatted back parses to the
// same entries.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		"", "a = 1\n", "a = -5; b = 'x' # c\n", "l = [\n \"a\", # c\n [1, -2],\n]\n",
		"a = \"\"\"x\ny\"\"\"\n", "a = \"\"\"\"\"\"", "a = [", "x = 1 y", "a = 99999999999999999999",
		"# only\n\n", "a=\r\n", "a = [[[[[]]]]]",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse("f.conf", data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "f.conf:") {
				t.Fatalf("error without position: %v", err)
			}
			return
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		for _, e := range file.Entries {
			if e.Line < 1 || e.Line > lines || e.Value.Line < e.Line {
				t.Fatalf("entry %q at line %d (value %d) outside 1..%d", e.Key, e.Line, e.Value.Line, lines)
			}
		}
		out, ok := format(file)
		if !ok {
			return
		}
		again, err := Parse("g.conf", out)
		if err != nil {
			t.Fatalf("reparse of %q: %v", out, err)
		}
		if !sameEntries(file.Entries, again.Entries) {
			t.Fatalf("round trip changed entries:\n%q\n%q", data, out)
		}
	})
}

// format writes f back, one entry a line; ok is false for strings that
// the syntax cannot spell (e.g. holding both quote kinds and a newline).
func format(f *File) ([]byte, bool) {
	var b bytes.Buffer
	for _, e := range f.Entries {
		b.WriteString(e.Key + " = ")
		if !formatValue(&b, e.Value) {
			return nil, false
		}
		b.WriteString("\n")
	}
	return b.Bytes(), true
}

func formatValue(b *bytes.Buffer, v Value) bool {
	switch v.Kind {
	case Int:
		if v.Signed && v.Int == 0 {
			b.WriteString("-0")
		} else {
			fmt.Fprintf(b, "%d", v.Int)
		}
	case String:
		s := v.Str
		switch {
		case !strings.ContainsAny(s, "\"\r\n"):
			b.WriteString(`"` + s + `"`)
		case !strings.ContainsAny(s, "'\r\n"):
			b.WriteString(`'` + s + `'`)
		case !strings.Contains(s, `"""`) && !strings.HasSuffix(s, `"`):
			b.WriteString(`"""` + s + `"""`)
		default:
			return false
		}
	case List:
		b.WriteString("[")
		for i, item := range v.List {
			if i > 0 {
				b.WriteString(", ")
			}
			if !formatValue(b, item) {
				return false
			}
		}
		b.WriteString("]")
	}
	return true
}

func sameEntries(a, b []Entry) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].Key != b[i].Key || !sameValue(a[i].Value, b[i].Value) {
			return false
		}
	}
	return true
}

func sameValue(a, b Value) bool {
	if a.Kind != b.Kind || a.Int != b.Int || a.Signed != b.Signed || a.Str != b.Str || len(a.List) != len(b.List) {
		return false
	}
	for i := range a.List {
		if !sameValue(a.List[i], b.List[i]) {
			return false
		}
	}
	return true
}
