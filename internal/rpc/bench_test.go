package rpc

import (
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"
)

// BenchmarkRoundTrip is one call and its reply over a Unix socket.
func BenchmarkRoundTrip(b *testing.B) {
	f := start(b, nil)
	c := f.dial(b)
	req := packet(b, Header{Prog: remoteProg, Vers: 1, Proc: 23, Serial: 1}, &libvirt.DomainLookupByNameArgs{Name: "test"})
	b.ReportAllocs()
	for b.Loop() {
		c.sendRaw(req)
		if h, _ := c.recv(); h.Status != StatusOK {
			b.Fatal(h)
		}
	}
}

// BenchmarkRoundTripPipelined keeps max_client_requests calls in flight.
func BenchmarkRoundTripPipelined(b *testing.B) {
	f := start(b, nil)
	c := f.dial(b)
	req := packet(b, Header{Prog: remoteProg, Vers: 1, Proc: 157, Serial: 1}, nil)
	const depth = DefaultMaxClientRequests
	b.ReportAllocs()
	b.ResetTimer()
	for range depth {
		c.sendRaw(req)
	}
	for i := range b.N {
		c.recv()
		if i+depth < b.N {
			c.sendRaw(req)
		}
	}
}

func BenchmarkErrorBody(b *testing.B) {
	err := rpcError("unknown procedure: %d", 9999)
	b.ReportAllocs()
	for b.Loop() {
		errorBody(err)
	}
}
