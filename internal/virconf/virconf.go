// Package virconf parses libvirt's configuration-file syntax, the small
// Python-like language of libvirtd.conf, virtxend.conf and libxl.conf:
//
//	# a comment
//	key = 12               # integers, optionally signed
//	name = "text"          # or 'text'; no escapes; one line
//	text = """spans
//	several lines"""       # triple-quoted strings may span lines
//	list = [ "a", "b",     # lists may span lines and nest;
//	         "c", ]        # a trailing comma is allowed
//	a = 1; b = 2           # ';' separates statements on one line
//
// It accepts what libvirt's src/util/virconf.c accepts, with three
// deliberate differences, all more lenient: a file holding only blanks is
// valid (libvirt rejects it with "expecting a name"), comments may appear
// inside a list between its items (libvirt rejects them with "expecting a
// value"), and an integer that does not fit in 64 bits is an error rather
// than silently wrapping. As in libvirt, when a key appears twice the
// first occurrence wins.
package virconf

import (
	"fmt"
	"strings"
)

// Kind is the type of a value.
type Kind int

// The kinds of value the syntax has.
const (
	Int Kind = iota + 1
	String
	List
)

func (k Kind) String() string {
	switch k {
	case Int:
		return "integer"
	case String:
		return "string"
	case List:
		return "list"
	}
	return fmt.Sprintf("Kind(%d)", int(k))
}

// Value is one parsed value with the line it starts on.
type Value struct {
	Kind Kind
	Line int
	Int  int64 // Kind Int
	// Signed is true when the integer was written with a leading '-'.
	// libvirt types such numbers as signed and refuses them for unsigned
	// and boolean keys, even "-0".
	Signed bool
	Str    string  // Kind String
	List   []Value // Kind List
}

// Entry is one `key = value` statement.
type Entry struct {
	Key   string
	Line  int
	Value Value
}

// File is a parsed configuration file.
type File struct {
	Path    string
	Entries []Entry // in file order, duplicates kept
}

// Lookup returns the value of key. When a key is repeated the first
// occurrence wins, as in libvirt's virConfGetValue.
func (f *File) Lookup(key string) (Value, bool) {
	if e, ok := f.entry(key); ok {
		return e.Value, true
	}
	return Value{}, false
}

// Line returns the line of key's first occurrence, or 0 if it is absent.
func (f *File) Line(key string) int {
	e, _ := f.entry(key)
	return e.Line
}

func (f *File) entry(key string) (Entry, bool) {
	for _, e := range f.Entries {
		if e.Key == key {
			return e, true
		}
	}
	return Entry{}, false
}

// Keys returns the distinct keys in file order.
func (f *File) Keys() []string {
	seen := make(map[string]bool, len(f.Entries))
	var keys []string
	for _, e := range f.Entries {
		if !seen[e.Key] {
			seen[e.Key] = true
			keys = append(keys, e.Key)
		}
	}
	return keys
}

// Error is a syntax or value error in a configuration file. It prints as
// `PATH:LINE: KEY: message`, leaving out the parts that are not known.
type Error struct {
	Path string
	Line int    // 0 = unknown
	Key  string // "" = unknown
	Msg  string
}

func (e *Error) Error() string {
	var b strings.Builder
	if e.Path != "" {
		b.WriteString(e.Path)
		b.WriteString(":")
		if e.Line > 0 {
			fmt.Fprintf(&b, "%d:", e.Line)
		}
		b.WriteString(" ")
	}
	if e.Key != "" {
		b.WriteString(e.Key)
		b.WriteString(": ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// Errorf returns an *Error about key, placed on the line where key first
// appears in f.
func (f *File) Errorf(key, format string, args ...any) error {
	return &Error{Path: f.Path, Line: f.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}
