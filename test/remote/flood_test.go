package remote

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"virtxend/internal/paths"
	"virtxend/test/daemontest"
)

// hostileReport is the part of virtxend-load -hostile's JSON the test reads.
type hostileReport struct {
	Before, During, After struct {
		Ops    int     `json:"ops"`
		Errors int     `json:"errors"`
		P50    float64 `json:"p50_us"`
		P99    float64 `json:"p99_us"`
	}
	RSSBefore int64                       `json:"rss_before_kib"`
	RSSPeak   int64                       `json:"rss_peak_during_kib"`
	RSSAfter  int64                       `json:"rss_after_kib"`
	Flood     map[string]map[string]int64 `json:"flood"`
	FloodErr  string                      `json:"flood_error"`
}

// TestHostileFloodShort is CI's run of virtxend-load -hostile: lookups on
// two connections before, during and after a flood of two seconds or more,
// until every kind of it has had a round (bad lengths, unknown programs, truncated XDR, 32 MiB packets whole
// and cut short, half-open connections, PINGs read and unread, connect
// storms). The lookups all succeed, the daemon's memory stays bounded
// during the flood and comes back after it. Latency is logged, not
// asserted: on two shared cores it says more about the machine than the
// daemon (docs/testing.md has the long run's figures).
func TestHostileFloodShort(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	load := daemontest.Tool(t, "virtxend-load")
	cmd := exec.Command(load, "-socket", filepath.Join(d.Paths.SocketDir(), paths.RWSocketName),
		"-pid", fmt.Sprint(d.Cmd.Process.Pid), "-hostile", "-json", "-conns", "2", "-rate", "500",
		"-duration", "2s", "-settle", "7s", "-flooders", "2", "-held", "100", "-flood-nice", "19")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("virtxend-load: %v\n%s%s", err, stdout.String(), stderr.String())
	}
	var r hostileReport
	if err := json.Unmarshal(stdout.Bytes(), &r); err != nil {
		t.Fatalf("%v: %s", err, stdout.String())
	}
	t.Logf("lookups p50/p99 µs: before %.0f/%.0f, during %.0f/%.0f, after %.0f/%.0f; RSS KiB before %d, peak %d, after %d",
		r.Before.P50, r.Before.P99, r.During.P50, r.During.P99, r.After.P50, r.After.P99, r.RSSBefore, r.RSSPeak, r.RSSAfter)
	if r.Before.Errors+r.During.Errors+r.After.Errors != 0 || r.During.Ops == 0 || r.FloodErr != "" {
		t.Errorf("lookups failed: %+v, flood: %s", r, r.FloodErr)
	}
	for kind, c := range r.Flood {
		if c["rounds"] == 0 {
			t.Errorf("the flood never did %s: %v", kind, r.Flood)
		}
	}
	// Bounded: the receive budget (64 MiB) and the collector's slack.
	if r.RSSPeak > 400<<10 {
		t.Errorf("resident memory peaked at %d KiB during the flood", r.RSSPeak)
	}
	// Back: the heap is handed back a second after the last large packet,
	// at most once every 5 s (internal/rpc's freeEvery): a flood longer
	// than that may have had its hand-back, so the settle is 7 s.
	if r.RSSAfter > r.RSSBefore+24<<10 {
		t.Errorf("resident memory %d KiB after the flood, %d before", r.RSSAfter, r.RSSBefore)
	}
	if d.Exited() {
		t.Fatal("the daemon exited")
	}
}

// TestLimitsHoldUnderFlood: with a flood running in a second process,
// keepalive closes a silent client after exactly keepalive_count PINGs
// keepalive_interval apart, the daemon never serves more than max_clients,
// and max_anonymous_clients limits no one (with auth "none" no client is
// anonymous, as in libvirt). Then, at exactly max_clients clients, the next
// one waits unserved in a listen backlog of exactly max_queued_clients
// (plus the one Linux always adds), and is served once a client leaves.
func TestLimitsHoldUnderFlood(t *testing.T) {
	root := daemontest.NewRoot(t)
	daemontest.WriteFile(t, root, "etc/libvirt/virtxend.conf", "max_clients = 20\nmax_queued_clients = 3\n"+
		"max_anonymous_clients = 1\nkeepalive_interval = 1\nkeepalive_count = 2\n")
	d := daemontest.Start(t, root)
	sock := filepath.Join(d.Paths.SocketDir(), paths.RWSocketName)
	flood := exec.Command(daemontest.Tool(t, "virtxend-load"), "-flood-only", "-socket", sock,
		"-duration", "5s", "-flooders", "2", "-held", "10")
	if err := flood.Start(); err != nil {
		t.Fatal(err)
	}
	defer flood.Wait()

	asker, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer asker.Close()
	asker.Write(call(60, 1, 10)) // CONNECT_SUPPORTS_FEATURE(PROGRAM_KEEPALIVE)
	done := make(chan [2]int, 1)
	go func() {
		pings, closed := readUntilClosed(t, asker, 30*time.Second)
		done <- [2]int{pings, map[bool]int{true: 1}[closed]}
	}()
	for samples := 0; samples < 10 || len(done) == 0; samples++ {
		l := clientLimits(t, d)
		if l["nclients"] > 20 || l["nclients_max"] != 20 || l["nclients_unauth"] != 0 || l["nclients_unauth_max"] != 1 {
			t.Fatalf("under the flood: %v", l)
		}
	}
	if r := <-done; r != [2]int{2, 1} {
		t.Errorf("silent keepalive client under the flood: %d PINGs, closed %v; want 2 then closed", r[0], r[1] == 1)
	}
	flood.Wait()
	checkClientLimitExact(t, d, sock, 20, 3)
}

// clientLimits is virt-admin srv-clients-info virtxend as numbers.
func clientLimits(t *testing.T, d *daemontest.Daemon) map[string]int {
	t.Helper()
	r := d.VirtAdmin("srv-clients-info", "virtxend")
	if r.Code != 0 {
		t.Fatalf("virt-admin: %s%s", r.Stdout, r.Stderr)
	}
	m := map[string]int{}
	for _, line := range strings.Split(r.Stdout, "\n") {
		var k string
		var v int
		if k1, v1, ok := strings.Cut(line, ":"); ok {
			k = strings.TrimSpace(k1)
			if _, err := fmt.Sscan(v1, &v); err == nil {
				m[k] = v
			}
		}
	}
	return m
}

// checkClientLimitExact fills the daemon to maxClients served clients,
// then checks that one more waits unserved, that the backlog holds
// exactly maxQueued+1 waiting connections (Linux queues one more than a
// Unix socket's backlog), and that a waiting client is served once a
// served one leaves.
func checkClientLimitExact(t *testing.T, d *daemontest.Daemon, sock string, maxClients, maxQueued int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); clientLimits(t, d)["nclients"] != 0; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the flood's clients are still there: %v", clientLimits(t, d))
		}
	}
	var served []net.Conn
	for range maxClients {
		c := dialUnix(t, sock)
		if !pongs(c, 5*time.Second) {
			t.Fatalf("client %d of %d not served", len(served)+1, maxClients)
		}
		served = append(served, c)
	}
	var waiting []net.Conn
	for {
		c, err := net.Dial("unix", sock)
		if errors.Is(err, syscall.EAGAIN) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		waiting = append(waiting, c)
		if len(waiting) > maxQueued+5 {
			break
		}
	}
	if len(waiting) != maxQueued+1 {
		t.Errorf("%d connections waited in the backlog, want max_queued_clients %d + 1", len(waiting), maxQueued)
	}
	if pongs(waiting[0], 500*time.Millisecond) {
		t.Fatalf("client %d served beyond max_clients %d", maxClients+1, maxClients)
	}
	if l := clientLimits(t, d); l["nclients"] != maxClients {
		t.Errorf("at the limit: %v", l)
	}
	served[0].Close()
	if !pongs(waiting[0], 10*time.Second) {
		t.Fatal("the waiting client was not served once a client left")
	}
}

func dialUnix(t *testing.T, sock string) net.Conn {
	t.Helper()
	c, err := net.Dial("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

// pongs sends a keepalive PING on c and reports whether the PONG came
// within limit (a PING sent to a client still in the backlog is answered
// once it is served).
func pongs(c net.Conn, limit time.Duration) bool {
	ping := []byte{0, 0, 0, 0x1c, 0x6b, 0x65, 0x65, 0x70, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0}
	c.SetDeadline(time.Now().Add(limit))
	defer c.SetDeadline(time.Time{})
	if _, err := c.Write(ping); err != nil {
		return false
	}
	got := make([]byte, 28)
	_, err := io.ReadFull(c, got)
	return err == nil && got[15] == 2
}

// TestDaemonPacesRefusals: the daemon answers calls of a program it does
// not have no faster than its pace of refusals (internal/rpc/pace.go: 100
// a second after 100), while virsh on another connection is answered
// amid them.
func TestDaemonPacesRefusals(t *testing.T) {
	d := daemontest.Start(t, daemontest.NewRoot(t))
	c := dialRW(t, d)
	const n = 150 // the burst, then half a second's worth
	var batch []byte
	for i := range n {
		// length, program 0x0badf00d, version 1, procedure 1, a call, serial i, status OK
		batch = append(batch, 0, 0, 0, 28, 0x0b, 0xad, 0xf0, 0x0d, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, byte(i), 0, 0, 0, 0)
	}
	start := time.Now()
	go c.Write(batch)
	c.SetReadDeadline(time.Now().Add(time.Minute))
	for i := range n {
		var head [4]byte
		if _, err := io.ReadFull(c, head[:]); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		body := make([]byte, int(head[0])<<24|int(head[1])<<16|int(head[2])<<8|int(head[3])-4)
		if _, err := io.ReadFull(c, body); err != nil {
			t.Fatalf("reply %d: %v", i, err)
		}
		if i == 100 {
			if got := d.MustVirsh("uri"); !strings.HasPrefix(got, "xen") {
				t.Errorf("virsh amid the refusals: %q", got)
			}
		}
	}
	if took := time.Since(start); took < 490*time.Millisecond {
		t.Errorf("%d refusals in %v, under the 490 ms the pace allows", n, took)
	}
}
