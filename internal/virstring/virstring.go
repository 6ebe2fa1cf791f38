// Package virstring holds the few string helpers of libvirt's
// src/util/virstring.c that more than one package reads libvirt's input
// with, so that each accepts exactly what libvirt accepts.
package virstring

import "math"

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
	i := 0
	for i < len(s) && IsSpace(s[i]) {
		i++
	}
	if i < len(s) && s[i] == '+' {
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
		v = v*10 + uint64(c-'0')
		if v > math.MaxUint32 {
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
