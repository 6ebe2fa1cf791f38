package typedparam_test

import (
	"strings"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/typedparam"
	"virtxend/internal/virerr"
)

func str(f, v string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueString(v)}
}

func ull(f string, v uint64) libvirt.TypedParam {
	return libvirt.TypedParam{Field: f, Value: *libvirt.NewTypedParamValueUllong(v)}
}

var allowed = map[string]typedparam.Type{"user-name": typedparam.String, "unix-user-id": typedparam.ULLong}

// TestValidate: libvirt's words, and the first problem in name order
// wins, as libvirt's walk over the sorted list finds it (the texts are
// libvirtd 9.0's answers to CONNECT_SET_IDENTITY).
func TestValidate(t *testing.T) {
	for _, c := range []struct {
		name   string
		params []libvirt.TypedParam
		code   virerr.Code
		msg    string
	}{
		{"none", nil, 0, ""},
		{"good", []libvirt.TypedParam{ull("unix-user-id", 1), str("user-name", "a")}, 0, ""},
		{"unknown", []libvirt.TypedParam{str("zzz", "x"), str("user-name", "a")}, libvirt.ErrArgumentUnsupported,
			"argument unsupported: parameter 'zzz' not supported"},
		{"wrong type", []libvirt.TypedParam{str("unix-user-id", "x")}, libvirt.ErrInvalidArg,
			"invalid argument: invalid type 'string' for parameter 'unix-user-id', expected 'ullong'"},
		{"twice", []libvirt.TypedParam{str("user-name", "x"), str("user-name", "y")}, libvirt.ErrInvalidArg,
			"invalid argument: parameter 'user-name' occurs multiple times"},
		// "unix-user-id" sorts before "zzz": its type is reported first.
		{"order", []libvirt.TypedParam{str("zzz", "x"), str("unix-user-id", "x")}, libvirt.ErrInvalidArg,
			"invalid argument: invalid type 'string' for parameter 'unix-user-id', expected 'ullong'"},
		// "aaa" sorts first: unknown before the wrong type after it.
		{"unknown first", []libvirt.TypedParam{str("unix-user-id", "x"), str("aaa", "x")}, libvirt.ErrArgumentUnsupported,
			"argument unsupported: parameter 'aaa' not supported"},
		{"twice before type", []libvirt.TypedParam{ull("user-name", 1), str("user-name", "y")}, libvirt.ErrInvalidArg,
			"invalid argument: invalid type 'ullong' for parameter 'user-name', expected 'string'"},
	} {
		err := typedparam.Validate(c.params, allowed)
		if c.msg == "" {
			if err != nil {
				t.Errorf("%s: %v", c.name, err)
			}
			continue
		}
		w := virerr.As(err).Wire()
		if w.Code != c.code || w.Domain != virerr.FromNone || w.Message != c.msg {
			t.Errorf("%s: %+v, want %d %q", c.name, w, c.code, c.msg)
		}
	}
}

// TestCheckFields: a field name must fit libvirt's 80 bytes with its NUL.
func TestCheckFields(t *testing.T) {
	if err := typedparam.CheckFields([]libvirt.TypedParam{str(strings.Repeat("a", 79), "")}); err != nil {
		t.Errorf("79 bytes: %v", err)
	}
	long := strings.Repeat("a", 80)
	w := virerr.As(typedparam.CheckFields([]libvirt.TypedParam{str("user-name", ""), str(long, "")})).Wire()
	if w.Code != libvirt.ErrInternalError || w.Domain != virerr.FromNone ||
		w.Message != "internal error: parameter "+long+" too big for destination" {
		t.Errorf("80 bytes: %+v", w)
	}
}

func TestTypeName(t *testing.T) {
	if typedparam.TypeName(typedparam.ULLong) != "ullong" || typedparam.TypeName(9) != "unknown" {
		t.Error(typedparam.TypeName(typedparam.ULLong), typedparam.TypeName(9))
	}
}
