package libvirtd

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

var ctx = context.Background()

// fake is a stand-in for libvirtd: it records each connection's opening
// and serves network lookups.
type fake struct {
	srv  *rpc.Server
	path string

	mu      sync.Mutex
	opened  []string // the URIs connections opened
	idents  [][]libvirt.TypedParam
	lookups int
}

func startFake(t *testing.T, dir string) *fake {
	t.Helper()
	f := &fake{srv: &rpc.Server{Name: "libvirtd"}, path: filepath.Join(dir, "libvirt-sock")}
	f.srv.Register(rpc.NewProgram(program, version,
		rpc.Proc(procAuthList, "AUTH_LIST", "", rpc.NoAuth, func(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.AuthListRet, error) {
			c.SetAuthenticated()
			return &libvirt.AuthListRet{Types: []libvirt.AuthType{authNone}}, nil
		}),
		rpc.Proc(procConnectOpen, "CONNECT_OPEN", "", 0, func(_ context.Context, c *rpc.Client, a *libvirt.ConnectOpenArgs) (*rpc.Void, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.opened = append(f.opened, a.Name[0])
			return nil, nil
		}),
		rpc.Proc(procConnectSetIdentity, "CONNECT_SET_IDENTITY", "", 0, func(_ context.Context, c *rpc.Client, a *libvirt.ConnectSetIdentityArgs) (*rpc.Void, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.idents = append(f.idents, a.Params)
			return nil, nil
		}),
		rpc.Proc(procNetworkLookupByName, "NETWORK_LOOKUP_BY_NAME", "", 0, func(_ context.Context, c *rpc.Client, a *libvirt.NetworkLookupByNameArgs) (*libvirt.NetworkLookupByNameRet, error) {
			f.mu.Lock()
			f.lookups++
			f.mu.Unlock()
			if a.Name != "default" {
				// As libvirtd words it.
				msg := "no network with matching name '" + a.Name + "'"
				return nil, virerr.Relayed(virerr.Wire{Code: libvirt.ErrNoNetwork, Domain: 19,
					Message: "Network not found: " + msg, Str1: "Network not found: %s", Str2: msg, Int1: -1, Int2: -1})
			}
			return &libvirt.NetworkLookupByNameRet{Net: libvirt.Network{Name: "default", UUID: libvirt.UUID{1}}}, nil
		}),
	))
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	go f.srv.Serve(ln)
	t.Cleanup(func() { f.srv.Close() })
	return f
}

func newClient(t *testing.T, dir string) *Client {
	c := New(Options{SocketDir: dir})
	t.Cleanup(func() { c.Close() })
	return c
}

// TestOpensWithTheDaemonsIdentity: one connection per driver, opened with
// the system URI and the daemon's own identity, system token included.
func TestOpensWithTheDaemonsIdentity(t *testing.T) {
	dir := t.TempDir()
	f := startFake(t, dir)
	c := newClient(t, dir)
	for range 3 {
		n, err := c.NetworkLookupByName(ctx, "default")
		if err != nil || n.Name != "default" {
			t.Fatalf("lookup: %+v %v", n, err)
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.opened) != 1 || f.opened[0] != "network:///system" || f.lookups != 3 {
		t.Fatalf("opened %q, %d lookups", f.opened, f.lookups)
	}
	token, err := os.ReadFile(filepath.Join(dir, "common", "system.token"))
	if err != nil || len(token) != 32 {
		t.Fatalf("system token %q %v", token, err)
	}
	got := map[string]any{}
	for _, p := range f.idents[0] {
		got[p.Field] = p.Value.I
	}
	if got["system.token"] != string(token) || got["process-id"] != int64(os.Getpid()) || got["unix-user-id"] != uint64(os.Geteuid()) {
		t.Fatalf("identity %v", got)
	}
}

// TestRelaysErrors: the daemon's error comes back as it sent it.
func TestRelaysErrors(t *testing.T) {
	dir := t.TempDir()
	startFake(t, dir)
	_, err := newClient(t, dir).NetworkLookupByName(ctx, "nope")
	w := virerr.As(err).Wire()
	if w.Code != libvirt.ErrNoNetwork || w.Domain != 19 || w.Message != "Network not found: no network with matching name 'nope'" {
		t.Fatalf("%+v", w)
	}
}

// TestNoDaemon: the socket's system error, as libvirt's client words it.
func TestNoDaemon(t *testing.T) {
	dir := t.TempDir()
	_, err := newClient(t, dir).NetworkLookupByName(ctx, "default")
	want := "Failed to connect socket to '" + filepath.Join(dir, "libvirt-sock") + "': No such file or directory"
	if w := virerr.As(err).Wire(); w.Code != libvirt.ErrSystemError || w.Domain != virerr.FromRPC || w.Message != want {
		t.Fatalf("%+v", w)
	}
}

// TestReconnects: once libvirt's daemon went away and came back, the next
// call opens a new connection.
func TestReconnects(t *testing.T) {
	dir := t.TempDir()
	f := startFake(t, dir)
	c := newClient(t, dir)
	if _, err := c.NetworkLookupByName(ctx, "default"); err != nil {
		t.Fatal(err)
	}
	f.srv.Close()
	os.Remove(f.path)
	// The connection ends with the daemon; wait until the client saw it.
	s, _ := c.slot(Network)
	<-s.conn.Done()
	if _, err := c.NetworkLookupByName(ctx, "default"); err == nil || !strings.Contains(err.Error(), "Failed to connect socket") {
		t.Fatalf("call with no daemon: %v", err)
	}
	f2 := startFake(t, dir)
	if _, err := c.NetworkLookupByName(ctx, "default"); err != nil {
		t.Fatalf("after the daemon came back: %v", err)
	}
	f2.mu.Lock()
	defer f2.mu.Unlock()
	if len(f2.opened) != 1 {
		t.Fatalf("new daemon saw %q", f2.opened)
	}
}

// TestModularSocket: a modular daemon's socket is preferred.
func TestModularSocket(t *testing.T) {
	dir := t.TempDir()
	if got := SocketPath(dir, "network", false); got != filepath.Join(dir, "libvirt-sock") {
		t.Fatal(got)
	}
	os.WriteFile(filepath.Join(dir, "virtnetworkd-sock"), nil, 0o600)
	if got := SocketPath(dir, "network", false); got != filepath.Join(dir, "virtnetworkd-sock") {
		t.Fatal(got)
	}
	if got := SocketPath(dir, "network", true); got != filepath.Join(dir, "libvirt-sock-ro") {
		t.Fatal(got)
	}
}

// TestSystemTokenShared: the first comer writes the token, later ones
// read the same.
func TestSystemTokenShared(t *testing.T) {
	path := filepath.Join(t.TempDir(), "common", "system.token")
	a, err := EnsureSystemToken(path)
	if err != nil || len(a) != 32 {
		t.Fatalf("%q %v", a, err)
	}
	b, err := EnsureSystemToken(path)
	if err != nil || a != b {
		t.Fatalf("%q then %q (%v)", a, b, err)
	}
	os.WriteFile(path, []byte("short"), 0o600)
	if _, err := EnsureSystemToken(path); err == nil || !strings.Contains(err.Error(), "was corrupt") {
		t.Fatalf("corrupt token: %v", err)
	}
}
