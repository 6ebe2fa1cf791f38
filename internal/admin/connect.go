package admin

import (
	"context"

	libvirt "github.com/digitalocean/go-libvirt"

	"virtxend/internal/buildinfo"
	"virtxend/internal/rpc"
	"virtxend/internal/virerr"
)

func (p *program) connectProcs() []*rpc.Procedure {
	return []*rpc.Procedure{
		rpc.Proc(ProcConnectOpen, "CONNECT_OPEN", "virAdmConnectOpen", 0, p.connectOpen),
		rpc.Proc(ProcConnectClose, "CONNECT_CLOSE", "virAdmConnectClose", 0, p.connectClose),
		rpc.Proc(ProcConnectGetLibVersion, "CONNECT_GET_LIB_VERSION", "virAdmConnectGetLibVersion", 0, p.getLibVersion),
		rpc.Proc(ProcConnectListServers, "CONNECT_LIST_SERVERS", "virAdmConnectListServers", 0, p.listServers),
		rpc.Proc(ProcConnectLookupServer, "CONNECT_LOOKUP_SERVER", "virAdmConnectLookupServer", 0, p.lookupServerProc),
	}
}

// connectOpen only checks flags: an admin connection has no state to open.
func (p *program) connectOpen(_ context.Context, _ *rpc.Client, a *FlagsArgs) (*rpc.Void, error) {
	return nil, checkFlags(a.Flags, 0, "adminDispatchConnectOpen")
}

// connectClose replies, then closes the socket, as libvirt does.
func (p *program) connectClose(_ context.Context, c *rpc.Client, _ *rpc.Void) (*rpc.Void, error) {
	c.DelayedClose()
	return nil, nil
}

func (p *program) getLibVersion(context.Context, *rpc.Client, *rpc.Void) (*LibVersionRet, error) {
	return &LibVersionRet{LibVer: buildinfo.LibVersion}, nil
}

// listServers returns the count always and the names when asked, as the
// generated dispatcher does.
func (p *program) listServers(_ context.Context, _ *rpc.Client, a *ListServersArgs) (*ListServersRet, error) {
	if err := checkFlags(a.Flags, 0, "adminConnectListServers"); err != nil {
		return nil, err
	}
	names := p.serverNames()
	if len(names) > serverListMax {
		return nil, virerr.New(virerr.FromAdmin, libvirt.ErrInternalError,
			"Too many servers '%d' for limit '%d'", len(names), serverListMax)
	}
	ret := &ListServersRet{Ret: uint32(len(names))}
	if a.NeedResults != 0 {
		for _, n := range names {
			ret.Servers = append(ret.Servers, Server{Name: n})
		}
	}
	return ret, nil
}

// lookupServerProc accepts any flags: libvirt's adminConnectLookupServer
// checks flags against themselves.
func (p *program) lookupServerProc(_ context.Context, _ *rpc.Client, a *LookupServerArgs) (*LookupServerRet, error) {
	s, err := p.lookupServer(a.Name)
	if err != nil {
		return nil, err
	}
	return &LookupServerRet{Srv: Server{Name: s.Name}}, nil
}
