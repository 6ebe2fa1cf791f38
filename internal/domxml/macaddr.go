package domxml

import (
	"fmt"
	"strconv"
	"strings"
)

// ParseMAC reads a MAC address as virMacAddrParse does: six colon-separated
// octets of one or two hex digits, then optionally anything from a space
// or control character on. It returns the address in libvirt's canonical
// form, lower case with two digits per octet, which is how dumpxml shows it.
func ParseMAC(s string) (string, bool) {
	b, ok := parseMAC(s)
	if !ok {
		return "", false
	}
	return fmt.Sprintf("%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2], b[3], b[4], b[5]), true
}

func parseMAC(s string) ([6]byte, bool) {
	var b [6]byte
	if i := strings.IndexFunc(s, func(r rune) bool { return r <= ' ' }); i >= 0 {
		s = s[:i]
	}
	parts := strings.Split(s, ":")
	if len(parts) != 6 {
		return b, false
	}
	for i, p := range parts {
		if len(p) < 1 || len(p) > 2 {
			return b, false
		}
		v, err := strconv.ParseUint(p, 16, 8)
		if err != nil {
			return b, false
		}
		b[i] = byte(v)
	}
	return b, true
}

// checkMAC is virDomainNetDefParseXML's check of <mac address>: it must
// parse and be unicast; the address is stored canonical.
func checkMAC(addr *string) error {
	b, ok := parseMAC(*addr)
	if !ok {
		return xmlErr("unable to parse mac address '%s'", *addr)
	}
	if b[0]&1 != 0 {
		return xmlErr("expected unicast mac address, found multicast '%s'", *addr)
	}
	*addr, _ = ParseMAC(*addr)
	return nil
}
