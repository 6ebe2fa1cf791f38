package remote

import (
	"bytes"
	"fmt"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/backend"
	"virtxend/internal/driver"
	"virtxend/internal/xdr"
)

func listOf(n int) []driver.Domain {
	doms := make([]driver.Domain, n)
	for i := range doms {
		// Names of every length modulo 4, for the padding.
		doms[i] = driver.Domain{Name: fmt.Sprintf("g%0*d", 1+i%4, i), UUID: backend.UUID{byte(i), 0xab, 15: byte(i >> 8)}, ID: int32(i) - 2}
	}
	return doms
}

// TestListAllRetIsGoLibvirts: the list-all reply encoded from the driver's
// list is byte for byte go-libvirt's ConnectListAllDomainsRet of it, with
// the domains and without (NeedResults 0).
func TestListAllRetIsGoLibvirts(t *testing.T) {
	for _, n := range []int{0, 1, 7} {
		doms := listOf(n)
		want := libvirt.ConnectListAllDomainsRet{Ret: uint32(n)}
		for _, d := range doms {
			want.Domains = append(want.Domains, wireDomain(d))
		}
		for _, need := range []bool{true, false} {
			got := &listAllRet{ret: uint32(n)}
			w := want
			if need {
				got.doms = doms
			} else {
				w.Domains = nil
			}
			a, err := xdr.Marshal(got)
			if err != nil {
				t.Fatal(err)
			}
			b, err := xdr.Marshal(&w)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(a, b) {
				t.Errorf("%d domains, results %v:\n%x\nwant\n%x", n, need, a, b)
			}
		}
	}
}

// BenchmarkListAllReply10000 encodes the list-all reply of 10,000 domains
// into a reused buffer, as the server's pooled reply buffers are.
func BenchmarkListAllReply10000(b *testing.B) {
	ret := &listAllRet{doms: listOf(10000), ret: 10000}
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if buf, err = xdr.Append(buf[:0], ret); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}

// BenchmarkListAllReplyGoLibvirt10000 is the same reply as it was made
// before: copied into go-libvirt's struct and encoded by its type's codec.
func BenchmarkListAllReplyGoLibvirt10000(b *testing.B) {
	doms := listOf(10000)
	var buf []byte
	b.ReportAllocs()
	for b.Loop() {
		ret := &libvirt.ConnectListAllDomainsRet{Ret: 10000, Domains: make([]libvirt.Domain, len(doms))}
		for i, d := range doms {
			ret.Domains[i] = wireDomain(d)
		}
		var err error
		if buf, err = xdr.Append(make([]byte, 0, 256), ret); err != nil {
			b.Fatal(err)
		}
	}
	b.SetBytes(int64(len(buf)))
}
