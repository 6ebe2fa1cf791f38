package peer

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/remoteclient"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/test/daemontest"
)

var ctx = context.Background()

// ncHelperEnv makes the test binary a netcat: "-U SOCKET" relays its
// standard input and output to SOCKET. The fake nc script sets it.
const ncHelperEnv = "PEER_TEST_NC"

func TestMain(m *testing.M) {
	if os.Getenv(ncHelperEnv) != "" {
		os.Exit(netcat(os.Args[1:]))
	}
	os.Exit(daemontest.Main(m))
}

// netcat is nc -U: "-q" alone is the probe libvirt's command makes (an
// nc that does not complain about it), else the last argument is the
// socket.
func netcat(args []string) int {
	if len(args) == 1 && args[0] == "-q" {
		return 1
	}
	c, err := net.Dial("unix", args[len(args)-1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "nc:", err)
		return 1
	}
	go func() {
		io.Copy(c, os.Stdin)
		c.(*net.UnixConn).CloseWrite()
	}()
	io.Copy(os.Stdout, c)
	return 0
}

// script writes an executable shell script into dir.
func script(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte("#!/bin/sh\n"+body), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// fakeNC is an nc that is this test binary.
func fakeNC(t *testing.T, dir string) string {
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return script(t, dir, "nc", fmt.Sprintf("%s=1 exec '%s' \"$@\"\n", ncHelperEnv, self))
}

// fakeSSH is an ssh that writes its arguments, one a line, to DIR/ssh.args
// and runs the remote command here, as the remote login shell would.
func fakeSSH(t *testing.T, dir string) string {
	return script(t, dir, "ssh", fmt.Sprintf(`printf '%%s\n' "$@" > '%s/ssh.args'
for last; do :; done
exec /bin/sh -c "$last"
`, dir))
}

// fake is a migration destination: enough of the remote program for the
// calls a migration's source makes.
type fake struct {
	path    string // its socket
	noParam atomic.Bool
	auth    []libvirt.AuthType

	mu        sync.Mutex
	opened    []string
	cancelled []int32
	closed    int
	tunnel    bytes.Buffer
	finished  bool
}

func startFake(t *testing.T, configure func(*fake)) *fake {
	t.Helper()
	f := &fake{path: filepath.Join(t.TempDir(), "virtxend-sock"), auth: []libvirt.AuthType{remoteclient.AuthNone}}
	if configure != nil {
		configure(f)
	}
	srv := &rpc.Server{Name: "fake"}
	srv.Register(rpc.NewProgram(remoteclient.Program, remoteclient.Version, f.procs()...))
	ln, err := net.Listen("unix", f.path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return f
}

func (f *fake) procs() []*rpc.Procedure {
	type void = rpc.Void
	return []*rpc.Procedure{
		rpc.Proc(remoteclient.ProcAuthList, "AUTH_LIST", "", rpc.NoAuth, func(_ context.Context, c *rpc.Client, _ *void) (*libvirt.AuthListRet, error) {
			c.SetAuthenticated()
			return &libvirt.AuthListRet{Types: f.auth}, nil
		}),
		rpc.Proc(remoteclient.ProcConnectOpen, "CONNECT_OPEN", "", 0, func(_ context.Context, _ *rpc.Client, a *libvirt.ConnectOpenArgs) (*void, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.opened = append(f.opened, a.Name[0])
			return nil, nil
		}),
		rpc.Proc(remoteclient.ProcConnectClose, "CONNECT_CLOSE", "", 0, func(_ context.Context, c *rpc.Client, _ *void) (*void, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.closed++
			return nil, nil
		}),
		rpc.Proc(remoteclient.ProcConnectSupportsFeature, "CONNECT_SUPPORTS_FEATURE", "", 0, func(_ context.Context, c *rpc.Client, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
			ok := a.Feature == featureProgramKeepalive || a.Feature == featureMigrationParams && !f.noParam.Load()
			if ok {
				return &libvirt.ConnectSupportsFeatureRet{Supported: 1}, nil
			}
			return &libvirt.ConnectSupportsFeatureRet{}, nil
		}),
		rpc.Proc(procDomainMigratePrepare3Params, "DOMAIN_MIGRATE_PREPARE3_PARAMS", "", 0, f.prepare),
		rpc.StreamProc(procDomainMigratePrepareTunnel3Params, "DOMAIN_MIGRATE_PREPARE_TUNNEL3_PARAMS", "", 0, f.prepareTunnel),
		rpc.Proc(procDomainMigrateFinish3Params, "DOMAIN_MIGRATE_FINISH3_PARAMS", "", 0, func(_ context.Context, _ *rpc.Client, a *libvirt.DomainMigrateFinish3ParamsArgs) (*libvirt.DomainMigrateFinish3ParamsRet, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.cancelled = append(f.cancelled, a.Cancelled)
			if a.Cancelled != 0 {
				return nil, virerr.New(virerr.FromLibxl, libvirt.ErrOperationFailed, "migration cancelled")
			}
			return &libvirt.DomainMigrateFinish3ParamsRet{Dom: libvirt.Domain{Name: "g", ID: 3}}, nil
		}),
	}
}

// prepare answers by the destination name it is given: "nouri" sets no
// uri_out, "bad" fails, any other gets tcp://dst:49152.
func (f *fake) prepare(_ context.Context, _ *rpc.Client, a *libvirt.DomainMigratePrepare3ParamsArgs) (*libvirt.DomainMigratePrepare3ParamsRet, error) {
	name := ""
	for _, p := range a.Params {
		if p.Field == "destination_name" {
			name, _ = p.Value.I.(string)
		}
	}
	switch name {
	case "nouri":
		return &libvirt.DomainMigratePrepare3ParamsRet{CookieOut: []byte("c")}, nil
	case "bad":
		return nil, virerr.New(virerr.FromLibxl, libvirt.ErrOperationInvalid, "domain '%s' is already active", name)
	}
	return &libvirt.DomainMigratePrepare3ParamsRet{UriOut: libvirt.OptString{"tcp://dst:49152"}}, nil
}

func (f *fake) prepareTunnel(_ context.Context, _ *rpc.Client, a *libvirt.DomainMigratePrepareTunnel3ParamsArgs) (*rpc.Stream, error) {
	return &rpc.Stream{
		Ret:  &libvirt.DomainMigratePrepareTunnel3ParamsRet{},
		Sink: lockedWriter{f},
		Finish: func() error {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.finished = true
			return nil
		},
	}, nil
}

type lockedWriter struct{ f *fake }

func (w lockedWriter) Write(b []byte) (int, error) {
	w.f.mu.Lock()
	defer w.f.mu.Unlock()
	return w.f.tunnel.Write(b)
}

// relay is a TCP listener that passes each connection on to a Unix
// socket; stalled, it stops passing the server's answers back.
type relay struct {
	ln      net.Listener
	stalled atomic.Bool
}

func startRelay(t *testing.T, path string) *relay {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	r := &relay{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go r.pass(c, path)
		}
	}()
	return r
}

func (r *relay) port() int { return r.ln.Addr().(*net.TCPAddr).Port }

func (r *relay) pass(c net.Conn, path string) {
	defer c.Close()
	u, err := net.Dial("unix", path)
	if err != nil {
		return
	}
	defer u.Close()
	go func() {
		io.Copy(u, c)
		u.(*net.UnixConn).CloseWrite()
	}()
	buf := make([]byte, 64<<10)
	for {
		n, err := u.Read(buf)
		if n > 0 && !r.stalled.Load() {
			if _, err := c.Write(buf[:n]); err != nil {
				return
			}
		}
		if err != nil {
			return
		}
	}
}

func dial(t *testing.T, d *Dialer, uri string) *Peer {
	t.Helper()
	p, err := d.Dial(ctx, uri)
	if err != nil {
		t.Fatalf("Dial %s: %v", uri, err)
	}
	t.Cleanup(func() { p.Close() })
	return p.(*Peer)
}

func strParam(field, value string) libvirt.TypedParam {
	return libvirt.TypedParam{Field: field, Value: *libvirt.NewTypedParamValueString(value)}
}

// wantErr fails unless err is a libvirt error with msg as its message.
func wantErr(t *testing.T, what string, err error, code libvirt.ErrorNumber, domain virerr.Domain, msg string) {
	t.Helper()
	w := virerr.As(err).Wire()
	if err == nil || w.Code != code || w.Domain != domain || w.Message != msg {
		t.Errorf("%s: got %+v (%v), want %d/%d %q", what, w, err, code, domain, msg)
	}
}
