package config

import (
	"fmt"
	"io/fs"
	"strconv"
	"strings"
)

// ParseHostUUID parses a host_uuid the way libvirt's virUUIDParse does:
// 32 hex digits, with '-' and ' ' allowed between digit pairs and blanks
// around. Like virUUIDIsValid it refuses a UUID whose 16 bytes are all
// equal (e.g. all zeros).
func ParseHostUUID(s string) ([16]byte, error) {
	var u [16]byte
	bad := fmt.Errorf("invalid host UUID: %s", s)
	rest := strings.TrimLeft(s, " \t\n\v\f\r")
	for i := 0; i < len(u); {
		if rest == "" {
			return u, bad
		}
		if rest[0] == '-' || rest[0] == ' ' {
			rest = rest[1:]
			continue
		}
		if len(rest) < 2 {
			return u, bad
		}
		b, err := strconv.ParseUint(rest[:2], 16, 8)
		if err != nil {
			return u, bad
		}
		u[i] = byte(b)
		i++
		rest = rest[2:]
	}
	if strings.TrimLeft(rest, " \t\n\v\f\r") != "" {
		return u, bad
	}
	for _, b := range u[1:] {
		if b != u[0] {
			return u, nil
		}
	}
	return u, bad
}

// parseMode parses a socket mode written in octal, such as "0700".
// libvirt reads it with strtol base 8 and hands it to umask, so modes
// with the setuid/setgid/sticky bits are accepted and those bits ignored.
func parseMode(s string) (fs.FileMode, error) {
	if s == "" || strings.TrimLeft(s, "01234567") != "" {
		return 0, fmt.Errorf("invalid mode %q: expected octal digits such as \"0700\"", s)
	}
	n, err := strconv.ParseUint(s, 8, 32)
	if err != nil || n > 0o7777 {
		return 0, fmt.Errorf("invalid mode %q: must be at most \"0777\"", s)
	}
	return fs.FileMode(n) & fs.ModePerm, nil
}

// parseXenVersion checks "major.minor.micro", each part a decimal number
// below 1000 (connectGetVersion packs them as major*1e6 + minor*1e3).
func parseXenVersion(s string) error {
	bad := fmt.Errorf("invalid version %q: expected \"major.minor.micro\", e.g. \"4.17.0\"", s)
	parts := strings.Split(s, ".")
	if len(parts) != 3 {
		return bad
	}
	for i, p := range parts {
		if p == "" || len(p) > 3 || strings.TrimLeft(p, "0123456789") != "" {
			return bad
		}
		if i == 0 && strings.Trim(p, "0") == "" {
			return fmt.Errorf("invalid version %q: the major version must be at least 1", s)
		}
	}
	return nil
}
