// Package remoteclient is libvirt's remote program from the client's
// side, as libvirt's remote driver (src/remote/remote_driver.c) speaks
// it: reaching a daemon's Unix socket, the calls that open a connection
// (AUTH_LIST, CONNECT_OPEN, CONNECT_SUPPORTS_FEATURE), typed calls with
// go-libvirt's argument and reply structs encoded by internal/xdr over
// rpc.Conn, and failures worded as libvirt's client words them. The
// daemon's clients of other libvirt daemons share it: internal/libvirtd
// (network, storage, secret) and internal/peer (a migration's
// destination).
package remoteclient

import (
	"context"
	"errors"
	"log/slog"
	"syscall"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
	"virtxend/internal/xdr"
)

// AuthNone is REMOTE_AUTH_NONE: no authentication step is needed.
const AuthNone = 0

// DialUnix connects to the libvirt daemon listening on the Unix socket
// path; onMessage, if not nil, receives its event messages.
func DialUnix(ctx context.Context, path string, log *slog.Logger, onMessage func(rpc.Header, []byte)) (*rpc.Conn, error) {
	conn, err := rpc.Dial(ctx, path, log, onMessage)
	if err != nil {
		return nil, connectError(path, err)
	}
	return conn, nil
}

// connectError is virNetSocketNewConnectUNIX's system error for a socket
// that could not be reached.
func connectError(path string, err error) error {
	var errno syscall.Errno
	if !errors.As(err, &errno) {
		errno = syscall.ECONNREFUSED
	}
	return virerr.System(virerr.FromRPC, errno, "Failed to connect socket to '%s'", path)
}

// Authenticate is remoteAuthenticate for a client that has no
// authentication scheme but none: AUTH_LIST, which lets root through on
// a polkit socket, and an error if the server asks for one (SASL, or
// polkit for others), as a libvirt built without SASL reports it.
func Authenticate(ctx context.Context, conn *rpc.Conn) error {
	var auth libvirt.AuthListRet
	if err := Invoke(ctx, conn, ProcAuthList, nil, &auth); err != nil {
		return err
	}
	if len(auth.Types) > 0 && auth.Types[0] != AuthNone {
		return virerr.New(virerr.FromRemote, libvirt.ErrAuthFailed, "unsupported authentication type %d", auth.Types[0])
	}
	return nil
}

// Open is CONNECT_OPEN of the driver URI name ("xen:///system"), with
// libvirt.ConnectRo in flags for a read-only connection.
func Open(ctx context.Context, conn *rpc.Conn, name string, flags libvirt.ConnectFlags) error {
	return Invoke(ctx, conn, ProcConnectOpen, &libvirt.ConnectOpenArgs{Name: libvirt.OptString{name}, Flags: flags}, nil)
}

// SupportsFeature is CONNECT_SUPPORTS_FEATURE: whether the server's
// driver has the VIR_DRV_FEATURE_* feature.
func SupportsFeature(ctx context.Context, conn *rpc.Conn, feature int32) (bool, error) {
	var r libvirt.ConnectSupportsFeatureRet
	err := Invoke(ctx, conn, ProcConnectSupportsFeature, &libvirt.ConnectSupportsFeatureArgs{Feature: feature}, &r)
	return r.Supported != 0, err
}

// Invoke makes one call of the remote program's procedure proc: args and
// ret are go-libvirt's structs for it (nil for none).
func Invoke(ctx context.Context, conn *rpc.Conn, proc uint32, args, ret any) error {
	_, err := invoke(ctx, conn, proc, args, ret, false)
	return err
}

// InvokeStream is Invoke for a procedure whose call opens a data stream
// (a tunnelled migration, a volume upload): the stream comes back with
// the reply.
func InvokeStream(ctx context.Context, conn *rpc.Conn, proc uint32, args, ret any) (*rpc.ClientStream, error) {
	return invoke(ctx, conn, proc, args, ret, true)
}

func invoke(ctx context.Context, conn *rpc.Conn, proc uint32, args, ret any, stream bool) (*rpc.ClientStream, error) {
	var body []byte
	if args != nil {
		var err error
		if body, err = xdr.Marshal(args); err != nil {
			return nil, virerr.Wrap(err, virerr.FromRPC, libvirt.ErrRPC, "cannot encode the arguments of procedure %d: %v", proc, err)
		}
	}
	var r rpc.Reply
	var st *rpc.ClientStream
	var err error
	if stream {
		r, st, err = conn.CallStream(ctx, Program, Version, proc, body)
	} else {
		r, err = conn.Call(ctx, Program, Version, proc, body)
	}
	if err != nil {
		return nil, CallError(err)
	}
	if ret != nil {
		if err := xdr.Unmarshal(r.Body, ret); err != nil {
			if st != nil {
				st.Abort()
			}
			return nil, virerr.Wrap(err, virerr.FromRPC, libvirt.ErrRPC, "cannot decode the reply of procedure %d: %v", proc, err)
		}
	}
	return st, nil
}

// CallError is a failed call's error as libvirt's client reports it: the
// daemon's own error as it came (or a transport's own account of its
// end), a connection that ended or failed as virNetSocketReadWire says
// it, a server gone silent as virKeepAliveTimer's timeout.
func CallError(err error) error {
	var e *virerr.Error
	var errno syscall.Errno
	switch {
	case errors.As(err, &e):
		return e
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return err
	case errors.Is(err, rpc.ErrKeepaliveTimeout):
		return virerr.Wrap(err, virerr.FromRPC, libvirt.ErrInternalError, "connection closed due to keepalive timeout")
	case errors.Is(err, rpc.ErrConnClosed) && errors.As(err, &errno):
		return virerr.System(virerr.FromRPC, errno, "Cannot recv data")
	case errors.Is(err, rpc.ErrConnClosed):
		return virerr.System(virerr.FromRPC, syscall.EIO, "End of file while reading data")
	}
	return virerr.System(virerr.FromRPC, err, "Cannot write data")
}
