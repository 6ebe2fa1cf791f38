package remoteclient

import (
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"syscall"
	"testing"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

var ctx = context.Background()

// serve runs a server with procs on a socket in a temporary directory and
// returns a connection to it.
func serve(t *testing.T, procs ...*rpc.Procedure) *rpc.Conn {
	t.Helper()
	srv := &rpc.Server{Name: "fake"}
	srv.Register(rpc.NewProgram(Program, Version, procs...))
	path := filepath.Join(t.TempDir(), "sock")
	ln, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	conn, err := DialUnix(ctx, path, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func authList(types ...libvirt.AuthType) *rpc.Procedure {
	return rpc.Proc(ProcAuthList, "AUTH_LIST", "", rpc.NoAuth, func(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.AuthListRet, error) {
		c.SetAuthenticated()
		return &libvirt.AuthListRet{Types: types}, nil
	})
}

// TestOpen: AUTH_LIST offering none, CONNECT_OPEN of the name, and the
// features the server answers.
func TestOpen(t *testing.T) {
	opened := make(chan string, 1)
	conn := serve(t, authList(AuthNone),
		rpc.Proc(ProcConnectOpen, "CONNECT_OPEN", "", 0, func(_ context.Context, _ *rpc.Client, a *libvirt.ConnectOpenArgs) (*rpc.Void, error) {
			opened <- a.Name[0]
			return nil, nil
		}),
		rpc.Proc(ProcConnectSupportsFeature, "CONNECT_SUPPORTS_FEATURE", "", 0, func(_ context.Context, _ *rpc.Client, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
			if a.Feature == 13 {
				return &libvirt.ConnectSupportsFeatureRet{Supported: 1}, nil
			}
			return &libvirt.ConnectSupportsFeatureRet{}, nil
		}))
	if err := Authenticate(ctx, conn); err != nil {
		t.Fatal(err)
	}
	if err := Open(ctx, conn, "xen:///system", 0); err != nil {
		t.Fatal(err)
	}
	if name := <-opened; name != "xen:///system" {
		t.Fatalf("opened %q", name)
	}
	for feature, want := range map[int32]bool{13: true, 5: false} {
		if got, err := SupportsFeature(ctx, conn, feature); got != want || err != nil {
			t.Errorf("feature %d: %v %v", feature, got, err)
		}
	}
}

// TestAuthenticateRefusesSASL: a server asking for SASL is refused as a
// libvirt built without SASL refuses it.
func TestAuthenticateRefusesSASL(t *testing.T) {
	conn := serve(t, authList(1))
	w := virerr.As(Authenticate(ctx, conn)).Wire()
	if w.Code != libvirt.ErrAuthFailed || w.Domain != virerr.FromRemote || w.Message != "authentication failed: unsupported authentication type 1" {
		t.Fatalf("%+v", w)
	}
}

// TestDialUnixMissing: the socket's system error, as libvirt's client
// words it.
func TestDialUnixMissing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "none")
	_, err := DialUnix(ctx, path, nil, nil)
	w := virerr.As(err).Wire()
	if w.Code != libvirt.ErrSystemError || w.Domain != virerr.FromRPC || w.Message != "Failed to connect socket to '"+path+"': No such file or directory" {
		t.Fatalf("%+v", w)
	}
}

type sshSaid struct{}

func (sshSaid) Error() string { return "ssh said" }

func TestCallError(t *testing.T) {
	relayed := virerr.Relayed(virerr.Wire{Code: libvirt.ErrNoDomain, Domain: 10, Message: "Domain not found"})
	explained := virerr.System(virerr.FromRPC, syscall.EIO, "End of file while reading data: ssh: no route")
	for _, c := range []struct {
		err  error
		want string
	}{
		{relayed, "Domain not found"},
		{fmt.Errorf("%w: %w", rpc.ErrConnClosed, explained), "End of file while reading data: ssh: no route: Input/output error"},
		{fmt.Errorf("%w: %w", rpc.ErrConnClosed, sshSaid{}), "End of file while reading data: Input/output error"},
		{fmt.Errorf("%w: %w", rpc.ErrConnClosed, &net.OpError{Op: "read", Err: syscall.ECONNRESET}), "Cannot recv data: Connection reset by peer"},
		{rpc.ErrKeepaliveTimeout, "internal error: connection closed due to keepalive timeout"},
		{syscall.EPIPE, "Cannot write data: Broken pipe"},
	} {
		if got := CallError(c.err); got.Error() != c.want {
			t.Errorf("%v: got %q, want %q", c.err, got, c.want)
		}
	}
	if err := CallError(context.Canceled); !errors.Is(err, context.Canceled) {
		t.Errorf("canceled: %v", err)
	}
}
