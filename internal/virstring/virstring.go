// Package virstring holds the few of libvirt's text helpers that more
// than one package reads libvirt's input with, so that each accepts exactly
// what libvirt accepts: numbers (virstring.c), sizes with a unit
// (virScaleInteger), UUIDs (virUUIDParse); and the escaping of
// virBufferEscapeString that every XML written by hand uses, so that each
// writes what libvirt writes.
package virstring

import (
	"math"
	"strings"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/virerr"
)

// EscapeString is virBufferEscapeString: the five XML specials become
// entities and control characters other than tab, newline and carriage
// return are dropped silently (XML 1.0 has no way to write them).
// libvirt's list of them stops at 0x19, so it writes 0x1A to 0x1F as they
// are, in a document no XML reader then takes; those are dropped too.
func EscapeString(s string) string {
	if !strings.ContainsAny(s, "<>&'\"") && !hasControl(s) {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '<':
			b.WriteString("&lt;")
		case r == '>':
			b.WriteString("&gt;")
		case r == '&':
			b.WriteString("&amp;")
		case r == '"':
			b.WriteString("&quot;")
		case r == '\'':
			b.WriteString("&apos;")
		case r < 0x20 && r != '\t' && r != '\n' && r != '\r':
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func hasControl(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return true
		}
	}
	return false
}

// IsSpace is g_ascii_isspace, which is also C's isspace in the "C"
// locale: what strtoul skips before a number.
func IsSpace(c byte) bool {
	return c == ' ' || (c >= '\t' && c <= '\r')
}

// ToUIntP is virStrToLong_uip in base 10 with no trailing text allowed:
// optional leading blanks and '+', decimal digits filling the rest of the
// string, no '-' (which strtoul would wrap), and a value that fits an
// unsigned int. Range checks beyond that are the caller's, whose message
// differs per use.
func ToUIntP(s string) (uint32, bool) {
	v, ok := ToULLP(s)
	if !ok || v > math.MaxUint32 {
		return 0, false
	}
	return uint32(v), true
}

// ToUIntPAnyBase is virStrToLong_uip in base 0, as virXMLPropUInt reads
// attributes given base 0 (a PCI address): strtoul's leading blanks and
// '+', then "0x" and hex digits, a '0' and octal ones, or decimal ones,
// filling the rest of the string, no '-', within an unsigned int.
func ToUIntPAnyBase(s string) (uint32, bool) {
	i := unsignedStart(s)
	base := uint64(10)
	switch {
	case len(s)-i > 2 && s[i] == '0' && (s[i+1] == 'x' || s[i+1] == 'X'):
		base, i = 16, i+2
	case len(s)-i > 1 && s[i] == '0':
		base, i = 8, i+1
	}
	if i == len(s) {
		return 0, false
	}
	var v uint64
	for ; i < len(s); i++ {
		d, ok := HexDigit(s[i])
		if !ok || uint64(d) >= base {
			return 0, false
		}
		if v = v*base + uint64(d); v > math.MaxUint32 {
			return 0, false
		}
	}
	return uint32(v), true
}

// HexDigit is g_ascii_xdigit_value: the value of a hex digit, either case.
func HexDigit(c byte) (byte, bool) {
	switch {
	case c >= '0' && c <= '9':
		return c - '0', true
	case c >= 'a' && c <= 'f':
		return c - 'a' + 10, true
	case c >= 'A' && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// ToLL is virStrToLong_ll in base 10 with no trailing text allowed:
// leading blanks, an optional sign, then only decimal digits, within
// the range of a long long.
func ToLL(s string) (int64, bool) {
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	neg := false
	if i < len(s) && (s[i] == '+' || s[i] == '-') {
		neg = s[i] == '-'
		i++
	}
	if i == len(s) {
		return 0, false
	}
	var v uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (1<<63-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	if neg {
		return -int64(v), true // v == 1<<63 wraps to MinInt64, as wanted
	}
	if v > math.MaxInt64 {
		return 0, false
	}
	return int64(v), true
}

// ToInt is virStrToLong_i in base 10: ToLL within the range of an int.
func ToInt(s string) (int32, bool) {
	v, ok := ToLL(s)
	if !ok || v < math.MinInt32 || v > math.MaxInt32 {
		return 0, false
	}
	return int32(v), true
}

// unsignedStart is where strtoul's digits start in s: after its leading
// blanks and a '+'.
func unsignedStart(s string) int {
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '+' {
		i++
	}
	return i
}

// ToULLP is virStrToLong_ullp in base 10: ToUIntP's rules, with the
// range of an unsigned long long.
func ToULLP(s string) (uint64, bool) {
	i := unsignedStart(s)
	if i == len(s) {
		return 0, false
	}
	var v uint64
	for ; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		d := uint64(c - '0')
		if v > (math.MaxUint64-d)/10 {
			return 0, false
		}
		v = v*10 + d
	}
	return v, true
}

// ParseUUID is virUUIDParse: blanks around, then 32 hex digits in pairs,
// a '-' or ' ' allowed anywhere between two pairs (never inside one).
func ParseUUID(s string) ([16]byte, bool) {
	var u [16]byte
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	for n := 0; n < len(u); {
		if i >= len(s) {
			return u, false
		}
		if s[i] == '-' || s[i] == ' ' {
			i++
			continue
		}
		hi, ok1 := HexDigit(s[i])
		if !ok1 || i+1 >= len(s) {
			return u, false
		}
		lo, ok2 := HexDigit(s[i+1])
		if !ok2 {
			return u, false
		}
		u[n] = hi<<4 | lo
		n, i = n+1, i+2
	}
	for ; i < len(s); i++ {
		if !IsSpace(s[i]) {
			return u, false
		}
	}
	return u, true
}

// ScaleInteger is virScaleInteger: v times the unit suffix names (scale
// when there is none), which is at most limit. Units are read as libvirt
// reads them, in any case: b, byte, bytes; k, m, g, t, p, e alone or with
// "iB" for powers of 1024, with "B" for powers of 1000. Its errors are
// libvirt's, of no error domain (virutil.c).
func ScaleInteger(v uint64, suffix string, scale, limit uint64) (uint64, error) {
	low := strings.ToLower(suffix)
	switch {
	case suffix == "":
		if scale == 0 {
			return 0, virerr.New(virerr.FromNone, libvirt.ErrInternalError, "invalid scale %d", scale)
		}
	case low == "b" || low == "byte" || low == "bytes":
		scale = 1
	default:
		var base uint64
		switch {
		case len(low) == 1 || low[1:] == "ib":
			base = 1024
		case len(low) == 2 && low[1] == 'b':
			base = 1000
		default:
			return 0, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "unknown suffix '%s'", suffix)
		}
		power := strings.IndexByte("kmgtpe", low[0]) + 1
		if power == 0 {
			return 0, virerr.New(virerr.FromNone, libvirt.ErrInvalidArg, "unknown suffix '%s'", suffix)
		}
		scale = 1
		for range power {
			scale *= base
		}
	}
	if v != 0 && v > limit/scale {
		return 0, virerr.New(virerr.FromNone, libvirt.ErrOverflow, "value too large: %d%s", v, suffix)
	}
	return v * scale, nil
}
