// Package arptable reads the host's IPv4 neighbour (ARP) table, as
// libvirt's virArpTableGet does (src/util/virarptable.c): a netlink dump of
// the kernel's neighbours, of which the IPv4 entries that are reachable or
// stale give an address for a MAC address. It answers
// `virsh domifaddr --source arp`, which finds a guest's addresses on a
// bridge without an agent or a libvirt network.
package arptable

import (
	"encoding/binary"
	"errors"
	"net"
	"syscall"
)

// Entry is one neighbour: an IPv4 address and the MAC address it is at,
// each as libvirt formats it ("192.0.2.5", "00:16:3e:0a:0b:0c").
type Entry struct {
	IP, MAC string
}

// Get dumps the neighbour table of the caller's network namespace.
func Get() ([]Entry, error) {
	b, err := syscall.NetlinkRIB(syscall.RTM_GETNEIGH, syscall.AF_UNSPEC)
	if err != nil {
		return nil, err
	}
	return Parse(b)
}

// The parts of the kernel's neighbour messages read here
// (linux/neighbour.h).
const (
	ndmsgLen     = 12 // struct ndmsg: family, 3 pads, ifindex, state, flags, type
	ndaDst       = 1  // NDA_DST
	ndaLLAddr    = 2  // NDA_LLADDR
	nudReachable = 0x02
	nudStale     = 0x04
)

// errMalformed is a dump libvirt would call malformed.
var errMalformed = errors.New("malformed netlink response message")

// Parse reads the messages of a neighbour dump: each IPv4 neighbour (or
// one of no family) whose state is none, reachable or stale and that has
// both an address and a link-layer address, in the dump's order.
func Parse(b []byte) ([]Entry, error) {
	msgs, err := syscall.ParseNetlinkMessage(b)
	if err != nil {
		return nil, errMalformed
	}
	var out []Entry
	for _, m := range msgs {
		switch m.Header.Type {
		case syscall.NLMSG_DONE:
			return out, nil
		case syscall.NLMSG_ERROR:
			return nil, errMalformed
		case syscall.RTM_NEWNEIGH:
		default:
			continue
		}
		if len(m.Data) < ndmsgLen {
			return nil, errMalformed
		}
		family, state := m.Data[0], binary.NativeEndian.Uint16(m.Data[8:10])
		if family != 0 && family != syscall.AF_INET {
			continue
		}
		if state != 0 && state != nudReachable && state != nudStale {
			continue
		}
		dst, ll := attrs(m.Data[ndmsgLen:])
		if len(dst) != net.IPv4len || len(ll) < 6 {
			continue
		}
		out = append(out, Entry{IP: net.IP(dst).String(), MAC: net.HardwareAddr(ll[:6]).String()})
	}
	return out, nil
}

// attrs finds a neighbour's first NDA_DST and NDA_LLADDR among its
// attributes (each a 4-byte header of length and type, then the value,
// padded to 4 bytes); a malformed attribute ends the reading.
func attrs(b []byte) (dst, ll []byte) {
	for len(b) >= 4 {
		n, typ := int(binary.NativeEndian.Uint16(b[0:2])), binary.NativeEndian.Uint16(b[2:4])
		if n < 4 || n > len(b) {
			break
		}
		switch v := b[4:n]; typ {
		case ndaDst:
			if dst == nil {
				dst = v
			}
		case ndaLLAddr:
			if ll == nil {
				ll = v
			}
		}
		n = (n + 3) &^ 3
		if n > len(b) {
			break
		}
		b = b[n:]
	}
	return dst, ll
}
