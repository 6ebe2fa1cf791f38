package logging

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

var filterSeeds = []string{
	"", " ", "1:rpc 3:remote 4:event", "3:+remote", "1:foo:bar", "+2:x", "1:*", "1:a?b*",
	"rpc", "1:", "1:+", "5:x", "x:y", "-1:y", "4294967297:y", "\t2:x", "1:a\t2:b", "1:é",
}

var outputSeeds = []string{
	"", "3:stderr", "1:syslog:foo 2:stderr 1:stderr", "1:journald", "2:file:/var/log/x.log",
	"3:file:///tmp//x/../b.log", "1:file:rel/x", "1", "5:stderr", "1:std", "1:stderr:x",
	"1:file:/a:b", "+1:stderr", "1:syslog:",
}

// FuzzParseFilters: never panics, errors are INVALID_ARG, and what parses
// reads back in libvirt's form, which itself parses to the same priorities.
func FuzzParseFilters(f *testing.F) {
	for _, s := range filterSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseFilters(s)
		if err != nil {
			if e := virerr.As(err); e.Code != libvirt.ErrInvalidArg {
				t.Fatalf("ParseFilters(%q): code %d", s, e.Code)
			}
			return
		}
		for _, flt := range list {
			if !flt.Priority.valid() || flt.Match == "" || strings.Contains(flt.Match, " ") {
				t.Fatalf("ParseFilters(%q) gave %+v", s, flt)
			}
		}
		again, err := ParseFilters(FormatFilters(list))
		if err != nil || len(again) != len(list) {
			t.Fatalf("read-back %q of %q does not parse: %v", FormatFilters(list), s, err)
		}
		for i := range list {
			if again[i].Priority != list[i].Priority || again[i].Match != "*"+list[i].Match+"*" {
				t.Fatalf("read-back of %q changed %+v into %+v", s, list[i], again[i])
			}
		}
	})
}

// FuzzParseOutputs: never panics, errors are INVALID_ARG, and the read-back
// string parses to the same outputs.
func FuzzParseOutputs(f *testing.F) {
	for _, s := range outputSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		list, err := ParseOutputs(s)
		if err != nil {
			if e := virerr.As(err); e.Code != libvirt.ErrInvalidArg {
				t.Fatalf("ParseOutputs(%q): code %d", s, e.Code)
			}
			return
		}
		again, err := ParseOutputs(FormatOutputs(list))
		if err != nil {
			t.Fatalf("read-back %q of %q does not parse: %v", FormatOutputs(list), s, err)
		}
		if len(list) == 0 && len(again) == 0 {
			return
		}
		if !reflect.DeepEqual(again, list) {
			t.Fatalf("read-back of %q: %+v became %+v", s, list, again)
		}
	})
}

// FuzzGlobMatch checks the matcher against a slow reference on short input.
func FuzzGlobMatch(f *testing.F) {
	f.Add("*a?c*", "xxabcz")
	f.Add("*", "")
	f.Add("a*b*c", "aXbXbXc")
	f.Fuzz(func(t *testing.T, pattern, name string) {
		// Literals compare bytewise, so invalid UTF-8 has no rune-level answer.
		if len(pattern) > 12 || len(name) > 24 || !utf8.ValidString(pattern) || !utf8.ValidString(name) {
			return
		}
		if got, want := globMatch(pattern, name), globReference([]rune(pattern), []rune(name)); got != want {
			t.Fatalf("globMatch(%q, %q) = %v, want %v", pattern, name, got, want)
		}
	})
}

func globReference(p, n []rune) bool {
	if len(p) == 0 {
		return len(n) == 0
	}
	switch p[0] {
	case '*':
		for i := 0; i <= len(n); i++ {
			if globReference(p[1:], n[i:]) {
				return true
			}
		}
		return false
	case '?':
		return len(n) > 0 && globReference(p[1:], n[1:])
	}
	return len(n) > 0 && n[0] == p[0] && globReference(p[1:], n[1:])
}

// FuzzParseLevel: LIBVIRT_DEBUG's value is a priority 1-4 or an
// INVALID_ARG error naming it; it never panics.
func FuzzParseLevel(f *testing.F) {
	for _, s := range []string{"1", "debug", "4", "error", "0", "5", "Debug", " 1", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := ParseLevel(s)
		if err != nil {
			var ve *virerr.Error
			if !errors.As(err, &ve) || ve.Code != libvirt.ErrInvalidArg || !strings.Contains(err.Error(), "'"+s+"'") {
				t.Fatalf("ParseLevel(%q): error %v", s, err)
			}
			return
		}
		if p < PriorityDebug || p > PriorityError {
			t.Fatalf("ParseLevel(%q) = %d", s, p)
		}
	})
}
