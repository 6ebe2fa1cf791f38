package virconf

import (
	"errors"
	"reflect"
	"strings"
	"testing"
)

func mustParse(t *testing.T, src string) *File {
	t.Helper()
	f, err := Parse("t.conf", []byte(src))
	if err != nil {
		t.Fatalf("Parse(%q): %v", src, err)
	}
	return f
}

func str(line int, s string) Value { return Value{Kind: String, Line: line, Str: s} }
func num(line int, n int64) Value  { return Value{Kind: Int, Line: line, Int: n} }
func neg(line int, n int64) Value  { return Value{Kind: Int, Line: line, Int: n, Signed: true} }
func list(line int, vs ...Value) Value {
	if vs == nil {
		vs = []Value{}
	}
	return Value{Kind: List, Line: line, List: vs}
}

func TestParseAccepts(t *testing.T) {
	tests := []struct {
		name string
		src  string
		want []Entry
	}{
		{"empty", "", nil},
		{"blanks only", " \n\t\n", nil},
		{"comment only", "# hello\n#x = 1", nil},
		{"int", "a = 5\n", []Entry{{"a", 1, num(1, 5)}}},
		{"no spaces, no newline", "a=5", []Entry{{"a", 1, num(1, 5)}}},
		{"plus", "a = +7", []Entry{{"a", 1, num(1, 7)}}},
		{"negative", "a = -1", []Entry{{"a", 1, neg(1, -1)}}},
		{"minus zero is signed", "a = -0", []Entry{{"a", 1, neg(1, 0)}}},
		{"leading zeros are decimal", "a = 0700", []Entry{{"a", 1, num(1, 700)}}},
		{"max int64", "a = 9223372036854775807", []Entry{{"a", 1, num(1, 1<<63-1)}}},
		{"min int64", "a = -9223372036854775808", []Entry{{"a", 1, neg(1, -1<<63)}}},
		{"double quotes", `a = "x 'y'"`, []Entry{{"a", 1, str(1, "x 'y'")}}},
		{"single quotes", `a = 'x "y"'`, []Entry{{"a", 1, str(1, `x "y"`)}}},
		{"no escapes", `a = "x\n"`, []Entry{{"a", 1, str(1, `x\n`)}}},
		{"empty string", `a = ""`, []Entry{{"a", 1, str(1, "")}}},
		{"triple", "a = \"\"\"one\ntwo\"\"\"\nb = 1\n",
			[]Entry{{"a", 1, str(1, "one\ntwo")}, {"b", 3, num(3, 1)}}},
		{"triple with quotes inside", `a = """say "hi" 'x'"""`,
			[]Entry{{"a", 1, str(1, `say "hi" 'x'`)}}},
		{"empty triple before newline", "a = \"\"\"\"\"\"\n", []Entry{{"a", 1, str(1, "")}}},
		{"trailing comment", "a = 1 # one\nb = 2#two", []Entry{{"a", 1, num(1, 1)}, {"b", 2, num(2, 2)}}},
		{"semicolons", "a = 1; b = 'x' ;c=[]", []Entry{{"a", 1, num(1, 1)}, {"b", 1, str(1, "x")}, {"c", 1, list(1)}}},
		{"semicolon at end", "a = 1;", []Entry{{"a", 1, num(1, 1)}}},
		{"comment after semicolon", "a = 1; # c\nb = 2", []Entry{{"a", 1, num(1, 1)}, {"b", 2, num(2, 2)}}},
		{"crlf", "a = 1\r\nb = 2\r\n", []Entry{{"a", 1, num(1, 1)}, {"b", 2, num(2, 2)}}},
		{"indented", "  \t a = 1\n", []Entry{{"a", 1, num(1, 1)}}},
		{"name chars", "a_B9 = 1", []Entry{{"a_B9", 1, num(1, 1)}}},
		{"list", `l = [ "a", 'b' ]`, []Entry{{"l", 1, list(1, str(1, "a"), str(1, "b"))}}},
		{"empty list", "l = [ ]", []Entry{{"l", 1, list(1)}}},
		{"trailing comma", `l = ["a",]`, []Entry{{"l", 1, list(1, str(1, "a"))}}},
		{"mixed and nested", `l = [1, -2, ["x"], []]`,
			[]Entry{{"l", 1, list(1, num(1, 1), neg(1, -2), list(1, str(1, "x")), list(1))}}},
		{"multi-line list with comments", "l = [\n  \"a\", # first\n  # between\n  \"b\"\n  # before end\n]\nn = 1",
			[]Entry{{"l", 1, list(1, str(2, "a"), str(4, "b"))}, {"n", 7, num(7, 1)}}},
		{"duplicates kept", "a = 1\na = 2", []Entry{{"a", 1, num(1, 1)}, {"a", 2, num(2, 2)}}},
		{"lines after blank lines", "\n\n# c\n\na = 1", []Entry{{"a", 5, num(5, 1)}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := mustParse(t, tt.src)
			if !reflect.DeepEqual(f.Entries, tt.want) {
				t.Errorf("entries\n got %#v\nwant %#v", f.Entries, tt.want)
			}
		})
	}
}

func TestParseRejects(t *testing.T) {
	tests := []struct{ src, want string }{
		{"5 = a", "t.conf:1: expecting a name"},
		{"\n\n_a = 1", "t.conf:3: expecting a name"},
		{"a", "t.conf:1: a: expecting an assignment"},
		{"a-b = 1", "t.conf:1: a: expecting an assignment"},
		{"a = ", "t.conf:1: a: expecting a value"},
		{"a =\n1", "t.conf:1: a: expecting a value"},
		{"a = yes", "t.conf:1: a: expecting a value"},
		{"a = -", "t.conf:1: a: unterminated number"},
		{"a = +x", "t.conf:1: a: unterminated number"},
		{"a = 1x", "t.conf:1: a: expecting a separator"},
		{"a = 1 b = 2", "t.conf:1: a: expecting a separator"},
		{"a = 9223372036854775808", "t.conf:1: a: integer out of range"},
		{"a = -9223372036854775809", "t.conf:1: a: integer out of range"},
		{`a = "abc`, "t.conf:1: a: unterminated string"},
		{"a = 'abc\n'", "t.conf:1: a: unterminated string"},
		{"a = \"abc\r\"", "t.conf:1: a: unterminated string"},
		{"x = 1\na = \"\"\"abc\ndef\n\n", "t.conf:3: a: unterminated string"}, // as libvirt 9.0
		{`a = """"""`, "t.conf:1: a: expecting a separator"},                  // libvirt's six-byte quirk
		{"a = [", "t.conf:1: a: list is not closed with ]"},
		{"a = [1, 2\n\n", "t.conf:3: a: list is not closed with ]"},
		{"a = [1 2]", "t.conf:1: a: expecting a separator in list"},
		{"a = [,]", "t.conf:1: a: expecting a value"},
		{"a = [1,,]", "t.conf:1: a: expecting a value"},
		{"a = [1,", "t.conf:1: a: expecting a value"},
		{"a = [x]", "t.conf:1: a: expecting a value"},
		{"a = 1\nb = 2 3", "t.conf:2: b: expecting a separator"},
		{"a = 1 ; ; b = 2", "t.conf:1: expecting a name"},
		{"a = " + strings.Repeat("[", 40), "t.conf:1: a: lists nested too deeply"},
	}
	for _, tt := range tests {
		t.Run(tt.src, func(t *testing.T) {
			_, err := Parse("t.conf", []byte(tt.src))
			if err == nil {
				t.Fatalf("Parse(%q) succeeded", tt.src)
			}
			if err.Error() != tt.want {
				t.Errorf("error %q, want %q", err, tt.want)
			}
			var ce *Error
			if !errors.As(err, &ce) {
				t.Errorf("error is %T, want *Error", err)
			}
		})
	}
}

func TestLookupFirstWins(t *testing.T) {
	f := mustParse(t, "a = 1\nb = 'x'\na = 2\n")
	v, ok := f.Lookup("a")
	if !ok || v.Int != 1 || f.Line("a") != 1 {
		t.Errorf("Lookup(a) = %v %v line %d, want 1 from line 1", v, ok, f.Line("a"))
	}
	if _, ok := f.Lookup("c"); ok || f.Line("c") != 0 {
		t.Error("Lookup(c) found a missing key")
	}
	if got := f.Keys(); !reflect.DeepEqual(got, []string{"a", "b"}) {
		t.Errorf("Keys() = %v", got)
	}
}

func TestErrorFormat(t *testing.T) {
	tests := []struct {
		e    Error
		want string
	}{
		{Error{Path: "/p", Line: 3, Key: "k", Msg: "m"}, "/p:3: k: m"},
		{Error{Path: "/p", Line: 3, Msg: "m"}, "/p:3: m"},
		{Error{Path: "/p", Key: "k", Msg: "m"}, "/p: k: m"},
		{Error{Key: "k", Msg: "m"}, "k: m"},
	}
	for _, tt := range tests {
		if got := tt.e.Error(); got != tt.want {
			t.Errorf("%#v.Error() = %q, want %q", tt.e, got, tt.want)
		}
	}
}
