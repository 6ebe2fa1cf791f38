package remote

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/buildinfo"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

// Feature numbers of virConnectSupportsFeature that the daemon decides.
const (
	featureRemote              = 2
	featureMigrationV1         = 1
	featureMigrationV2         = 3
	featureMigrationP2P        = 4
	featureMigrationDirect     = 5
	featureMigrationV3         = 6
	featureMigrateChangeProt   = 7
	featureFDPassing           = 8
	featureTypedParamString    = 9
	featureProgramKeepalive    = 10
	featureMigrationParams     = 13
	featureRemoteEventCallback = 14
	featureRemoteCloseCallback = 15
	featureNetworkUpdateOrder  = 16
)

// supportedFeatures are the features answered 1; any other is 0.
var supportedFeatures = map[int32]bool{
	featureFDPassing: true, featureTypedParamString: true, featureProgramKeepalive: true,
	featureRemoteEventCallback: true, featureRemoteCloseCallback: true, featureNetworkUpdateOrder: true,
	featureMigrationV3: true, featureMigrationParams: true, featureMigrationP2P: true,
	featureMigrateChangeProt: true,
}

func (p *program) connectProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Handle(procAuthList, p.authList),
		rpc.Handle(procConnectOpen, p.connectOpen),
		rpc.Handle(procConnectClose, p.connectClose),
		rpc.Handle(procConnectSupportsFeature, p.supportsFeature),
		rpc.Handle(procConnectGetURI, p.getURI),
		inline(rpc.Handle(procConnectGetType, p.getType)),
		inline(rpc.Handle(procConnectGetLibVersion, p.getLibVersion)),
		rpc.Handle(procConnectIsSecure, p.isSecure),
		rpc.Handle(procConnectRegisterCloseCallback, p.registerCloseCallback),
		rpc.Handle(procConnectUnregisterCloseCallback, p.unregisterCloseCallback),
	}
}

// authList offers "none", the only scheme this daemon has: the client is
// already authenticated on every socket.
func (p *program) authList(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.AuthListRet, error) {
	return &libvirt.AuthListRet{Types: []libvirt.AuthType{0}}, nil
}

func (p *program) connectOpen(_ context.Context, c *rpc.Client, a *libvirt.ConnectOpenArgs) (*rpc.Void, error) {
	cn := connOf(c)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if cn.open {
		// libvirt also drops the open connection here; we keep it.
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "connection already open")
	}
	if len(a.Name) == 0 {
		return nil, virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "connection not open")
	}
	uri, err := resolveURI(a.Name[0])
	if err != nil {
		return nil, err
	}
	if a.Flags&libvirt.ConnectRo != 0 {
		c.SetReadOnly()
	}
	cn.open, cn.uri = true, uri
	return nil, nil
}

// connectClose replies, then closes the socket, as libvirt does.
func (p *program) connectClose(_ context.Context, c *rpc.Client, _ *rpc.Void) (*rpc.Void, error) {
	cn := connOf(c)
	cn.mu.Lock()
	cn.open = false
	cn.mu.Unlock()
	c.DelayedClose()
	return nil, nil
}

func (p *program) supportsFeature(_ context.Context, c *rpc.Client, a *libvirt.ConnectSupportsFeatureArgs) (*libvirt.ConnectSupportsFeatureRet, error) {
	if a.Feature == featureProgramKeepalive {
		// Asking is consent: only now may the server PING this client.
		c.StartKeepalive()
		return &libvirt.ConnectSupportsFeatureRet{Supported: 1}, nil
	}
	if !connOf(c).isOpen() {
		return nil, errNotOpen()
	}
	ret := &libvirt.ConnectSupportsFeatureRet{}
	if supportedFeatures[a.Feature] {
		ret.Supported = 1
	}
	return ret, nil
}

func (p *program) getURI(_ context.Context, c *rpc.Client, _ *rpc.Void) (*libvirt.ConnectGetUriRet, error) {
	cn := connOf(c)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	return &libvirt.ConnectGetUriRet{Uri: cn.uri}, nil
}

func (p *program) getType(context.Context, *rpc.Client, *rpc.Void) (*libvirt.ConnectGetTypeRet, error) {
	return &libvirt.ConnectGetTypeRet{Type: "Xen"}, nil
}

func (p *program) getLibVersion(context.Context, *rpc.Client, *rpc.Void) (*libvirt.ConnectGetLibVersionRet, error) {
	return &libvirt.ConnectGetLibVersionRet{LibVer: buildinfo.LibVersion}, nil
}

// isSecure is 1: a local Unix socket cannot be eavesdropped.
func (p *program) isSecure(context.Context, *rpc.Client, *rpc.Void) (*libvirt.ConnectIsSecureRet, error) {
	return &libvirt.ConnectIsSecureRet{Secure: 1}, nil
}

func (p *program) registerCloseCallback(_ context.Context, c *rpc.Client, _ *rpc.Void) (*rpc.Void, error) {
	return nil, setCloseCallback(c, true)
}

func (p *program) unregisterCloseCallback(_ context.Context, c *rpc.Client, _ *rpc.Void) (*rpc.Void, error) {
	return nil, setCloseCallback(c, false)
}

func setCloseCallback(c *rpc.Client, on bool) error {
	cn := connOf(c)
	cn.mu.Lock()
	defer cn.mu.Unlock()
	if on && cn.closeCB {
		return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "a close callback is already registered")
	}
	if !on && !cn.closeCB {
		return virerr.New(virerr.FromRPC, libvirt.ErrInternalError, "no close callback is registered")
	}
	cn.closeCB = on
	return nil
}
