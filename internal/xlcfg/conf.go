package xlcfg

import (
	"fmt"
	"strconv"
	"strings"

	"virtxend/internal/virconf"
)

// Format is a native configuration format.
type Format string

// The formats libvirt's libxl driver converts.
const (
	XL Format = "xen-xl"
	XM Format = "xen-xm"
	// sxpr is xend's S-expression format, which libvirt no longer reads.
	sxpr Format = "xen-sxpr"
)

// conf is a cfg being read: the parsed file plus the keys used so far, so
// that unused (unsupported) settings can be reported.
type conf struct {
	f      *virconf.File
	fmt    Format
	used   map[string]bool
	hwVirt string // Options.HWVirt
}

func readConf(data []byte, f Format) (*conf, error) {
	file, err := virconf.Parse("", data)
	if err != nil {
		return nil, confSyntax(err)
	}
	return &conf{f: file, fmt: f, used: map[string]bool{}}, nil
}

// lookup returns key's value and marks it used.
func (c *conf) lookup(key string) (virconf.Value, bool) {
	c.used[key] = true
	return c.f.Lookup(key)
}

func (c *conf) malformed(key string) error {
	return c.errorf(key, "config value %s was malformed", key)
}

// errorf is an internal error placed on key's line, as libvirt reports
// most conversion errors (VIR_ERR_INTERNAL_ERROR).
func (c *conf) errorf(key, format string, args ...any) error {
	return &Error{Code: codeInternal, Line: c.f.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

func (c *conf) errorCode(code int, key, format string, args ...any) error {
	return &Error{Code: code, Line: c.f.Line(key), Key: key, Msg: fmt.Sprintf(format, args...)}
}

// getBool is xenConfigGetBool: an integer is true when non-zero, a string
// only when it is "1".
func (c *conf) getBool(key string, def int) (int, error) {
	v, ok := c.lookup(key)
	if !ok {
		return def, nil
	}
	switch {
	case v.Kind == virconf.Int && v.Signed:
		// libvirt types "-N" as a signed value, which these getters refuse
	case v.Kind == virconf.Int:
		if v.Int != 0 {
			return 1, nil
		}
		return 0, nil
	case v.Kind == virconf.String:
		if v.Str == "1" {
			return 1, nil
		}
		return 0, nil
	}
	return 0, c.malformed(key)
}

// getULong is xenConfigGetULong: an integer, or a string holding one.
func (c *conf) getULong(key string, def uint64) (uint64, error) {
	v, ok := c.lookup(key)
	if !ok {
		return def, nil
	}
	switch {
	case v.Kind == virconf.Int && !v.Signed:
		return uint64(v.Int), nil
	case v.Kind == virconf.String:
		n, err := strconv.ParseUint(strings.TrimSpace(v.Str), 10, 64)
		if err != nil {
			return 0, c.malformed(key)
		}
		return n, nil
	}
	return 0, c.malformed(key)
}

// getString is xenConfigGetString: absent gives def; a non-string is an
// error, as virConfGetValueString reports it.
func (c *conf) getString(key, def string) (string, bool, error) {
	v, ok := c.lookup(key)
	if !ok {
		return def, def != "", nil
	}
	if v.Kind != virconf.String {
		return "", false, c.errorf(key, "expected a string for '%s' parameter", key)
	}
	return v.Str, true, nil
}

// getStringList returns a list of strings, or ok=false when key is absent
// or not a list of strings (libvirt ignores those).
func (c *conf) getStringList(key string) ([]string, bool) {
	v, ok := c.lookup(key)
	if !ok || v.Kind != virconf.List {
		return nil, false
	}
	var out []string
	for _, e := range v.List {
		if e.Kind != virconf.String {
			return nil, false
		}
		out = append(out, e.Str)
	}
	return out, true
}

// listStrings returns the string items of a list, skipping others, as
// libvirt's loops over vif, disk, usbctrl, ... do.
func (c *conf) listStrings(key string) []string {
	v, ok := c.lookup(key)
	if !ok || v.Kind != virconf.List {
		return nil
	}
	var out []string
	for _, e := range v.List {
		if e.Kind == virconf.String {
			out = append(out, e.Str)
		}
	}
	return out
}

// Unsupported is a setting the conversion did not use.
type Unsupported struct {
	Key  string
	Line int
}

func (u Unsupported) String() string { return fmt.Sprintf("line %d: %s", u.Line, u.Key) }

func (c *conf) unused() []Unsupported {
	var out []Unsupported
	for _, k := range c.f.Keys() {
		if !c.used[k] {
			out = append(out, Unsupported{Key: k, Line: c.f.Line(k)})
		}
	}
	return out
}
