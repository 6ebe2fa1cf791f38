package arptable

import (
	"encoding/binary"
	"net"
	"slices"
	"strings"
	"syscall"
	"testing"
)

// neigh is one RTM_NEWNEIGH message of a dump: family, state and the
// NDA_DST and NDA_LLADDR attributes (nil: absent).
func neigh(family byte, state uint16, dst, ll []byte) []byte {
	body := make([]byte, ndmsgLen)
	body[0] = family
	binary.NativeEndian.PutUint16(body[8:10], state)
	for _, a := range []struct {
		typ uint16
		v   []byte
	}{{ndaDst, dst}, {ndaLLAddr, ll}} {
		if a.v == nil {
			continue
		}
		attr := make([]byte, 4, 4+len(a.v)+3)
		binary.NativeEndian.PutUint16(attr[0:2], uint16(4+len(a.v)))
		binary.NativeEndian.PutUint16(attr[2:4], a.typ)
		attr = append(attr, a.v...)
		for len(attr)%4 != 0 {
			attr = append(attr, 0)
		}
		body = append(body, attr...)
	}
	return message(syscall.RTM_NEWNEIGH, body)
}

func message(typ uint16, body []byte) []byte {
	m := make([]byte, syscall.NLMSG_HDRLEN, syscall.NLMSG_HDRLEN+len(body))
	binary.NativeEndian.PutUint32(m[0:4], uint32(syscall.NLMSG_HDRLEN+len(body)))
	binary.NativeEndian.PutUint16(m[4:6], typ)
	return append(m, body...)
}

func mac(s string) []byte { m, _ := net.ParseMAC(s); return m }

func ipv4(s string) []byte { return net.ParseIP(s).To4() }

// dump is a neighbour dump with one entry of each kind virArpTableGet
// keeps or skips.
func dump() []byte {
	var b []byte
	b = append(b, neigh(syscall.AF_INET, nudReachable, ipv4("192.0.2.5"), mac("00:16:3e:0a:0b:0c"))...)
	b = append(b, neigh(syscall.AF_INET, nudStale, ipv4("192.0.2.6"), mac("00:16:3E:0A:0B:0D"))...)
	b = append(b, neigh(syscall.AF_INET, 0x80, ipv4("192.0.2.7"), mac("00:16:3e:0a:0b:0e"))...) // permanent
	b = append(b, neigh(syscall.AF_INET, 0x20, ipv4("192.0.2.8"), mac("00:16:3e:0a:0b:0f"))...) // failed
	b = append(b, neigh(syscall.AF_INET6, nudReachable, net.ParseIP("fe80::1"), mac("00:16:3e:0a:0b:10"))...)
	b = append(b, neigh(syscall.AF_INET, nudStale, ipv4("192.0.2.9"), nil)...)  // incomplete
	b = append(b, neigh(0, 0, ipv4("192.0.2.10"), mac("00:16:3e:0a:0b:11"))...) // no family, no state
	b = append(b, message(syscall.NLMSG_DONE, make([]byte, 4))...)
	return append(b, neigh(syscall.AF_INET, nudReachable, ipv4("192.0.2.11"), mac("00:16:3e:0a:0b:12"))...)
}

// TestParse: what virArpTableGet keeps of a dump, in its words.
func TestParse(t *testing.T) {
	got, err := Parse(dump())
	if err != nil {
		t.Fatal(err)
	}
	want := []Entry{{"192.0.2.5", "00:16:3e:0a:0b:0c"}, {"192.0.2.6", "00:16:3e:0a:0b:0d"}, {"192.0.2.10", "00:16:3e:0a:0b:11"}}
	if !slices.Equal(got, want) {
		t.Errorf("Parse: %v, want %v", got, want)
	}
	if _, err := Parse(message(syscall.RTM_NEWNEIGH, []byte{2})); err == nil {
		t.Error("a neighbour message shorter than its header was read")
	}
	if _, err := Parse(message(syscall.NLMSG_ERROR, make([]byte, 20))); err == nil || !strings.Contains(err.Error(), "malformed") {
		t.Errorf("an error message: %v", err)
	}
}

// TestGet: this namespace's table reads (it may be empty).
func TestGet(t *testing.T) {
	if _, err := Get(); err != nil {
		t.Fatal(err)
	}
}

func FuzzParse(f *testing.F) {
	f.Add(dump())
	f.Add(neigh(syscall.AF_INET, nudReachable, ipv4("10.0.0.1"), []byte{1, 2, 3}))
	f.Fuzz(func(t *testing.T, b []byte) {
		entries, err := Parse(b)
		if err != nil {
			return
		}
		for _, e := range entries {
			if ip := net.ParseIP(e.IP); ip == nil || ip.To4() == nil {
				t.Fatalf("entry address %q", e.IP)
			}
			if m, err := net.ParseMAC(e.MAC); err != nil || len(m) != 6 || m.String() != e.MAC {
				t.Fatalf("entry MAC %q", e.MAC)
			}
		}
	})
}
