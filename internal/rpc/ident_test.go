package rpc

import (
	"math"
	"net"
	"os"
	"os/user"
	"strconv"
	"sync"
	"testing"
)

// TestPeerIdentity: a Unix client's identity is what libvirt's
// virNetServerClientCreateIdentity makes of its peer, here this process.
func TestPeerIdentity(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(157, 1, nil)
	c.recv()
	id := f.onlyClient(t).Identity()
	start, ok := ProcessStartTime(os.Getpid())
	if !ok {
		t.Fatal("no start time for this process")
	}
	want := Identity{
		UnixUserID: Known(uint64(os.Getuid())), UnixGroupID: Known(uint64(os.Getgid())),
		ProcessID: Known(int64(os.Getpid())), ProcessTime: Known(start),
		SELinuxContext: id.SELinuxContext, // whatever the host's security module says
	}
	if u, err := user.LookupId(strconv.Itoa(os.Getuid())); err == nil {
		want.UserName = Known(u.Username)
	}
	if g, err := user.LookupGroupId(strconv.Itoa(os.Getgid())); err == nil {
		want.GroupName = Known(g.Name)
	}
	if id != want {
		t.Errorf("identity %+v\nwant %+v", id, want)
	}
}

// TestPeerIdentityEdges: a peer that is not a Unix socket is unknown; one
// in another pid namespace (pid 0) gets libvirt's -1 and ULLONG_MAX.
func TestPeerIdentityEdges(t *testing.T) {
	a, b := net.Pipe()
	defer a.Close()
	defer b.Close()
	if id := readPeerCreds(a).identity(); id != (Identity{}) {
		t.Errorf("pipe peer %+v", id)
	}
	id := peerCreds{ok: true, uid: 0, gid: 0}.identity()
	if id.ProcessID != Known(int64(-1)) || id.ProcessTime != Known(uint64(math.MaxUint64)) || id.UnixUserID != Known(uint64(0)) {
		t.Errorf("pid 0: %+v", id)
	}
}

// TestSetIdentity: the identity is replaced whole, and reading and
// replacing it from many goroutines is safe (run with -race).
func TestSetIdentity(t *testing.T) {
	f := start(t, nil)
	c := f.dial(t)
	c.call(157, 1, nil)
	c.recv()
	sc := f.onlyClient(t)
	forwarded := Identity{UserName: Known("alice"), SASLUserName: Known("alice@EXAMPLE")}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(2)
		go func() { defer wg.Done(); sc.SetIdentity(forwarded) }()
		go func() { defer wg.Done(); _ = sc.Identity() }()
	}
	wg.Wait()
	if id := sc.Identity(); id != forwarded {
		t.Errorf("after SetIdentity: %+v", id)
	}
}
