package migration

import (
	"net"
	"strconv"
	"strings"
	"testing"
)

func TestParseIncoming(t *testing.T) {
	for _, c := range []struct {
		uri  string
		want Endpoint
		err  string
	}{
		{uri: "tcp://host.example:49200", want: Endpoint{"host.example", 49200}},
		{uri: "tcp://10.0.0.2", want: Endpoint{"10.0.0.2", 0}},
		{uri: "host.example", want: Endpoint{"host.example", 0}},
		{uri: "host.example:50000", want: Endpoint{"host.example", 50000}},
		{uri: "tcp://[fd00::2]:50000", want: Endpoint{"fd00::2", 50000}},
		{uri: "tcp://:50000", err: "missing host in migration URI: tcp://:50000"},
		{uri: "tcp://host:99999", err: "unable to parse URI: tcp://host:99999"},
		{uri: "tcp://ho st", err: "unable to parse URI: tcp://ho st"},
	} {
		got, err := ParseIncoming(c.uri)
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%q: error %v, want %q", c.uri, err, c.err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%q: %+v, %v; want %+v", c.uri, got, err, c.want)
		}
	}
}

func TestParseOutgoing(t *testing.T) {
	if e, err := ParseOutgoing("tcp://h:1"); err != nil || e != (Endpoint{"h", 1}) {
		t.Errorf("tcp://h:1: %+v %v", e, err)
	}
	for _, uri := range []string{"tcp://h", "h:1", "tcp://:1", "%"} {
		if _, err := ParseOutgoing(uri); err == nil || !strings.Contains(err.Error(), "needs a host and a port") {
			t.Errorf("%q: %v", uri, err)
		}
	}
}

func TestEndpointURI(t *testing.T) {
	if got := (Endpoint{"fd00::2", 49152}).URI(); got != "tcp://[fd00::2]:49152" {
		t.Errorf("IPv6: %s", got)
	}
	if got := (Endpoint{"h.example", 49152}).URI(); got != "tcp://h.example:49152" {
		t.Errorf("name: %s", got)
	}
}

// TestPorts: the first free port of the range, one taken by someone else
// skipped, a released one handed out again, and libvirt's error when none
// is left.
func TestPorts(t *testing.T) {
	base := freePortRun(t, 3)
	other, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(base)))
	if err != nil {
		t.Skip("port taken meanwhile")
	}
	defer other.Close()
	p := &Ports{Min: base, Max: base + 2}
	l1, port1, err := p.Listen("127.0.0.1", 0)
	if err != nil || port1 != base+1 {
		t.Fatalf("first: %d %v", port1, err)
	}
	l2, port2, err := p.Listen("127.0.0.1", 0)
	if err != nil || port2 != base+2 {
		t.Fatalf("second: %d %v", port2, err)
	}
	if _, _, err := p.Listen("127.0.0.1", 0); err == nil ||
		!strings.Contains(err.Error(), "Unable to find an unused port in range 'migration'") {
		t.Errorf("exhausted: %v", err)
	}
	l1.Close()
	p.Release(port1)
	l3, port3, err := p.Listen("127.0.0.1", 0)
	if err != nil || port3 != port1 {
		t.Errorf("after release: %d %v", port3, err)
	}
	l2.Close()
	l3.Close()
	if _, _, err := p.Listen("192.0.2.1", 0); err == nil || !strings.Contains(err.Error(), "Fail to create socket for incoming migration") {
		t.Errorf("an address this host lacks: %v", err)
	}
}

// freePortRun finds n consecutive ports free on 127.0.0.1.
func freePortRun(t *testing.T, n int) int {
	for base := 40000; base < 60000; base += 97 {
		ok := true
		for i := 0; i < n && ok; i++ {
			l, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", itoa(base+i)))
			if err != nil {
				ok = false
				continue
			}
			l.Close()
		}
		if ok {
			return base
		}
	}
	t.Skip("no free ports")
	return 0
}

func itoa(n int) string { return strconv.Itoa(n) }
